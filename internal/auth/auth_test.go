package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

const testAudience = "o2ims-api"

type fixture struct {
	iss   *testIssuer
	ec    signingKey // "k-ec", published
	rsa   signingKey // "k-rsa", published
	clock *fakeClock
	auth  *Authenticator
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newFixture starts an issuer with an EC and an RSA key and an Authenticator
// using discovery against it; mutate adjusts the options first.
func newFixture(t *testing.T, mutate func(*Options)) *fixture {
	t.Helper()
	f := &fixture{ec: newECKey(t, "k-ec"), rsa: newRSAKey(t, "k-rsa"), clock: newFakeClock()}
	f.iss = newTestIssuer(t, f.ec, f.rsa)
	opts := Options{
		IssuerURL:   f.iss.url(),
		Audience:    testAudience,
		HTTPClient:  f.iss.client(),
		RoleClaims:  []string{"realm_access.roles", "groups", "resource_access.o2ims.roles"},
		RoleMapping: map[string][]Permission{"o2ims-admin": {PermissionRead, PermissionWrite}, "viewers": {PermissionRead}},
		Algorithms:  []string{"RS256", "ES256"},
	}
	if mutate != nil {
		mutate(&opts)
	}
	a, err := newAuthenticator(context.Background(), opts, testLogger(t), f.clock.Now)
	if err != nil {
		t.Fatalf("newAuthenticator: %v", err)
	}
	f.auth = a
	return f
}

// claims returns valid claims for the fixture's issuer, changed by mods.
func (f *fixture) claims(mods ...func(map[string]any)) map[string]any {
	now := f.clock.Now()
	c := map[string]any{
		"iss":       f.iss.url(),
		"aud":       testAudience,
		"sub":       "smo-1",
		"client_id": "smo",
		"iat":       now.Unix(),
		"exp":       now.Add(5 * time.Minute).Unix(),
		"scope":     "openid o2ims:read",
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/o2ims-infrastructureInventory/v1", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// failureOf returns the failure description carried by err.
func failureOf(t *testing.T, err error) *failure {
	t.Helper()
	var f *failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v carries no failure", err)
	}
	return f
}

// wantUnauthenticated asserts the exact code, failure description and challenge.
func wantUnauthenticated(t *testing.T, p *Principal, err error, description string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted (principal %+v), want rejection %q", p, description)
	}
	if got := ims.ErrorCode(err); got != ims.EUNAUTHENTICATED {
		t.Fatalf("code = %q, want %q (err %v)", got, ims.EUNAUTHENTICATED, err)
	}
	if got := failureOf(t, err).description; got != description {
		t.Fatalf("description = %q, want %q (err %v)", got, description, err)
	}
	want := `Bearer realm="o2ims", error="invalid_token", error_description="` + description + `"`
	if description == "missing bearer token" {
		want = `Bearer realm="o2ims"`
	}
	if got := ChallengeHeader(err); got != want {
		t.Fatalf("challenge = %q, want %q", got, want)
	}
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hs256 forges a token signed with HMAC-SHA256 using secret, the classic
// algorithm-confusion attack when secret is the issuer's public key.
func hs256(t *testing.T, kid string, claims map[string]any, secret []byte) string {
	t.Helper()
	input := b64JSON(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64JSON(t, claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestAuthenticateAttackMatrix(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	other := newECKey(t, "k-ec") // same kid as the published key, other key

	rsaDER, err := x509.MarshalPKIXPublicKey(f.rsa.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})

	cases := []struct {
		name string
		req  func() *http.Request
		want string // failure description; "" means accepted
	}{
		{"valid EC token", func() *http.Request { return bearer(mint(t, f.ec, f.claims())) }, ""},
		{"valid RSA token", func() *http.Request { return bearer(mint(t, f.rsa, f.claims())) }, ""},
		{"no Authorization header", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/", nil)
		}, "missing bearer token"},
		{"other scheme", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
			return r
		}, "missing bearer token"},
		{"empty bearer", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer ")
			return r
		}, "empty bearer token"},
		{"two Authorization headers", func() *http.Request {
			r := bearer(mint(t, f.ec, f.claims()))
			r.Header.Add("Authorization", "Bearer x.y.z")
			return r
		}, "more than one Authorization header"},
		{"malformed: not a JWS", func() *http.Request { return bearer("abc.def") }, "malformed token or disallowed algorithm"},
		{"malformed: bad characters", func() *http.Request { return bearer(`a"b.c d`) }, "malformed token"},
		{"malformed: garbage segments", func() *http.Request { return bearer("e30.e30.e30") }, "malformed token or disallowed algorithm"},
		{"oversized", func() *http.Request { return bearer(strings.Repeat("a", maxTokenBytes+1)) }, "token too large"},
		{"alg none", func() *http.Request {
			tok := b64JSON(t, map[string]any{"alg": "none", "typ": "JWT", "kid": "k-ec"}) + "." + b64JSON(t, f.claims()) + "."
			return bearer(tok)
		}, "malformed token or disallowed algorithm"},
		{"alg None capitalised", func() *http.Request {
			tok := b64JSON(t, map[string]any{"alg": "None"}) + "." + b64JSON(t, f.claims()) + "."
			return bearer(tok)
		}, "malformed token or disallowed algorithm"},
		{"HS256 with RSA public key PEM as secret", func() *http.Request {
			return bearer(hs256(t, "k-rsa", f.claims(), rsaPEM))
		}, "malformed token or disallowed algorithm"},
		{"HS256 with RSA public key DER as secret", func() *http.Request {
			return bearer(hs256(t, "k-rsa", f.claims(), rsaDER))
		}, "malformed token or disallowed algorithm"},
		{"ES256 header naming the RSA key", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(), "k-rsa"))
		}, "unknown signing key"},
		{"wrong key, same kid", func() *http.Request { return bearer(mint(t, other, f.claims())) }, "signature verification failed"},
		{"tampered payload", func() *http.Request {
			parts := strings.Split(mint(t, f.ec, f.claims()), ".")
			parts[1] = b64JSON(t, f.claims(func(c map[string]any) { c["scope"] = "o2ims:write" }))
			return bearer(strings.Join(parts, "."))
		}, "signature verification failed"},
		{"no kid, single ES256 key", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(), ""))
		}, ""},
		{"expired beyond skew", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["exp"] = now.Add(-31 * time.Second).Unix() })))
		}, "token expired"},
		{"expired within skew", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["exp"] = now.Add(-20 * time.Second).Unix() })))
		}, ""},
		{"no exp", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { delete(c, "exp") })))
		}, "token has no expiry"},
		{"nbf in the future beyond skew", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() })))
		}, "token not valid yet"},
		{"nbf in the future within skew", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["nbf"] = now.Add(20 * time.Second).Unix() })))
		}, ""},
		{"iat in the future beyond skew", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() })))
		}, "token not valid yet"},
		{"wrong issuer", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["iss"] = "https://evil.example" })))
		}, "wrong issuer"},
		{"issuer with trailing slash", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["iss"] = f.iss.url() + "/" })))
		}, "wrong issuer"},
		{"wrong audience", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["aud"] = "other-api" })))
		}, "wrong audience"},
		{"no audience", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { delete(c, "aud") })))
		}, "wrong audience"},
		{"audience array containing ours", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { c["aud"] = []string{"other-api", testAudience} })))
		}, ""},
		{"no subject", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) { delete(c, "sub") })))
		}, "token has no subject"},
		{"bound token over plain connection", func() *http.Request {
			return bearer(mint(t, f.ec, f.claims(func(c map[string]any) {
				c["cnf"] = map[string]any{"x5t#S256": "AAAA"}
			})))
		}, "certificate-bound token without client certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.auth.Authenticate(tc.req())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if p.Subject != "smo-1" || p.ClientID != "smo" {
					t.Fatalf("principal = %+v", p)
				}
				return
			}
			wantUnauthenticated(t, p, err, tc.want)
		})
	}
}

func TestMessagesNeverEchoToken(t *testing.T) {
	f := newFixture(t, nil)
	tokens := []string{
		mint(t, f.ec, f.claims(func(c map[string]any) { c["iss"] = "https://evil.example/SECRETMARK" })),
		mint(t, f.ec, f.claims(func(c map[string]any) { c["exp"] = 1 })),
		hs256(t, "SECRETMARK", f.claims(), []byte("x")),
		"SECRETMARK.SECRETMARK.SECRETMARK",
	}
	for _, tok := range tokens {
		_, err := f.auth.Authenticate(bearer(tok))
		if err == nil {
			t.Fatal("accepted")
		}
		for _, s := range []string{ims.ErrorMessage(err), ChallengeHeader(err)} {
			if strings.Contains(s, tok) || strings.Contains(s, "SECRETMARK") || strings.Contains(s, "evil") {
				t.Fatalf("client-visible text %q echoes the token", s)
			}
		}
	}
}

func TestUnknownKidThenRotation(t *testing.T) {
	f := newFixture(t, nil)
	rotated := newECKey(t, "k-next")
	tok := mint(t, rotated, f.claims())
	if n := f.iss.jwksFetches.Load(); n != 1 {
		t.Fatalf("fetches after New = %d, want 1", n)
	}

	// Past the refresh interval, the unknown kid triggers one refresh, which
	// does not find the key yet.
	f.clock.Advance(DefaultJWKSMinRefreshInterval)
	p, err := f.auth.Authenticate(bearer(tok))
	wantUnauthenticated(t, p, err, "unknown signing key")
	if n := f.iss.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}

	// The issuer rotates the key in. Within the interval the same token stays
	// rejected without another fetch...
	f.iss.publish(rotated)
	p, err = f.auth.Authenticate(bearer(tok))
	wantUnauthenticated(t, p, err, "unknown signing key")
	if n := f.iss.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (rate-limited)", n)
	}

	// ...and once the interval has passed, it is refreshed and accepted (the
	// clock has moved 20 s, well inside the token's 5-minute lifetime).
	f.clock.Advance(DefaultJWKSMinRefreshInterval)
	if _, err := f.auth.Authenticate(bearer(tok)); err != nil {
		t.Fatalf("rotated key rejected after refresh: %v", err)
	}
	if n := f.iss.jwksFetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
	// Known now: no further fetch.
	if _, err := f.auth.Authenticate(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	if n := f.iss.jwksFetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
}

func TestUnknownKidFloodIsRateLimited(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.JWKSMinRefreshInterval = time.Minute })
	const flood = 200

	run := func() {
		var wg sync.WaitGroup
		for i := range flood {
			wg.Go(func() {
				tok := mint(t, f.ec, f.claims(), fmt.Sprintf("made-up-%d", i))
				p, err := f.auth.Authenticate(bearer(tok))
				if err == nil || failureOf(t, err).description != "unknown signing key" {
					t.Errorf("made-up kid: principal %v, err %v", p, err)
				}
			})
		}
		wg.Wait()
	}

	// Right after startup the interval has not passed: no fetch at all.
	run()
	if n := f.iss.jwksFetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (startup only)", n)
	}
	// After the interval, the whole flood shares exactly one fetch.
	f.clock.Advance(time.Minute)
	run()
	if n := f.iss.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	run()
	if n := f.iss.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestConcurrentUnknownKidShareOneRefresh(t *testing.T) {
	f := newFixture(t, nil)
	rotated := newECKey(t, "k-next")
	f.iss.publish(rotated)
	gate := make(chan struct{})
	f.iss.mu.Lock()
	f.iss.gate = gate
	f.iss.mu.Unlock()
	f.clock.Advance(DefaultJWKSMinRefreshInterval)

	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := f.auth.Authenticate(bearer(mint(t, rotated, f.claims())))
			errs <- err
		})
	}
	// Hold the one fetch open until it has started, so that requests pile
	// up behind it; every one must then get the key from that fetch.
	deadline := time.Now().Add(5 * time.Second)
	for f.iss.jwksFetches.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("refresh never started")
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("request waiting on the shared refresh failed: %v", err)
		}
	}
	if got := f.iss.jwksFetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (startup and one shared refresh)", got)
	}
}

func TestStaleKeysRefreshInBackground(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.Advance(defaultKeysMaxAge)
	// The token is minted at the advanced time, so it is valid; the known
	// key is used at once and a refresh starts behind it.
	if _, err := f.auth.Authenticate(bearer(mint(t, f.ec, f.claims()))); err != nil {
		t.Fatal(err)
	}
	// Wait until the refresh has run to its end, logging included, so that
	// nothing writes to the test log after the test.
	done := func() bool {
		f.auth.keys.mu.Lock()
		defer f.auth.keys.mu.Unlock()
		return f.iss.jwksFetches.Load() >= 2 && f.auth.keys.inflight == nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh of stale keys")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.iss.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// The refreshed set is fresh again: no further fetch.
	if _, err := f.auth.Authenticate(bearer(mint(t, f.ec, f.claims()))); err != nil {
		t.Fatal(err)
	}
	if n := f.iss.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestAuthorization(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name      string
		mod       func(map[string]any)
		readOK    bool
		writeOK   bool
		wantPerms []Permission
	}{
		{"read scope", nil, true, false, []Permission{PermissionRead}},
		{"write scope only", func(c map[string]any) { c["scope"] = "o2ims:write" }, false, true, []Permission{PermissionWrite}},
		{"both scopes", func(c map[string]any) { c["scope"] = "o2ims:read o2ims:write" }, true, true, []Permission{PermissionRead, PermissionWrite}},
		{"scp array", func(c map[string]any) {
			delete(c, "scope")
			c["scp"] = []string{"o2ims:read", "o2ims:write"}
		}, true, true, []Permission{PermissionRead, PermissionWrite}},
		{"scp string", func(c map[string]any) {
			delete(c, "scope")
			c["scp"] = "o2ims:write"
		}, false, true, []Permission{PermissionWrite}},
		{"no scope", func(c map[string]any) { delete(c, "scope") }, false, false, []Permission{}},
		{"unknown scope ignored", func(c map[string]any) { c["scope"] = "o2ims:admin o2ims:read:extra" }, false, false, []Permission{}},
		{"realm_access.roles admin", func(c map[string]any) {
			delete(c, "scope")
			c["realm_access"] = map[string]any{"roles": []string{"offline_access", "o2ims-admin"}}
		}, true, true, []Permission{PermissionRead, PermissionWrite}},
		{"groups viewers", func(c map[string]any) {
			delete(c, "scope")
			c["groups"] = []string{"viewers"}
		}, true, false, []Permission{PermissionRead}},
		{"resource_access client roles as string", func(c map[string]any) {
			delete(c, "scope")
			c["resource_access"] = map[string]any{"o2ims": map[string]any{"roles": "o2ims-admin"}}
		}, true, true, []Permission{PermissionRead, PermissionWrite}},
		{"unmapped role", func(c map[string]any) {
			delete(c, "scope")
			c["realm_access"] = map[string]any{"roles": []string{"admin"}}
		}, false, false, []Permission{}},
		{"role claim of wrong shape", func(c map[string]any) {
			delete(c, "scope")
			c["realm_access"] = "o2ims-admin"
		}, false, false, []Permission{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(map[string]any)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			p, err := f.auth.Authenticate(bearer(mint(t, f.ec, f.claims(mods...))))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.PermissionList(); fmt.Sprint(got) != fmt.Sprint(tc.wantPerms) {
				t.Fatalf("permissions = %v, want %v", got, tc.wantPerms)
			}
			for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
				checkRequire(t, p, m, tc.readOK, PermissionRead)
			}
			for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "TRACE", "get"} {
				checkRequire(t, p, m, tc.writeOK, PermissionWrite)
			}
		})
	}
}

func checkRequire(t *testing.T, p *Principal, method string, ok bool, perm Permission) {
	t.Helper()
	err := Require(p, method)
	if ok {
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return
	}
	if got := ims.ErrorCode(err); got != ims.EFORBIDDEN {
		t.Fatalf("%s: code %q, want %q", method, got, ims.EFORBIDDEN)
	}
	want := `Bearer realm="o2ims", error="insufficient_scope", scope="` + string(perm) + `"`
	if got := ChallengeHeader(err); got != want {
		t.Fatalf("%s: challenge %q, want %q", method, got, want)
	}
}

func TestRequireWithoutPrincipal(t *testing.T) {
	err := Require(nil, http.MethodGet)
	if ims.ErrorCode(err) != ims.EUNAUTHENTICATED || ChallengeHeader(err) != `Bearer realm="o2ims"` {
		t.Fatalf("err %v, challenge %q", err, ChallengeHeader(err))
	}
}

func TestChallengeHeaderForForeignErrors(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("boom"), ""},
		{ims.Errorf(ims.ENOTFOUND, "x"), ""},
		{ims.Errorf(ims.EUNAUTHENTICATED, "x"), `Bearer realm="o2ims"`},
		{ims.Errorf(ims.EFORBIDDEN, "x"), `Bearer realm="o2ims", error="insufficient_scope"`},
		{fmt.Errorf("wrapped: %w", missingToken()), `Bearer realm="o2ims"`},
	}
	for _, tc := range cases {
		if got := ChallengeHeader(tc.err); got != tc.want {
			t.Errorf("ChallengeHeader(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestPrincipalContext(t *testing.T) {
	if _, ok := PrincipalFrom(context.Background()); ok {
		t.Fatal("principal in empty context")
	}
	p := &Principal{Subject: "s"}
	got, ok := PrincipalFrom(WithPrincipal(context.Background(), p))
	if !ok || got != p {
		t.Fatalf("got %v %v", got, ok)
	}
	if _, ok := PrincipalFrom(WithPrincipal(context.Background(), nil)); ok {
		t.Fatal("nil principal reported present")
	}
}

func TestJWKSURLModeWithoutDiscovery(t *testing.T) {
	ec := newECKey(t, "k-ec")
	iss := newTestIssuer(t, ec)
	// Discovery would fail: prove it is never used.
	iss.mu.Lock()
	iss.discoveryIssuer = "https://not-this-one.example"
	iss.mu.Unlock()
	a, err := New(context.Background(), Options{
		JWKSURL:    iss.url() + "/jwks",
		Issuer:     "https://idp.example/realms/o2",
		Audience:   testAudience,
		HTTPClient: iss.client(),
	}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{
		"iss": "https://idp.example/realms/o2", "aud": testAudience, "sub": "svc",
		"exp": now.Add(time.Minute).Unix(), "scp": []string{"o2ims:read"},
	}
	p, err := a.Authenticate(bearer(mint(t, ec, claims)))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(PermissionRead) || p.Has(PermissionWrite) {
		t.Fatalf("permissions %v", p.PermissionList())
	}
	claims["iss"] = iss.url()
	p, err = a.Authenticate(bearer(mint(t, ec, claims)))
	wantUnauthenticated(t, p, err, "wrong issuer")
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	ec := newECKey(t, "k-ec")
	iss := newTestIssuer(t, ec)
	base := func() Options {
		return Options{IssuerURL: iss.url(), Audience: testAudience, HTTPClient: iss.client()}
	}
	cases := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"no issuer or JWKS", func(o *Options) { o.IssuerURL = "" }, "IssuerURL or JWKSURL is required"},
		{"both issuer and JWKS", func(o *Options) { o.JWKSURL = iss.url() + "/jwks" }, "not both"},
		{"no audience", func(o *Options) { o.Audience = "" }, "Audience is required"},
		{"alg none", func(o *Options) { o.Algorithms = []string{"ES256", "none"} }, `algorithm "none" is not allowed`},
		{"HS256", func(o *Options) { o.Algorithms = []string{"HS256"} }, `algorithm "HS256" is not allowed`},
		{"HS512", func(o *Options) { o.Algorithms = []string{"RS256", "HS512"} }, `algorithm "HS512" is not allowed`},
		{"unknown permission", func(o *Options) {
			o.RoleClaims = []string{"groups"}
			o.RoleMapping = map[string][]Permission{"admins": {"o2ims.write"}}
		}, "unknown permission"},
		{"mapping without claims", func(o *Options) {
			o.RoleMapping = map[string][]Permission{"admins": {PermissionWrite}}
		}, "RoleClaims"},
		{"bad claim path", func(o *Options) { o.RoleClaims = []string{"realm_access..roles"} }, "empty segment"},
		{"negative skew", func(o *Options) { o.ClockSkew = -time.Second }, "ClockSkew"},
		{"plain http issuer", func(o *Options) { o.IssuerURL = "http://idp.example" }, "must use https"},
		{"issuer mismatch field", func(o *Options) { o.Issuer = "https://other.example" }, "Issuer must be empty or equal"},
		{"discovery claims another issuer", func(o *Options) {
			iss.mu.Lock()
			iss.discoveryIssuer = "https://impostor.example"
			iss.mu.Unlock()
		}, `discovery document names issuer "https://impostor.example"`},
		{"issuer unreachable", func(o *Options) { o.IssuerURL = iss.url() + "/nothing-here" }, "status 404"},
		{"untrusted TLS", func(o *Options) { o.HTTPClient = &http.Client{} }, "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iss.mu.Lock()
			iss.discoveryIssuer = iss.url()
			iss.mu.Unlock()
			opts := base()
			tc.mutate(&opts)
			_, err := New(context.Background(), opts, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
}

func TestNewRejectsEmptyOrUnusableJWKS(t *testing.T) {
	iss := newTestIssuer(t) // publishes nothing
	_, err := New(context.Background(), Options{IssuerURL: iss.url(), Audience: testAudience, HTTPClient: iss.client()}, nil)
	if err == nil || !strings.Contains(err.Error(), "no usable signing keys") {
		t.Fatalf("err = %v", err)
	}
}

// selfSignedClientCert makes a throwaway client certificate; RFC 8705 binding
// compares thumbprints, so no CA is needed for these tests.
func selfSignedClientCert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}
}

func thumbprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestCertificateBoundTokens(t *testing.T) {
	for _, required := range []bool{false, true} {
		t.Run(fmt.Sprintf("RequireCertificateBinding=%v", required), func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.RequireCertificateBinding = required })
			// A real mTLS server on loopback that reports the outcome.
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := f.auth.Authenticate(r)
				if err != nil {
					w.Header().Set("WWW-Authenticate", ChallengeHeader(err))
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
			srv.StartTLS()
			t.Cleanup(srv.Close)

			good := selfSignedClientCert(t, "smo")
			bad := selfSignedClientCert(t, "thief")
			bound := mint(t, f.ec, f.claims(func(c map[string]any) {
				c["cnf"] = map[string]any{"x5t#S256": thumbprint(good)}
			}))
			unbound := mint(t, f.ec, f.claims())

			call := func(cert *tls.Certificate, token string) (int, string) {
				t.Helper()
				tr := srv.Client().Transport.(*http.Transport).Clone()
				if cert != nil {
					tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
				}
				client := &http.Client{Transport: tr}
				defer tr.CloseIdleConnections()
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
			}
			mismatch := `Bearer realm="o2ims", error="invalid_token", error_description="client certificate does not match token binding"`
			missing := `Bearer realm="o2ims", error="invalid_token", error_description="certificate-bound token without client certificate"`
			notBound := `Bearer realm="o2ims", error="invalid_token", error_description="token is not certificate-bound"`

			cases := []struct {
				name       string
				cert       *tls.Certificate
				token      string
				wantStatus int
				wantChal   string
			}{
				{"bound token, right cert", &good, bound, http.StatusNoContent, ""},
				{"bound token, wrong cert", &bad, bound, http.StatusUnauthorized, mismatch},
				{"bound token, no cert", nil, bound, http.StatusUnauthorized, missing},
			}
			if required {
				cases = append(cases, struct {
					name       string
					cert       *tls.Certificate
					token      string
					wantStatus int
					wantChal   string
				}{"unbound token, cert", &good, unbound, http.StatusUnauthorized, notBound})
			} else {
				cases = append(cases, struct {
					name       string
					cert       *tls.Certificate
					token      string
					wantStatus int
					wantChal   string
				}{"unbound token, no cert", nil, unbound, http.StatusNoContent, ""})
			}
			for _, tc := range cases {
				status, chal := call(tc.cert, tc.token)
				if status != tc.wantStatus || chal != tc.wantChal {
					t.Errorf("%s: status %d challenge %q, want %d %q", tc.name, status, chal, tc.wantStatus, tc.wantChal)
				}
			}
		})
	}
}

func TestKidlessTokenNeedsUnambiguousKey(t *testing.T) {
	f := newFixture(t, nil)
	f.iss.publish(newECKey(t, "k-ec-2"))
	// Force a refresh so the second ES256 key is cached.
	f.clock.Advance(DefaultJWKSMinRefreshInterval)
	if _, err := f.auth.Authenticate(bearer(mint(t, f.ec, f.claims(), "unknown"))); err == nil {
		t.Fatal("unknown kid accepted")
	}
	p, err := f.auth.Authenticate(bearer(mint(t, f.ec, f.claims(), "")))
	wantUnauthenticated(t, p, err, "unknown signing key")
	// With a kid it still works.
	if _, err := f.auth.Authenticate(bearer(mint(t, f.ec, f.claims()))); err != nil {
		t.Fatal(err)
	}
}

func TestCacheMaxAge(t *testing.T) {
	cases := map[string]time.Duration{
		"":                        defaultKeysMaxAge,
		"max-age=600":             10 * time.Minute,
		"public, max-age=3":       minKeysMaxAge,
		"max-age=99999999":        maxKeysMaxAge,
		"no-cache":                minKeysMaxAge,
		"max-age=abc":             defaultKeysMaxAge,
		"must-revalidate, no-sto": defaultKeysMaxAge,
	}
	for v, want := range cases {
		h := http.Header{}
		h.Set("Cache-Control", v)
		if got := cacheMaxAge(h); got != want {
			t.Errorf("cacheMaxAge(%q) = %v, want %v", v, got, want)
		}
	}
}
