package tlsconfig

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority made at run time.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

var serial struct {
	mu sync.Mutex
	n  int64
}

func nextSerial() *big.Int {
	serial.mu.Lock()
	defer serial.mu.Unlock()
	serial.n++
	return big.NewInt(serial.n)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issued is a leaf certificate with its key, in PEM and ready-to-use forms.
type issued struct {
	certPEM, keyPEM []byte
	leaf            *x509.Certificate
	tls             tls.Certificate
}

// issue signs a leaf for cn; server leaves get 127.0.0.1 as their IP SAN.
func (ca *testCA) issue(t *testing.T, cn string, server bool, notAfter time.Time) issued {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-2 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	if out.leaf, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	if out.tls, err = tls.X509KeyPair(out.certPEM, out.keyPEM); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeAtomic replaces path the way careful tools do, so a poll never sees a
// half-written file unless a test means it to.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type files struct{ cert, key, ca string }

func writeFiles(t *testing.T, dir string, server issued, caPEM []byte) files {
	t.Helper()
	f := files{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key"), ca: filepath.Join(dir, "ca.crt")}
	writeAtomic(t, f.cert, server.certPEM)
	writeAtomic(t, f.key, server.keyPEM)
	writeAtomic(t, f.ca, caPEM)
	return f
}

// serve runs a real net/http HTTPS server with cfg on loopback; the handler
// names the verified client certificate, if any.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name := "anonymous"
			if len(r.TLS.VerifiedChains) > 0 {
				name = r.TLS.VerifiedChains[0][0].Subject.CommonName
			}
			_, _ = io.WriteString(w, "hello "+name)
		}),
		TLSConfig: cfg,
		// Refused handshakes are the point of several tests.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

type clientOpts struct {
	cert       *tls.Certificate
	minVersion uint16
	maxVersion uint16
	suites     []uint16
}

// get makes one request on a fresh connection and returns the body, the
// server's leaf certificate and the negotiated HTTP major version.
func get(t *testing.T, url string, roots *x509.CertPool, o clientOpts) (string, *x509.Certificate, int, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: roots, MinVersion: o.minVersion, MaxVersion: o.maxVersion, CipherSuites: o.suites}
	if o.cert != nil {
		// Send the certificate whatever CAs the server asks for: Go's
		// default would withhold one the server does not name, and the point
		// is to see the server verify it.
		cert := o.cert
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, 0, err
	}
	return string(body), resp.TLS.PeerCertificates[0], resp.ProtoMajor, nil
}

func TestMutualTLSMatrix(t *testing.T) {
	ca := newCA(t, "o2ims-test-ca")
	otherCA := newCA(t, "other-ca")
	server := ca.issue(t, "o2ims", true, time.Now().Add(time.Hour))
	good := ca.issue(t, "smo", false, time.Now().Add(time.Hour))
	foreign := otherCA.issue(t, "intruder", false, time.Now().Add(time.Hour))
	selfSigned := newCA(t, "self-signed").asLeaf()
	f := writeFiles(t, t.TempDir(), server, ca.pem)

	tls11 := clientOpts{minVersion: tls.VersionTLS10, maxVersion: tls.VersionTLS11}
	cbcOnly := clientOpts{maxVersion: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}

	type tc struct {
		name     string
		client   clientOpts
		wantBody string // "" means the handshake must fail
		// wantErr is the TLS alert expected where it is deterministic; a
		// rejected certificate can also surface as a reset or broken pipe,
		// depending on which side notices first.
		wantErr string
	}
	withCert := func(c *tls.Certificate, o clientOpts) clientOpts { o.cert = c; return o }

	modes := []struct {
		name    string
		opts    Options
		clients []tc
	}{
		{"required", Options{ClientCAFile: f.ca, RequireClientCert: true}, []tc{
			{"no client cert", clientOpts{}, "", ""},
			{"cert from another CA", withCert(&foreign.tls, clientOpts{}), "", ""},
			{"self-signed cert", withCert(&selfSigned, clientOpts{}), "", ""},
			{"good cert", withCert(&good.tls, clientOpts{}), "hello smo", ""},
			{"good cert, TLS 1.2", withCert(&good.tls, clientOpts{maxVersion: tls.VersionTLS12}), "hello smo", ""},
			{"good cert, TLS 1.1", withCert(&good.tls, tls11), "", "protocol version not supported"},
			{"good cert, TLS 1.2 CBC suite only", withCert(&good.tls, cbcOnly), "", "handshake failure"},
		}},
		{"verified if given", Options{ClientCAFile: f.ca}, []tc{
			{"no client cert", clientOpts{}, "hello anonymous", ""},
			{"cert from another CA", withCert(&foreign.tls, clientOpts{}), "", ""},
			{"good cert", withCert(&good.tls, clientOpts{}), "hello smo", ""},
		}},
		{"no client CA", Options{}, []tc{
			{"no client cert", clientOpts{}, "hello anonymous", ""},
			{"TLS 1.1", tls11, "", "protocol version not supported"},
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			opts := mode.opts
			opts.CertFile, opts.KeyFile = f.cert, f.key
			r, err := New(opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			url := serve(t, r.TLSConfig())
			for _, c := range mode.clients {
				body, leaf, proto, err := get(t, url, ca.pool(), c.client)
				if c.wantBody == "" {
					if err == nil {
						t.Errorf("%s: accepted (%q), want refused", c.name, body)
					} else if c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr) {
						t.Errorf("%s: refused with %v, want %q", c.name, err, c.wantErr)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					continue
				}
				if body != c.wantBody || leaf.SerialNumber.Cmp(server.leaf.SerialNumber) != 0 {
					t.Errorf("%s: body %q serial %v", c.name, body, leaf.SerialNumber)
				}
				if c.client.maxVersion == 0 && proto != 2 {
					t.Errorf("%s: HTTP/%d, want HTTP/2 via ALPN", c.name, proto)
				}
			}
		})
	}
}

// asLeaf presents the CA's own self-signed certificate as a client
// certificate, as a client with no CA behind it would.
func (ca *testCA) asLeaf() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{ca.cert.Raw}, PrivateKey: ca.key, Leaf: ca.cert}
}

func TestTLSConfigSettings(t *testing.T) {
	ca := newCA(t, "ca")
	f := writeFiles(t, t.TempDir(), ca.issue(t, "s", true, time.Now().Add(time.Hour)), ca.pem)
	for _, c := range []struct {
		opts Options
		want tls.ClientAuthType
	}{
		{Options{}, tls.NoClientCert},
		{Options{ClientCAFile: f.ca}, tls.VerifyClientCertIfGiven},
		{Options{ClientCAFile: f.ca, RequireClientCert: true}, tls.RequireAndVerifyClientCert},
	} {
		c.opts.CertFile, c.opts.KeyFile = f.cert, f.key
		r, err := New(c.opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := r.TLSConfig()
		if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != c.want || cfg.GetCertificate == nil {
			t.Errorf("config %+v", cfg)
		}
		if (cfg.GetConfigForClient != nil) != (c.opts.ClientCAFile != "") {
			t.Errorf("GetConfigForClient set = %v", cfg.GetConfigForClient != nil)
		}
		for _, id := range cfg.CipherSuites {
			name := tls.CipherSuiteName(id)
			if !strings.HasPrefix(name, "TLS_ECDHE_") || !(strings.Contains(name, "GCM") || strings.Contains(name, "CHACHA20")) {
				t.Errorf("weak suite %s", name)
			}
		}
		if cfg.GetConfigForClient != nil {
			per, _ := cfg.GetConfigForClient(nil)
			if per.ClientAuth != c.want || per.ClientCAs == nil || per.MinVersion != tls.VersionTLS12 || per.GetConfigForClient != nil {
				t.Errorf("per-handshake config %+v", per)
			}
		}
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	ca := newCA(t, "ca")
	dir := t.TempDir()
	server := ca.issue(t, "s", true, time.Now().Add(time.Hour))
	other := ca.issue(t, "t", true, time.Now().Add(time.Hour))
	expired := ca.issue(t, "old", true, time.Now().Add(-time.Minute))
	f := writeFiles(t, dir, server, ca.pem)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		writeAtomic(t, p, data)
		return p
	}
	truncated := append(append([]byte{}, ca.pem...), newCA(t, "ca2").pem[:100]...)
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"no files", Options{}, "CertFile and KeyFile are required"},
		{"require without CA", Options{CertFile: f.cert, KeyFile: f.key, RequireClientCert: true}, "needs ClientCAFile"},
		{"negative interval", Options{CertFile: f.cert, KeyFile: f.key, ReloadInterval: -1}, "must not be negative"},
		{"missing cert file", Options{CertFile: filepath.Join(dir, "nope"), KeyFile: f.key}, "no such file"},
		{"key of another cert", Options{CertFile: f.cert, KeyFile: write("other.key", other.keyPEM)}, "private key does not match"},
		{"garbage cert", Options{CertFile: write("garbage.crt", []byte("not a cert")), KeyFile: f.key}, "certificate"},
		{"expired cert", Options{CertFile: write("old.crt", expired.certPEM), KeyFile: write("old.key", expired.keyPEM)}, "expired"},
		{"empty CA bundle", Options{CertFile: f.cert, KeyFile: f.key, ClientCAFile: write("empty.pem", nil)}, "no certificates"},
		{"truncated CA bundle", Options{CertFile: f.cert, KeyFile: f.key, ClientCAFile: write("trunc.pem", truncated)}, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.opts, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

// logRecorder is a slog handler that keeps messages, so a test can wait for
// Run to have handled a change instead of sleeping.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReload(t *testing.T) {
	ca := newCA(t, "ca")
	otherCA := newCA(t, "other-ca")
	first := ca.issue(t, "first", true, time.Now().Add(time.Hour))
	second := ca.issue(t, "second", true, time.Now().Add(time.Hour))
	third := ca.issue(t, "third", true, time.Now().Add(time.Hour))
	expired := ca.issue(t, "expired", true, time.Now().Add(-time.Minute))
	client := ca.issue(t, "smo", false, time.Now().Add(time.Hour))
	foreignClient := otherCA.issue(t, "partner", false, time.Now().Add(time.Hour))
	f := writeFiles(t, t.TempDir(), first, ca.pem)

	logs := &logRecorder{}
	r, err := New(Options{
		CertFile: f.cert, KeyFile: f.key, ClientCAFile: f.ca, RequireClientCert: true,
		ReloadInterval: 10 * time.Millisecond,
	}, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	url := serve(t, r.TLSConfig())
	served := func(o clientOpts) (*x509.Certificate, error) {
		_, leaf, _, err := get(t, url, ca.pool(), o)
		return leaf, err
	}
	servesSerial := func(want *x509.Certificate) func() bool {
		return func() bool {
			leaf, err := served(clientOpts{cert: &client.tls})
			return err == nil && leaf.SerialNumber.Cmp(want.SerialNumber) == 0
		}
	}
	if !servesSerial(first.leaf)() {
		t.Fatal("first certificate not served")
	}

	// A renewed certificate and key are picked up.
	writeAtomic(t, f.cert, second.certPEM)
	writeAtomic(t, f.key, second.keyPEM)
	eventually(t, "the second certificate", servesSerial(second.leaf))

	// Broken replacements are logged and the working certificate kept.
	broken := []struct {
		name      string
		cert, key []byte
	}{
		{"garbage certificate", []byte("-----BEGIN CERTIFICATE-----\nnope\n"), second.keyPEM},
		{"certificate without its key", third.certPEM, second.keyPEM},
		{"expired certificate", expired.certPEM, expired.keyPEM},
	}
	for _, b := range broken {
		before := logs.count("tls reload failed")
		writeAtomic(t, f.cert, b.cert)
		writeAtomic(t, f.key, b.key)
		eventually(t, b.name+" to be rejected", func() bool { return logs.count("tls reload failed") > before })
		if !servesSerial(second.leaf)() {
			t.Fatalf("%s: the previous certificate is no longer served", b.name)
		}
	}
	if r.Certificate().SerialNumber.Cmp(second.leaf.SerialNumber) != 0 {
		t.Fatal("Certificate() does not report the served certificate")
	}

	// Fixing the files recovers.
	writeAtomic(t, f.cert, third.certPEM)
	writeAtomic(t, f.key, third.keyPEM)
	eventually(t, "the third certificate", servesSerial(third.leaf))

	// Client CA rotation: trust moves from ca to otherCA.
	if _, err := served(clientOpts{cert: &foreignClient.tls}); err == nil {
		t.Fatal("client of the other CA accepted before rotation")
	}
	writeAtomic(t, f.ca, otherCA.pem)
	eventually(t, "the rotated client CA", func() bool {
		_, err := served(clientOpts{cert: &foreignClient.tls})
		return err == nil
	})
	if _, err := served(clientOpts{cert: &client.tls}); err == nil {
		t.Fatal("client of the retired CA still accepted")
	}

	// A broken CA bundle keeps the current pool.
	before := logs.count("tls reload failed")
	writeAtomic(t, f.ca, []byte("garbage"))
	eventually(t, "the broken CA bundle to be rejected", func() bool { return logs.count("tls reload failed") > before })
	if _, err := served(clientOpts{cert: &foreignClient.tls}); err != nil {
		t.Fatalf("current client CA lost after a broken bundle: %v", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ca := newCA(t, "ca")
	f := writeFiles(t, t.TempDir(), ca.issue(t, "s", true, time.Now().Add(time.Hour)), ca.pem)
	r, err := New(Options{CertFile: f.cert, KeyFile: f.key, ReloadInterval: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal(errors.New("Run did not return after cancel"))
	}
}
