package o2

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tokenEndpoint is a small OAuth 2.0 token endpoint for the client
// credentials grant. It issues numbered tokens valid for expiresIn seconds
// and remembers the form of each request.
type tokenEndpoint struct {
	expiresIn int
	issued    atomic.Int32
	mu        sync.Mutex
	forms     []url.Values
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if id != "smo" || secret != "s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	te.mu.Lock()
	te.forms = append(te.forms, r.PostForm)
	te.mu.Unlock()
	n := te.issued.Add(1)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": fmt.Sprintf("token-%d", n),
		"token_type":   "Bearer",
		"expires_in":   te.expiresIn,
		"scope":        r.PostForm.Get("scope"),
	})
}

// bearerRecorder is an API server that answers CloudInfo and records the
// Authorization header of each request.
type bearerRecorder struct {
	mu    sync.Mutex
	auths []string
}

func (b *bearerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.auths = append(b.auths, r.Header.Get("Authorization"))
	b.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeProblem(w, http.StatusUnauthorized, "missing bearer token")
		return
	}
	writeJSON(w, `{"oCloudId":"c1"}`)
}

func TestOAuth2ClientCredentialsTokenReused(t *testing.T) {
	te := &tokenEndpoint{expiresIn: 3600}
	tokenSrv := newTestServer(t, te)
	api := &bearerRecorder{}
	apiSrv := newTestServer(t, api)

	c := newTestClient(t, Config{
		Endpoint: apiSrv.URL,
		Authentication: &AuthConfig{Type: AuthOAuth2, OAuth2: &OAuth2Config{
			TokenURL: tokenSrv.URL + "/token", ClientID: "smo", ClientSecret: "s3cret",
			Scopes:         []string{ScopeRead, ScopeWrite},
			EndpointParams: url.Values{"audience": {"o2ims"}},
		}},
	})
	for range 3 {
		if _, err := c.CloudInfo(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := te.issued.Load(); n != 1 {
		t.Errorf("%d tokens issued for 3 calls, want 1", n)
	}
	for i, a := range api.auths {
		if a != "Bearer token-1" {
			t.Errorf("request %d sent Authorization %q", i, a)
		}
	}
	f := te.forms[0]
	if f.Get("scope") != "o2ims:read o2ims:write" || f.Get("audience") != "o2ims" {
		t.Errorf("token request form %v", f)
	}
}

func TestOAuth2TokenRefreshedWhenExpiring(t *testing.T) {
	// A token valid for one second is within the refresh margin at once,
	// so every call asks for a new one.
	te := &tokenEndpoint{expiresIn: 1}
	tokenSrv := newTestServer(t, te)
	api := &bearerRecorder{}
	apiSrv := newTestServer(t, api)
	c := newTestClient(t, Config{
		Endpoint: apiSrv.URL,
		Authentication: &AuthConfig{Type: AuthOAuth2, OAuth2: &OAuth2Config{
			TokenURL: tokenSrv.URL, ClientID: "smo", ClientSecret: "s3cret",
		}},
	})
	for range 3 {
		if _, err := c.CloudInfo(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := te.issued.Load(); n != 3 {
		t.Errorf("%d tokens issued, want 3", n)
	}
	if got := strings.Join(api.auths, ","); got != "Bearer token-1,Bearer token-2,Bearer token-3" {
		t.Errorf("Authorization headers %s", got)
	}
}

func TestOAuth2RejectedCredentialIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	tokenSrv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	api := &bearerRecorder{}
	apiSrv := newTestServer(t, api)
	c := newTestClient(t, Config{
		Endpoint: apiSrv.URL,
		Authentication: &AuthConfig{Type: AuthOAuth2, OAuth2: &OAuth2Config{
			TokenURL: tokenSrv.URL, ClientID: "smo", ClientSecret: "wrong",
		}},
		MaxRetries: 5,
	})
	_, err := c.CloudInfo(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("err = %v", err)
	}
	if !IsAuthError(err) || IsAuthError(errors.New("x")) {
		t.Errorf("IsAuthError(%v) is false", err)
	}
	if len(api.auths) != 0 {
		t.Errorf("API called %d times without a token", len(api.auths))
	}
	// AuthStyleAutoDetect tries the header, then the form: two requests at
	// most, and no retries on top.
	if n := calls.Load(); n > 2 {
		t.Errorf("token endpoint called %d times", n)
	}
}

func TestBearerAndNone(t *testing.T) {
	api := &bearerRecorder{}
	apiSrv := newTestServer(t, api)
	ctx := context.Background()

	c := newTestClient(t, Config{Endpoint: apiSrv.URL, Authentication: &AuthConfig{Type: AuthBearer, Token: "abc"}})
	if _, err := c.CloudInfo(ctx); err != nil {
		t.Fatal(err)
	}
	c = newTestClient(t, Config{Endpoint: apiSrv.URL, Authentication: &AuthConfig{Type: AuthNone}})
	_, err := c.CloudInfo(ctx)
	if !IsUnauthorized(err) {
		t.Fatalf("err = %v", err)
	}
	c = newTestClient(t, Config{Endpoint: apiSrv.URL})
	if _, err := c.CloudInfo(ctx); !IsUnauthorized(err) {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(api.auths, ","); got != "Bearer abc,," {
		t.Errorf("Authorization headers %q", got)
	}
}

func TestCredentialsStayWithTheEndpoint(t *testing.T) {
	other := &bearerRecorder{}
	otherSrv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.mu.Lock()
		other.auths = append(other.auths, r.Header.Get("Authorization"))
		other.mu.Unlock()
		writeJSON(w, `{"oCloudId":"elsewhere"}`)
	}))
	apiSrv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	c := newTestClient(t, Config{Endpoint: apiSrv.URL, Authentication: &AuthConfig{Type: AuthBearer, Token: "secret"}})
	if _, err := c.CloudInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(other.auths) != 1 || other.auths[0] != "" {
		t.Errorf("the other origin received Authorization %q", other.auths)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{},
		{Endpoint: "ftp://x"},
		{Endpoint: "http://"},
		{Endpoint: "/relative"},
		{Endpoint: "http://user:pw@host"},
		{Endpoint: "http://h", Authentication: &AuthConfig{Type: "kerberos"}},
		{Endpoint: "http://h", Authentication: &AuthConfig{Type: AuthBearer}},
		{Endpoint: "http://h", Authentication: &AuthConfig{Type: AuthOAuth2}},
		{Endpoint: "http://h", Authentication: &AuthConfig{Type: AuthOAuth2, OAuth2: &OAuth2Config{TokenURL: "::", ClientID: "x"}}},
		{Endpoint: "http://h", TLS: &TLSConfig{CAFile: "/does/not/exist"}},
		{Endpoint: "http://h", TLS: &TLSConfig{CertFile: "c.pem"}},
	}
	for _, cfg := range bad {
		if _, err := NewClient(&cfg); err == nil {
			t.Errorf("NewClient(%+v) accepted", cfg)
		}
	}
	if _, err := NewClient(nil); err == nil {
		t.Error("nil Config accepted")
	}
	c, err := NewClient(&Config{Endpoint: "https://ims.example.net/base/?x=1#f"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != "https://ims.example.net/base" {
		t.Errorf("Endpoint() = %q", c.Endpoint())
	}
	if c.retry.maxRetries != DefaultMaxRetries || c.http.Timeout != DefaultTimeout {
		t.Errorf("defaults: retries %d timeout %v", c.retry.maxRetries, c.http.Timeout)
	}
	c, _ = NewClient(&Config{Endpoint: "http://h", MaxRetries: -1, Timeout: -1})
	if c.retry.maxRetries != 0 || c.http.Timeout != 0 {
		t.Errorf("disabled: retries %d timeout %v", c.retry.maxRetries, c.http.Timeout)
	}
}

func TestTLSWithCAFileAndUserAgent(t *testing.T) {
	var ua string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
		writeJSON(w, `{"oCloudId":"tls"}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the test makes fail
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Without the CA the certificate is rejected, and not retried.
	c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 3})
	if _, err := c.CloudInfo(ctx); err == nil || retryableError(errors.Unwrap(err)) {
		t.Fatalf("unknown CA: err = %v", err)
	}
	c = newTestClient(t, Config{Endpoint: srv.URL, TLS: &TLSConfig{CAFile: ca}, UserAgent: "test-agent/1"})
	info, err := c.CloudInfo(ctx)
	if err != nil || info.OCloudID != "tls" {
		t.Fatalf("with CA: %+v %v", info, err)
	}
	if ua != "test-agent/1" {
		t.Errorf("User-Agent %q", ua)
	}
	c = newTestClient(t, Config{Endpoint: srv.URL, TLS: &TLSConfig{InsecureSkipVerify: true}})
	if _, err := c.CloudInfo(ctx); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	if !strings.HasPrefix(ua, "o2ims-go-client/") {
		t.Errorf("default User-Agent %q", ua)
	}
	// A caller's HTTP client is used, with authentication added.
	c = newTestClient(t, Config{Endpoint: srv.URL, HTTPClient: srv.Client()})
	if _, err := c.CloudInfo(ctx); err != nil {
		t.Fatalf("HTTPClient: %v", err)
	}
}
