package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		code  int
		ok    bool
		retry bool
	}{
		{200, true, false},
		{201, true, false},
		{202, true, false},
		{204, true, false},
		{299, true, false},
		{301, false, false},
		{302, false, false},
		{307, false, false},
		{400, false, false},
		{401, false, true},
		{403, false, true},
		{404, false, true},
		{405, false, false},
		{408, false, true},
		{409, false, false},
		{410, false, false},
		{413, false, false},
		{415, false, false},
		{422, false, false},
		{425, false, true},
		{429, false, true},
		{500, false, true},
		{502, false, true},
		{503, false, true},
		{504, false, true},
		{100, false, false},
	}
	for _, tc := range tests {
		retry, err := Classify(tc.code)
		if (err == nil) != tc.ok {
			t.Errorf("Classify(%d) err = %v, want ok=%v", tc.code, err, tc.ok)
		}
		if retry != tc.retry {
			t.Errorf("Classify(%d) retry = %v, want %v", tc.code, retry, tc.retry)
		}
		if err != nil && !strings.Contains(err.Error(), http.StatusText(tc.code)) && !strings.Contains(err.Error(), itoa(tc.code)) {
			t.Errorf("Classify(%d) error %q does not name the status", tc.code, err)
		}
	}
}

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// receiver is a callback server that records what it gets and answers
// with the status of its status function.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
	hdrs   []http.Header
	conns  atomic.Int64
	status func(n int) int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, req.Method+" "+string(b))
		r.hdrs = append(r.hdrs, req.Header.Clone())
		n := len(r.bodies)
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
	}))
	r.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func TestWebhookPost(t *testing.T) {
	codes := []int{204, 503, 400, 404, 302, 200}
	rcv := newReceiver(t, func(n int) int { return codes[(n-1)%len(codes)] })
	w := NewWebhook(WebhookOptions{})
	ctx := context.Background()
	for i, code := range codes {
		retry, err := w.Post(ctx, rcv.srv.URL+"/cb", []byte(`{"n":`+itoa(i+1)+`}`))
		wantRetry, wantErr := Classify(code)
		if retry != wantRetry || (err == nil) != (wantErr == nil) {
			t.Fatalf("post %d (server answers %d): retry=%v err=%v, want retry=%v err=%v", i, code, retry, err, wantRetry, wantErr)
		}
	}
	if got := rcv.count(); got != len(codes) {
		t.Fatalf("receiver got %d requests, want %d (a redirect must not be followed)", got, len(codes))
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.bodies[0] != `POST {"n":1}` {
		t.Fatalf("first request %q", rcv.bodies[0])
	}
	if ct := rcv.hdrs[0].Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	// Keep-alive: the six sequential posts share one connection.
	if n := rcv.conns.Load(); n != 1 {
		t.Fatalf("six sequential posts opened %d connections, want 1", n)
	}
}

// Many workers posting to one subscriber host keep their connections:
// the idle pool per host must hold one connection per concurrent worker,
// or each round of posts dials anew.
func TestWebhookReusesConnectionsPerHost(t *testing.T) {
	const workers, rounds = 64, 10
	// Each request waits until all workers have a request in flight, so
	// every round needs a connection per worker at once.
	var (
		mu      sync.Mutex
		arrived int
		round   = make([]chan struct{}, rounds)
	)
	for i := range round {
		round[i] = make(chan struct{})
	}
	rcv := newReceiver(t, func(int) int {
		mu.Lock()
		r := arrived / workers
		arrived++
		if arrived%workers == 0 {
			close(round[r])
		}
		mu.Unlock()
		select {
		case <-round[r]:
		case <-time.After(10 * time.Second):
		}
		return 204
	})
	w := NewWebhook(WebhookOptions{})
	// Rounds start together, once every connection of the previous
	// round is back in the idle pool.
	var failed atomic.Int64
	for range rounds {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				if _, err := w.Post(context.Background(), rcv.srv.URL+"/cb", []byte(`{}`)); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		time.Sleep(20 * time.Millisecond) // let the transport put connections back
	}
	if failed.Load() > 0 {
		t.Fatalf("%d posts failed", failed.Load())
	}
	// One connection per worker, with slack for a connection that was
	// not back in the pool when its worker's next round began; without
	// reuse it would be about workers × rounds.
	if n := rcv.conns.Load(); n > 2*workers {
		t.Fatalf("%d workers × %d posts opened %d connections, want at most %d", workers, rounds, n, 2*workers)
	}
}

func TestWebhookTransportFailuresAreRetryable(t *testing.T) {
	w := NewWebhook(WebhookOptions{Timeout: 200 * time.Millisecond})
	ctx := context.Background()

	// Nothing listens: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	retry, err := w.Post(ctx, "http://"+addr+"/cb", []byte(`{}`))
	if err == nil || !retry {
		t.Fatalf("refused connection: retry=%v err=%v, want a retryable error", retry, err)
	}

	// A subscriber that does not answer within the timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	retry, err = w.Post(ctx, slow.URL+"/cb", []byte(`{}`))
	if err == nil || !retry {
		t.Fatalf("timeout: retry=%v err=%v, want a retryable error", retry, err)
	}
}

// The dialer enforces the policy on the address actually connected to, so
// a callback validated earlier (or a host name that now resolves
// elsewhere) cannot reach a denied address. The refusal is final: the
// policy is deterministic for the address, so retrying cannot succeed,
// and the event is dropped with the reason as the subscription's last
// error instead of blocking the subscription until the event expires.
func TestWebhookDialerEnforcesPolicy(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return 204 })
	w := NewWebhook(WebhookOptions{Policy: Policy{DenyLoopback: true}})
	_, port, _ := net.SplitHostPort(rcv.srv.Listener.Addr().String())
	for _, u := range []string{rcv.srv.URL + "/cb", "http://localhost:" + port + "/cb"} {
		retry, err := w.Post(context.Background(), u, []byte(`{}`))
		if err == nil {
			t.Fatalf("post to %s succeeded despite DenyLoopback", u)
		}
		if !strings.Contains(err.Error(), "loopback") {
			t.Fatalf("post to %s: error %q does not give the reason", u, err)
		}
		var denied *DeniedError
		if !errors.As(err, &denied) {
			t.Fatalf("post to %s: error %v is not a *DeniedError", u, err)
		}
		if retry {
			t.Fatalf("post to %s: a policy refusal was classified retryable", u)
		}
	}
	if n := rcv.count(); n != 0 {
		t.Fatalf("the denied receiver got %d requests", n)
	}
	if n := rcv.conns.Load(); n != 0 {
		t.Fatalf("the denied receiver saw %d connections", n)
	}

	// The same receiver is reachable under the default policy.
	ok := NewWebhook(WebhookOptions{})
	if _, err := ok.Post(context.Background(), rcv.srv.URL+"/cb", []byte(`{}`)); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	if n := rcv.count(); n != 1 {
		t.Fatalf("receiver got %d requests, want 1", n)
	}
}

func TestWebhookBadURL(t *testing.T) {
	w := NewWebhook(WebhookOptions{})
	retry, err := w.Post(context.Background(), "http://[::1", []byte(`{}`))
	if err == nil || retry {
		t.Fatalf("malformed URL: retry=%v err=%v, want a final error", retry, err)
	}
}
