package o2_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/oidctest"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// writeServerCert writes a self-signed certificate for 127.0.0.1 and its
// key to dir and returns their paths.
func writeServerCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "o2ims test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"ims.test"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), crypto.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestEndToEndOAuth2AndTLS runs the real server with HTTPS and OIDC
// bearer authentication and reaches it with client credentials.
func TestEndToEndOAuth2AndTLS(t *testing.T) {
	help, _ := exec.Command(serverBinary, "serve", "--help").CombinedOutput()
	if !strings.Contains(string(help), "--oidc-jwks-url") {
		t.Fatal("o2ims serve has no --oidc-jwks-url flag")
	}
	idp := oidctest.New(t)
	certFile, keyFile := writeServerCert(t, t.TempDir())
	addr := startServer(t,
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-require-client-cert=false",
		"--oidc-jwks-url", idp.JWKSURL(), "--oidc-issuer", idp.URL, "--oidc-audience", oidctest.Audience)
	endpoint := "https://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tlsCfg := &o2.TLSConfig{CAFile: certFile}

	// No credentials: 401.
	anon, err := o2.NewClient(&o2.Config{Endpoint: endpoint, TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.CloudInfo(ctx); !o2.IsUnauthorized(err) || !o2.IsAuthError(err) {
		t.Fatalf("without a token: %v", err)
	}

	// Client credentials with the read scope: one token for many calls.
	c, err := o2.NewClient(&o2.Config{
		Endpoint: endpoint,
		TLS:      tlsCfg,
		Authentication: &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL: idp.TokenURL(), ClientID: oidctest.ClientID, ClientSecret: oidctest.Secret,
			Scopes: []string{o2.ScopeRead},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.CloudInfo(ctx)
	if err != nil {
		t.Fatalf("CloudInfo with client credentials: %v", err)
	}
	if info.OCloudID == "" {
		t.Errorf("CloudInfo %+v", info)
	}
	for rt, err := range c.ResourceTypes().All(ctx, o2.ListOptions{Limit: 1}) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		if _, err := c.ResourceTypes().Get(ctx, rt.ResourceTypeID); err != nil {
			t.Fatal(err)
		}
	}
	if n := idp.Issued(); n != 1 {
		t.Errorf("%d tokens issued, want 1 reused", n)
	}

	// A token without the read scope is refused.
	noScope, err := o2.NewClient(&o2.Config{Endpoint: endpoint, TLS: tlsCfg,
		Authentication: &o2.AuthConfig{Type: o2.AuthBearer, Token: idp.Sign("openid", time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noScope.ResourcePools().List(ctx, o2.ListOptions{}); !o2.IsForbidden(err) {
		t.Errorf("without the scope: %v", err)
	}

	// Wrong client secret: the token endpoint's refusal is an auth error.
	bad, err := o2.NewClient(&o2.Config{Endpoint: endpoint, TLS: tlsCfg,
		Authentication: &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL: idp.TokenURL(), ClientID: oidctest.ClientID, ClientSecret: "wrong"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.CloudInfo(ctx); !o2.IsAuthError(err) {
		t.Errorf("wrong secret: %v", err)
	}
}
