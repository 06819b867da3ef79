package o2

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// newTestServer starts an httptest server with h and closes it when the
// test ends.
func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newTestClient returns a client of endpoint with fast retries and fast
// polling.
func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(&cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	c.retry.baseDelay = time.Millisecond
	c.retry.maxDelay = 5 * time.Millisecond
	c.poll = pollPolicy{initial: time.Millisecond, max: 5 * time.Millisecond}
	return c
}

// writeJSON writes a 200 answer with body.
func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

// writeProblem writes a problem details answer.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"type":"about:blank","title":"` + http.StatusText(status) + `","status":` +
		strconv.Itoa(status) + `,"detail":"` + detail + `","instance":"/x"}`))
}

// readAll returns the request body as a string.
func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}
