// Package oidctest is a minimal OAuth 2.0 authorization server for tests
// of the IMS's bearer authentication: a client-credentials token endpoint
// issuing ES256 JWT access tokens, and the JWKS the IMS verifies them
// with.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The client the provider knows, and the audience of its tokens.
const (
	ClientID = "smo"
	Secret   = "s3cret"
	Audience = "o2ims"
)

// Provider serves POST /token, GET /jwks and GET /issued (the counts of
// tokens issued and token requests, as JSON).
type Provider struct {
	// URL is the provider's base URL, also the issuer of its tokens.
	URL      string
	key      *ecdsa.PrivateKey
	issued   atomic.Int32
	requests atomic.Int32
}

// New starts a provider, stopped when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /issued", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int32{"issued": p.issued.Load(), "requests": p.requests.Load()})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// TokenURL is the client-credentials token endpoint.
func (p *Provider) TokenURL() string { return p.URL + "/token" }

// JWKSURL is the key set.
func (p *Provider) JWKSURL() string { return p.URL + "/jwks" }

// Issued is the number of tokens issued.
func (p *Provider) Issued() int32 { return p.issued.Load() }

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if id != ClientID || secret != Secret || r.PostForm.Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"unknown client or wrong secret"}`)
		return
	}
	p.issued.Add(1)
	tok := p.Sign(r.PostForm.Get("scope"), time.Hour)
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := make([]byte, 32), make([]byte, 32)
	p.key.PublicKey.X.FillBytes(x)
	p.key.PublicKey.Y.FillBytes(y)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "kid": "k1", "alg": "ES256", "use": "sig",
	}}})
}

// Sign returns a compact ES256 JWT granting scope, expiring after ttl
// (before now when ttl is negative).
func (p *Provider) Sign(scope string, ttl time.Duration) string {
	b64 := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "at+jwt", "kid": "k1"})
	now := time.Now()
	issuedAt := now
	if ttl < 0 {
		issuedAt = now.Add(2 * ttl)
	}
	claims, _ := json.Marshal(map[string]any{
		"iss": p.URL, "sub": ClientID, "aud": Audience, "client_id": ClientID,
		"iat": issuedAt.Unix(), "nbf": issuedAt.Unix(), "exp": now.Add(ttl).Unix(), "scope": scope,
		"jti": fmt.Sprint(now.UnixNano()),
	})
	input := b64(header) + "." + b64(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}
