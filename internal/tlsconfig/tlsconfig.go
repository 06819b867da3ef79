// Package tlsconfig builds the server's TLS configuration from certificate
// files and keeps it current: a certificate or client CA bundle replaced on
// disk (by cert-manager, for instance) is picked up without a restart, and a
// broken replacement never takes down a working server.
package tlsconfig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often Run polls the files when
// Options.ReloadInterval is zero.
const DefaultReloadInterval = 10 * time.Second

// cipherSuites are the TLS 1.2 suites offered: forward-secret ECDHE with AEAD
// ciphers only. TLS 1.3 suites are not configurable in Go and are all AEAD.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Options configures a Reloader.
type Options struct {
	// CertFile and KeyFile are the PEM server certificate (chain) and key.
	CertFile, KeyFile string
	// ClientCAFile, when set, is a PEM bundle of CAs trusted to issue client
	// certificates, and client certificates are verified against it.
	ClientCAFile string
	// RequireClientCert makes a verified client certificate mandatory
	// (mutual TLS). Without it a client certificate is verified only if one
	// is presented. It needs ClientCAFile.
	RequireClientCert bool
	// ReloadInterval is how often Run checks the files for changes,
	// DefaultReloadInterval when zero.
	ReloadInterval time.Duration
	// NextProtos are the ALPN protocols offered, "h2" and "http/1.1" when
	// empty. They are set here rather than left to net/http because, with a
	// client CA file, every handshake uses a configuration this package
	// builds, which never sees the protocols net/http would add.
	NextProtos []string
}

// Reloader serves the current certificate and client CA pool and reloads them
// from disk. It is safe for concurrent use.
type Reloader struct {
	opts     Options
	logger   *slog.Logger
	template *tls.Config // everything but the reloadable material

	current atomic.Pointer[material]

	// mu serializes reloads and guards the fingerprints below, which record
	// the file contents last looked at, so that an unchanged (or unchanged
	// broken) file is neither reparsed nor logged again on every poll.
	mu       sync.Mutex
	certSeen [sha256.Size]byte
	caSeen   [sha256.Size]byte
}

// material is one consistent generation of certificate and CA pool, swapped
// as a whole so a handshake never sees a new certificate with an old pool.
type material struct {
	cert      *tls.Certificate
	clientCAs *x509.CertPool
	// config is the per-handshake configuration holding clientCAs, built
	// once per generation rather than per handshake.
	config *tls.Config
}

// New validates opts and loads the certificate, key and client CAs once,
// returning an error if any is missing or invalid.
func New(opts Options, logger *slog.Logger) (*Reloader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.CertFile == "" || opts.KeyFile == "":
		return nil, errors.New("tlsconfig: CertFile and KeyFile are required")
	case opts.RequireClientCert && opts.ClientCAFile == "":
		return nil, errors.New("tlsconfig: RequireClientCert needs ClientCAFile")
	case opts.ReloadInterval < 0:
		return nil, errors.New("tlsconfig: ReloadInterval must not be negative")
	}
	if opts.ReloadInterval == 0 {
		opts.ReloadInterval = DefaultReloadInterval
	}
	if len(opts.NextProtos) == 0 {
		opts.NextProtos = []string{"h2", "http/1.1"}
	}
	r := &Reloader{opts: opts, logger: logger}
	r.template = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		NextProtos:   opts.NextProtos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.current.Load().cert, nil
		},
	}
	if opts.ClientCAFile != "" {
		r.template.ClientAuth = tls.VerifyClientCertIfGiven
		if opts.RequireClientCert {
			r.template.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	if _, err := r.reload(); err != nil {
		return nil, fmt.Errorf("tlsconfig: %w", err)
	}
	return r, nil
}

// TLSConfig returns a configuration for an http.Server or tls.Listen:
// TLS 1.2 or later, ECDHE AEAD suites for TLS 1.2, the current certificate
// through GetCertificate, and, with a client CA file, client certificate
// verification whose CA pool follows reloads through GetConfigForClient.
func (r *Reloader) TLSConfig() *tls.Config {
	cfg := r.template.Clone()
	if r.opts.ClientCAFile != "" {
		cfg.ClientCAs = r.current.Load().clientCAs
		cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.current.Load().config, nil
		}
	}
	return cfg
}

// Certificate returns the leaf certificate currently served.
func (r *Reloader) Certificate() *x509.Certificate {
	return r.current.Load().cert.Leaf
}

// Run polls the files every ReloadInterval until ctx is done, swapping in
// changed material. A replacement that fails to load is logged and the
// previous material kept, so a half-written or wrong file cannot take the
// server down; it is retried once its content changes again.
func (r *Reloader) Run(ctx context.Context) {
	ticker := time.NewTicker(r.opts.ReloadInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		changed, err := r.reload()
		switch {
		case err != nil:
			r.logger.LogAttrs(ctx, slog.LevelWarn, "tls reload failed, keeping the current certificate and client CAs",
				slog.String("cert_file", r.opts.CertFile), slog.Any("err", err))
		case changed:
			leaf := r.Certificate()
			r.logger.LogAttrs(ctx, slog.LevelInfo, "tls certificate and client CAs reloaded",
				slog.String("subject", leaf.Subject.String()),
				slog.String("serial", leaf.SerialNumber.Text(16)),
				slog.Time("not_after", leaf.NotAfter))
		}
	}
}

// reload reads the files and, if their content differs from what was last
// seen, parses them and swaps in the result. It reports whether new material
// was installed.
func (r *Reloader) reload() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	certPEM, err := os.ReadFile(r.opts.CertFile)
	if err != nil {
		return false, err
	}
	keyPEM, err := os.ReadFile(r.opts.KeyFile)
	if err != nil {
		return false, err
	}
	var caPEM []byte
	if r.opts.ClientCAFile != "" {
		if caPEM, err = os.ReadFile(r.opts.ClientCAFile); err != nil {
			return false, err
		}
	}
	// Content hashes rather than mtimes: Kubernetes secret volumes swap
	// symlinks, and a copy within the same second keeps size and mtime.
	certSum := sha256.Sum256(append(append(bytes.Clone(certPEM), 0), keyPEM...))
	caSum := sha256.Sum256(caPEM)
	if r.current.Load() != nil && certSum == r.certSeen && caSum == r.caSeen {
		return false, nil
	}
	r.certSeen, r.caSeen = certSum, caSum

	m, err := r.parse(certPEM, keyPEM, caPEM)
	if err != nil {
		return false, err
	}
	r.current.Store(m)
	return true, nil
}

func (r *Reloader) parse(certPEM, keyPEM, caPEM []byte) (*material, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate %s with key %s: %w", r.opts.CertFile, r.opts.KeyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", r.opts.CertFile, err)
		}
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		// Serving an expired certificate fails every handshake; keeping the
		// previous one is never worse.
		return nil, fmt.Errorf("certificate %s expired at %s", r.opts.CertFile, cert.Leaf.NotAfter.Format(time.RFC3339))
	}
	m := &material{cert: &cert}
	if r.opts.ClientCAFile != "" {
		if m.clientCAs, err = parseCAs(caPEM); err != nil {
			return nil, fmt.Errorf("client CA file %s: %w", r.opts.ClientCAFile, err)
		}
		m.config = r.template.Clone()
		m.config.ClientCAs = m.clientCAs
	}
	return m, nil
}

// parseCAs parses every certificate of a PEM bundle. Unlike
// CertPool.AppendCertsFromPEM it fails on a corrupt entry instead of silently
// skipping it, so a damaged bundle is reported instead of quietly shrinking
// the set of trusted CAs.
func parseCAs(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	// pem.Decode stops at a block it cannot complete; a file caught
	// half-written would otherwise load as a shorter bundle.
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return nil, errors.New("truncated or corrupt PEM block")
	}
	if n == 0 {
		return nil, errors.New("no certificates")
	}
	return pool, nil
}
