package o2_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
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
	"sync/atomic"
	"testing"
	"time"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// identityProvider is a minimal OAuth 2.0 authorization server: a client
// credentials token endpoint issuing ES256 JWT access tokens, and the JWKS
// the IMS verifies them with.
type identityProvider struct {
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	issued atomic.Int32
}

const (
	idpClientID = "smo"
	idpSecret   = "s3cret"
	idpAudience = "o2ims"
)

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idp := &identityProvider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", idp.token)
	mux.HandleFunc("GET /jwks", idp.jwks)
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

func (idp *identityProvider) issuer() string { return idp.srv.URL }

func (idp *identityProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if id != idpClientID || secret != idpSecret || r.PostForm.Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	idp.issued.Add(1)
	tok := idp.sign(r.PostForm.Get("scope"), time.Hour)
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func (idp *identityProvider) jwks(w http.ResponseWriter, _ *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	pub := idp.key.PublicKey
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "kid": "k1", "alg": "ES256", "use": "sig",
	}}})
}

// sign returns a compact ES256 JWT granting scope for ttl.
func (idp *identityProvider) sign(scope string, ttl time.Duration) string {
	b64 := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "at+jwt", "kid": "k1"})
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": idp.issuer(), "sub": idpClientID, "aud": idpAudience, "client_id": idpClientID,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(), "scope": scope,
		"jti": fmt.Sprint(now.UnixNano()),
	})
	input := b64(header) + "." + b64(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, idp.key, digest[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

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
	idp := newIdentityProvider(t)
	certFile, keyFile := writeServerCert(t, t.TempDir())
	addr := startServer(t,
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-require-client-cert=false",
		"--oidc-jwks-url", idp.srv.URL+"/jwks", "--oidc-issuer", idp.issuer(), "--oidc-audience", idpAudience)
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
			TokenURL: idp.srv.URL + "/token", ClientID: idpClientID, ClientSecret: idpSecret,
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
	if n := idp.issued.Load(); n != 1 {
		t.Errorf("%d tokens issued, want 1 reused", n)
	}

	// A token without the read scope is refused.
	noScope, err := o2.NewClient(&o2.Config{Endpoint: endpoint, TLS: tlsCfg,
		Authentication: &o2.AuthConfig{Type: o2.AuthBearer, Token: idp.sign("openid", time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noScope.ResourcePools().List(ctx, o2.ListOptions{}); !o2.IsForbidden(err) {
		t.Errorf("without the scope: %v", err)
	}

	// Wrong client secret: the token endpoint's refusal is an auth error.
	bad, err := o2.NewClient(&o2.Config{Endpoint: endpoint, TLS: tlsCfg,
		Authentication: &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL: idp.srv.URL + "/token", ClientID: idpClientID, ClientSecret: "wrong"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.CloudInfo(ctx); !o2.IsAuthError(err) {
		t.Errorf("wrong secret: %v", err)
	}
}
