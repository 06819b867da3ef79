package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// issuer is a real OIDC issuer on loopback: discovery and JWKS over HTTPS,
// with a key generated per test run.
type issuer struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	caFile string
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	is.caFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	writePEM(t, is.caFile, "CERTIFICATE", is.srv.Certificate().Raw)
	return is
}

// token mints a token for audience o2ims with the given claims added.
func (is *issuer) token(t testing.TB, extra map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{"iss": is.srv.URL, "aud": "o2ims", "sub": "smo", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAuthentication runs the binary with OIDC authentication on.
func TestAuthentication(t *testing.T) {
	is := newIssuer(t)
	s := start(t, "--data-dir", t.TempDir(), "--local-provider=false",
		"--oidc-issuer-url", is.srv.URL, "--oidc-ca-file", is.caFile, "--oidc-audience", "o2ims",
		"--oidc-role-claims", "realm_access.roles", "--oidc-role-mapping", "o2-admin=o2ims:read+o2ims:write")

	check := func(name, token, method, path string, want int) http.Header {
		t.Helper()
		s.token = token
		status, h, body := s.do(t, method, path)
		if status != want {
			t.Errorf("%s: %s %s = %d, want %d: %s", name, method, path, status, want, body)
		}
		if strings.Contains(string(body), token) && token != "" {
			t.Errorf("%s: the token is echoed in the response", name)
		}
		return h
	}
	h := check("no token", "", "GET", inv+"/v1", 401)
	if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge: %q", h.Get("WWW-Authenticate"))
	}
	h = check("garbage token", "not-a-jwt", "GET", inv+"/v1", 401)
	if !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("invalid token challenge: %q", h.Get("WWW-Authenticate"))
	}
	read := is.token(t, map[string]any{"scope": "openid o2ims:read"})
	check("read scope", read, "GET", inv+"/v1", 200)
	check("read scope on a write", read, "DELETE", inv+"/v1/subscriptions/00000000-0000-4000-8000-000000000000", 403)
	write := is.token(t, map[string]any{"scope": "o2ims:write o2ims:read"})
	check("write scope", write, "DELETE", inv+"/v1/subscriptions/00000000-0000-4000-8000-000000000000", 404)
	admin := is.token(t, map[string]any{"realm_access": map[string]any{"roles": []string{"o2-admin"}}})
	check("role mapping", admin, "DELETE", inv+"/v1/subscriptions/00000000-0000-4000-8000-000000000000", 404)
	expired := is.token(t, map[string]any{"scope": "o2ims:read", "exp": time.Now().Add(-time.Hour).Unix()})
	check("expired", expired, "GET", inv+"/v1", 401)
	wrongAud := is.token(t, map[string]any{"scope": "o2ims:read", "aud": "someone-else"})
	check("wrong audience", wrongAud, "GET", inv+"/v1", 401)
	check("public health", "", "GET", "/healthz", 200)
	check("public metrics", "", "GET", "/metrics", 200)
	s.token = ""
	s.stop(t)
}

// TestUnauthenticatedExposureRefused: without authentication the server
// refuses a non-loopback address unless told otherwise.
func TestUnauthenticatedExposureRefused(t *testing.T) {
	out, err := exec.Command(binary, "serve", "--listen", "0.0.0.0:0", "--agent-listen=", "--data-dir", t.TempDir(), "--local-provider=false").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--insecure-allow-unauthenticated") {
		t.Fatalf("expected refusal naming the override, got %v: %s", err, out)
	}
}

// certs is a CA with a server and a client certificate, on disk.
type certs struct {
	dir                           string
	ca                            *x509.Certificate
	caKey                         *ecdsa.PrivateKey
	caFile, serverCert, serverKey string
	clientPair, strangerPair      tls.Certificate
}

func newCerts(t testing.TB) *certs {
	t.Helper()
	c := &certs{dir: t.TempDir()}
	c.ca, c.caKey = makeCA(t, "test CA")
	c.caFile = filepath.Join(c.dir, "ca.pem")
	writePEM(t, c.caFile, "CERTIFICATE", c.ca.Raw)
	srvDER, srvKey := leaf(t, c.ca, c.caKey, "server", x509.ExtKeyUsageServerAuth)
	c.serverCert, c.serverKey = filepath.Join(c.dir, "server.pem"), filepath.Join(c.dir, "server-key.pem")
	writePEM(t, c.serverCert, "CERTIFICATE", srvDER)
	kb, _ := x509.MarshalECPrivateKey(srvKey)
	writePEM(t, c.serverKey, "EC PRIVATE KEY", kb)
	cliDER, cliKey := leaf(t, c.ca, c.caKey, "client", x509.ExtKeyUsageClientAuth)
	c.clientPair = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	other, otherKey := makeCA(t, "other CA")
	strDER, strKey := leaf(t, other, otherKey, "stranger", x509.ExtKeyUsageClientAuth)
	c.strangerPair = tls.Certificate{Certificate: [][]byte{strDER}, PrivateKey: strKey}
	return c
}

func makeCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func leaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
		KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// TestMutualTLS serves HTTPS with client certificates required.
func TestMutualTLS(t *testing.T) {
	c := newCerts(t)
	pool := x509.NewCertPool()
	pool.AddCert(c.ca)
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
	}
	s := startWith(t, client(c.clientPair), "https", "--data-dir", t.TempDir(), "--local-provider=false",
		"--tls-cert-file", c.serverCert, "--tls-key-file", c.serverKey, "--tls-client-ca-file", c.caFile)
	if status, h, _ := s.get(t, inv+"/v1"); status != 200 || h.Get("Strict-Transport-Security") == "" {
		t.Fatalf("good client certificate: %d, HSTS %q", status, h.Get("Strict-Transport-Security"))
	}
	for name, cl := range map[string]*http.Client{"no certificate": client(), "other CA": client(c.strangerPair)} {
		resp, err := cl.Get(s.base + inv + "/v1")
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: accepted with %d", name, resp.StatusCode)
		}
	}
	s.stop(t)
}

// TestProviderCredentialsConfined: a provider registered through the API
// reaches no file of the server outside the provider credentials
// directory, runs no program, and the answers tell nothing of what
// exists outside.
func TestProviderCredentialsConfined(t *testing.T) {
	t.Setenv("O2IMS_SECRETS_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	credDir := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	inside := "apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n" +
		"clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: abc}}]\n"
	if err := os.WriteFile(filepath.Join(credDir, "lab.kubeconfig"), []byte(inside), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(credDir, "etc")); err != nil {
		t.Fatal(err)
	}
	register := func(s *server, name string, config map[string]any) (int, map[string]any) {
		t.Helper()
		status, body := s.post(t, "/o2ims/v1/providers", map[string]any{"name": name, "type": "kubernetes", "config": config})
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		return status, p
	}

	// Without the directory: no file names at all, whatever exists.
	s := start(t, "--local-provider=false")
	for _, path := range []string{"/etc/passwd", "/etc/shadow", "/proc/self/environ", "/nonexistent"} {
		status, p := register(s, "p1", map[string]any{"kubeconfigPath": path})
		if status != 422 || !strings.Contains(p["detail"].(string), "inline") {
			t.Errorf("kubeconfigPath %s: %d %v", path, status, p)
		}
	}
	s.stop(t)

	s = start(t, "--local-provider=false", "--provider-credentials-dir", credDir)
	var details []string
	for _, path := range []string{"/etc/passwd", "../../etc/passwd", "etc/passwd", "etc/nonexistent", "nonexistent", "/proc/self/environ"} {
		status, p := register(s, "p1", map[string]any{"kubeconfigPath": path})
		if status != 400 || p["title"] == nil {
			t.Errorf("kubeconfigPath %s: %d %v", path, status, p)
			continue
		}
		details = append(details, strings.Replace(p["detail"].(string), path, "NAME", 1))
	}
	for _, d := range details {
		if d != details[0] {
			t.Errorf("the answers tell paths apart: %q and %q", d, details[0])
		}
	}
	// An inline kubeconfig runs no program and reads no file.
	for what, kc := range map[string]string{
		"exec":      strings.Replace(inside, "{token: abc}", "{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch "+marker+"']}}", 1),
		"tokenFile": strings.Replace(inside, "{token: abc}", "{tokenFile: /etc/hostname}", 1),
		"CA file":   strings.Replace(inside, "insecure-skip-tls-verify: true", "certificate-authority: /etc/passwd", 1),
	} {
		status, p := register(s, "p2", map[string]any{"kubeconfig": kc})
		if status != 400 || !strings.Contains(p["detail"].(string), "inline") {
			t.Errorf("%s: %d %v", what, status, p)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a kubeconfig sent through the API ran a program on the server")
	}
	// A file of the directory, by its name there, is taken.
	if status, p := register(s, "lab", map[string]any{"kubeconfigPath": "lab.kubeconfig"}); status != 201 {
		t.Fatalf("a kubeconfig of the credentials directory: %d %v", status, p)
	}
}

// TestOversizedHeaders: header fields over the limit are a 431 problem,
// like every other client error.
func TestOversizedHeaders(t *testing.T) {
	s := start(t, "--local-provider=false")
	req, err := http.NewRequest("GET", s.base+"/o2ims-infrastructureInventory/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 40<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != 431 ||
		resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(fmt.Sprint(p["detail"]), "header fields") {
		t.Fatalf("%d %s %v (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), p, err)
	}
}
