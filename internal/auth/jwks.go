package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// maxDocumentBytes bounds discovery and JWKS bodies so that a broken or
	// hostile endpoint cannot exhaust memory.
	maxDocumentBytes = 1 << 20
	// fetchTimeout bounds one discovery or JWKS request even when the
	// caller's HTTP client has no timeout.
	fetchTimeout = 10 * time.Second
	// defaultKeysMaxAge is how long fetched keys are used before a
	// background refresh when the JWKS response has no usable max-age.
	defaultKeysMaxAge = time.Hour
	// minKeysMaxAge and maxKeysMaxAge clamp a server's Cache-Control max-age:
	// "no-cache" must not turn into a fetch per request, and a year-long
	// max-age must not pin a revoked key.
	minKeysMaxAge = time.Minute
	maxKeysMaxAge = 24 * time.Hour
	// minRSABits rejects RSA keys too short to trust (NIST SP 800-131A).
	minRSABits = 2048
)

var errUnknownKey = errors.New("no usable key in the JWKS matches the token's kid and alg")

// keySet caches an issuer's JSON Web Key Set. Unknown key IDs trigger a
// refresh, at most one per minRefresh, shared by all requests waiting for it;
// stale sets are refreshed in the background while the cached keys stay in use.
type keySet struct {
	url        string
	client     *http.Client
	logger     *slog.Logger
	now        func() time.Time
	minRefresh time.Duration

	mu          sync.Mutex
	keys        []jose.JSONWebKey
	staleAt     time.Time     // when the cached keys should be refetched
	lastAttempt time.Time     // start of the latest fetch, successful or not
	inflight    chan struct{} // closed when the running fetch ends; nil if none
}

// load fetches the key set once, synchronously, so that New can fail clearly
// when the issuer is unreachable or serves no usable keys.
func (s *keySet) load(ctx context.Context) error {
	s.mu.Lock()
	s.lastAttempt = s.now()
	s.mu.Unlock()
	keys, maxAge, err := s.fetch(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("the JWKS holds no usable signing keys")
	}
	s.store(keys, maxAge)
	return nil
}

// key returns the verification key for a token header's kid and alg,
// refreshing the set first when the kid is unknown and the rate limit allows.
func (s *keySet) key(ctx context.Context, kid, alg string) (any, error) {
	s.mu.Lock()
	k, ok := s.find(kid, alg)
	if ok {
		if !s.now().Before(s.staleAt) {
			// Known key, stale set: refresh without making this request wait.
			s.startRefreshLocked()
		}
		s.mu.Unlock()
		return k, nil
	}
	ch := s.startRefreshLocked()
	s.mu.Unlock()

	if ch == nil {
		// Rate-limited: a flood of made-up kids must not become a flood of
		// requests to the issuer.
		return nil, errUnknownKey
	}
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.find(kid, alg); ok {
		return k, nil
	}
	return nil, errUnknownKey
}

// startRefreshLocked starts a background fetch unless one is running or the
// last one began less than minRefresh ago. It returns the channel that closes
// when the running or started fetch ends, or nil when rate-limited. s.mu must
// be held.
func (s *keySet) startRefreshLocked() chan struct{} {
	if s.inflight != nil {
		return s.inflight
	}
	now := s.now()
	if now.Sub(s.lastAttempt) < s.minRefresh {
		return nil
	}
	s.lastAttempt = now
	ch := make(chan struct{})
	s.inflight = ch
	go s.refresh(ch)
	return ch
}

// refresh runs one fetch for startRefreshLocked. It does not use a request's
// context: the fetch is shared, and one impatient client must not cancel it
// for the others.
func (s *keySet) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	keys, maxAge, err := s.fetch(ctx)
	switch {
	case err != nil:
		// Keep the old keys: a flapping issuer must not lock everyone out.
		s.logger.LogAttrs(ctx, slog.LevelWarn, "jwks refresh failed, keeping cached keys",
			slog.String("url", s.url), slog.Any("err", err))
	case len(keys) == 0:
		s.logger.LogAttrs(ctx, slog.LevelWarn, "jwks refresh returned no usable keys, keeping cached keys",
			slog.String("url", s.url))
	default:
		s.store(keys, maxAge)
		s.logger.LogAttrs(ctx, slog.LevelInfo, "jwks refreshed",
			slog.String("url", s.url), slog.Int("keys", len(keys)))
	}
	s.mu.Lock()
	s.inflight = nil
	s.mu.Unlock()
	close(done)
}

func (s *keySet) store(keys []jose.JSONWebKey, maxAge time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
	s.staleAt = s.now().Add(maxAge)
}

// find returns the public key matching kid and alg. A token without a kid is
// accepted only when exactly one cached key fits its alg, because guessing
// among several keys would make the kid-based rotation logic meaningless.
// s.mu must be held.
func (s *keySet) find(kid, alg string) (any, bool) {
	var match any
	n := 0
	for _, k := range s.keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if !keyFitsAlg(k, alg) {
			continue
		}
		if kid != "" {
			return k.Key, true
		}
		match = k.Key
		n++
	}
	return match, n == 1
}

// keyFitsAlg reports whether k may verify signatures of algorithm alg. The
// check is explicit, although the JOSE library would fail a mismatched
// verification too, so that key confusion is stopped before any
// cryptography runs.
func keyFitsAlg(k jose.JSONWebKey, alg string) bool {
	if k.Use != "" && k.Use != "sig" {
		return false
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch alg {
	case string(jose.RS256), string(jose.RS384), string(jose.RS512),
		string(jose.PS256), string(jose.PS384), string(jose.PS512):
		_, ok := k.Key.(*rsa.PublicKey)
		return ok
	case string(jose.ES256):
		return isCurve(k.Key, elliptic.P256())
	case string(jose.ES384):
		return isCurve(k.Key, elliptic.P384())
	case string(jose.ES512):
		return isCurve(k.Key, elliptic.P521())
	case string(jose.EdDSA):
		_, ok := k.Key.(ed25519.PublicKey)
		return ok
	}
	return false
}

func isCurve(key any, c elliptic.Curve) bool {
	pub, ok := key.(*ecdsa.PublicKey)
	return ok && pub.Curve == c
}

// fetch downloads and filters the key set and returns how long to keep it.
func (s *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, time.Duration, error) {
	body, header, err := getDocument(ctx, s.client, s.url)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch JWKS: %w", err)
	}
	// Keys are decoded one by one so that a single key of a type this
	// library does not know (say an encryption key on a new curve) costs
	// only that key, not the whole set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, 0, fmt.Errorf("decode JWKS from %s: %w", s.url, err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "ignoring undecodable JWKS key", slog.Any("err", err))
			continue
		}
		pub, reason := usableKey(k)
		if reason != "" {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "ignoring JWKS key",
				slog.String("kid", k.KeyID), slog.String("reason", reason))
			continue
		}
		keys = append(keys, pub)
	}
	return keys, cacheMaxAge(header), nil
}

// usableKey returns the public half of k, or why k cannot verify tokens.
func usableKey(k jose.JSONWebKey) (jose.JSONWebKey, string) {
	if !k.Valid() {
		return k, "invalid key"
	}
	if k.Use != "" && k.Use != "sig" {
		return k, "not a signing key"
	}
	// Symmetric keys never verify tokens here: accepting one would let a
	// published "oct" key sign tokens for anyone.
	if _, ok := k.Key.([]byte); ok {
		return k, "symmetric key"
	}
	// A JWKS should not carry private keys, but if one does only its public
	// half is kept.
	pub := k.Public()
	if !pub.Valid() {
		return k, "no public key"
	}
	if rk, ok := pub.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
		return k, "RSA key shorter than 2048 bits"
	}
	return pub, ""
}

// cacheMaxAge reads max-age from Cache-Control, clamped to sane bounds.
func cacheMaxAge(h http.Header) time.Duration {
	for _, directive := range strings.Split(h.Get("Cache-Control"), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "no-cache", "no-store":
			return minKeysMaxAge
		case "max-age":
			secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if err != nil || secs < 0 {
				return defaultKeysMaxAge
			}
			return min(max(time.Duration(secs)*time.Second, minKeysMaxAge), maxKeysMaxAge)
		}
	}
	return defaultKeysMaxAge
}

// getDocument GETs a small JSON document and returns its body and headers.
func getDocument(ctx context.Context, client *http.Client, url string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: status %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxDocumentBytes {
		return nil, nil, fmt.Errorf("GET %s: document larger than %d bytes", url, maxDocumentBytes)
	}
	return body, resp.Header, nil
}
