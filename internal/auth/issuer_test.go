package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testIssuer is a minimal OpenID provider: discovery and JWKS over real HTTPS
// on loopback, with keys that tests can rotate and a count of JWKS fetches.
type testIssuer struct {
	srv         *httptest.Server
	jwksFetches atomic.Int64

	mu              sync.Mutex
	published       []jose.JSONWebKey
	discoveryIssuer string        // the "issuer" the discovery document claims
	gate            chan struct{} // when set, JWKS responses wait for it to close
}

func newTestIssuer(t *testing.T, keys ...signingKey) *testIssuer {
	t.Helper()
	iss := &testIssuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		claimed := iss.discoveryIssuer
		iss.mu.Unlock()
		writeJSON(w, map[string]any{
			"issuer":                                claimed,
			"jwks_uri":                              iss.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksFetches.Add(1)
		iss.mu.Lock()
		gate := iss.gate
		iss.mu.Unlock()
		if gate != nil {
			<-gate
		}
		iss.mu.Lock()
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), iss.published...)}
		iss.mu.Unlock()
		writeJSON(w, set)
	})
	iss.srv = httptest.NewTLSServer(mux)
	t.Cleanup(iss.srv.Close)
	iss.discoveryIssuer = iss.srv.URL
	for _, k := range keys {
		iss.publish(k)
	}
	return iss
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// publish adds the public half of k to the JWKS, as a key rotation would.
func (i *testIssuer) publish(k signingKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, jose.JSONWebKey{
		Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig",
	})
}

func (i *testIssuer) url() string { return i.srv.URL }

func (i *testIssuer) client() *http.Client { return i.srv.Client() }

// signingKey is a private key with its JWS algorithm and key ID.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newECKey(t *testing.T, kid string) signingKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.ES256, priv: priv}
}

func newRSAKey(t *testing.T, kid string) signingKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.RS256, priv: priv}
}

// mint signs claims with k; the header carries k's kid unless kid is
// overridden (a non-nil pointer, "" for no kid).
func mint(t *testing.T, k signingKey, claims map[string]any, kid ...string) string {
	t.Helper()
	jwk := jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
	if len(kid) > 0 {
		jwk.KeyID = kid[0]
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jwk}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeClock is a settable clock for the refresh rate limit and claim times.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
