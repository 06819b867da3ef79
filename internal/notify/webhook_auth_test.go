package notify_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/nephoran/o2ims/internal/notify"
)

// TestWebhookOAuth2 authenticates notifications with client-credentials
// tokens from a real token endpoint; the token is fetched once and reused.
func TestWebhookOAuth2(t *testing.T) {
	var issued atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad grant", http.StatusBadRequest)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok || id != "o2ims" || secret != "s3cret" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer tokens.Close()
	var authorized atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	wh := notify.NewWebhook(notify.WebhookOptions{OAuth2: &clientcredentials.Config{TokenURL: tokens.URL, ClientID: "o2ims", ClientSecret: "s3cret", Scopes: []string{"notify"}}})
	for range 3 {
		if retry, err := wh.Post(context.Background(), receiver.URL, []byte(`{}`)); err != nil {
			t.Fatalf("post: retry=%v err=%v", retry, err)
		}
	}
	if authorized.Load() != 3 || issued.Load() != 1 {
		t.Fatalf("authorized %d posts with %d tokens issued; want 3 with 1", authorized.Load(), issued.Load())
	}

	// Without credentials the same receiver refuses; 401 is worth a retry.
	plain := notify.NewWebhook(notify.WebhookOptions{})
	if retry, err := plain.Post(context.Background(), receiver.URL, []byte(`{}`)); err == nil || !retry {
		t.Fatalf("unauthenticated post: retry=%v err=%v", retry, err)
	}
}

// TestWebhookClientCertificate delivers to an https callback that requires
// a client certificate.
func TestWebhookClientCertificate(t *testing.T) {
	receiver := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	receiver.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	receiver.StartTLS()
	defer receiver.Close()
	roots := x509.NewCertPool()
	roots.AddCert(receiver.Certificate())
	// The test server's own certificate doubles as the client certificate.
	clientCert := receiver.TLS.Certificates[0]

	withCert := notify.NewWebhook(notify.WebhookOptions{TLS: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert}}})
	if _, err := withCert.Post(context.Background(), receiver.URL, []byte(`{}`)); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	without := notify.NewWebhook(notify.WebhookOptions{TLS: &tls.Config{RootCAs: roots}})
	if _, err := without.Post(context.Background(), receiver.URL, []byte(`{}`)); err == nil {
		t.Fatal("a callback requiring a client certificate accepted a post without one")
	}
}
