package o2

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryOn503HonoursRetryAfter(t *testing.T) {
	var attempts atomic.Int32
	var first, second time.Time
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch attempts.Add(1) {
		case 1:
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			writeProblem(w, http.StatusServiceUnavailable, "warming up")
		default:
			second = time.Now()
			writeJSON(w, `{"oCloudId":"c1","name":"cloud"}`)
		}
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	info, err := c.CloudInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.OCloudID != "c1" || attempts.Load() != 2 {
		t.Fatalf("info %+v after %d attempts", info, attempts.Load())
	}
	if wait := second.Sub(first); wait < 900*time.Millisecond {
		t.Errorf("retried after %v despite Retry-After: 1", wait)
	}
}

func TestRetryOn429ThenGivesUp(t *testing.T) {
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		writeProblem(w, http.StatusTooManyRequests, "slow down")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 2})
	_, err := c.ResourcePools().List(context.Background(), ListOptions{})
	if StatusCode(err) != http.StatusTooManyRequests {
		t.Fatalf("err = %v", err)
	}
	if attempts.Load() != 3 {
		t.Errorf("%d attempts, want 1 + 2 retries", attempts.Load())
	}
}

func TestNoRetryOnPostOrPatch(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			var attempts atomic.Int32
			srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				writeProblem(w, http.StatusServiceUnavailable, "busy")
			}))
			c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 5})
			col := newCollection[map[string]any](c, "subscription", InventoryAPIPrefix, "subscriptions")
			var err error
			if method == http.MethodPost {
				_, err = col.create(context.Background(), map[string]string{"callback": "http://x"})
			} else {
				_, err = col.patch(context.Background(), "s1", map[string]bool{"alarmAcknowledged": true})
			}
			if StatusCode(err) != http.StatusServiceUnavailable {
				t.Fatalf("err = %v", err)
			}
			if attempts.Load() != 1 {
				t.Errorf("%s sent %d times", method, attempts.Load())
			}
		})
	}
}

func TestNoRetryOn400(t *testing.T) {
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		writeProblem(w, http.StatusBadRequest, "filter: unknown attribute colour")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 5})
	_, err := c.ResourceTypes().List(context.Background(), ListOptions{Filter: Eq("colour", "red")})
	if !IsBadRequest(err) || attempts.Load() != 1 {
		t.Fatalf("err = %v after %d attempts", err, attempts.Load())
	}
}

func TestRetryDeleteAndPut(t *testing.T) {
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1)%2 == 1 {
			writeProblem(w, http.StatusServiceUnavailable, "busy")
			return
		}
		writeJSON(w, `{}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	if err := newCollection[struct{}](c, "subscription", InventoryAPIPrefix, "subscriptions").delete(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := newSingleton[struct{}](c, "/x").replace(ctx, &struct{}{}); err != nil {
		t.Fatal(err)
	}
	if attempts.Load() != 4 {
		t.Errorf("%d attempts, want 4", attempts.Load())
	}
}

func TestContextCancellationStopsRetries(t *testing.T) {
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Retry-After", "30")
		writeProblem(w, http.StatusServiceUnavailable, "busy")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 10})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.CloudInfo(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	if attempts.Load() != 1 {
		t.Errorf("%d attempts", attempts.Load())
	}

	// A context already done sends nothing.
	_, err = c.CloudInfo(ctx)
	if !errors.Is(err, context.Canceled) || attempts.Load() != 1 {
		t.Errorf("done context: err = %v, attempts %d", err, attempts.Load())
	}
}

func TestRetryOnConnectionErrors(t *testing.T) {
	// The first two connections are closed without an answer.
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeJSON(w, `[{"resourcePoolId":"p1"}]`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	page, err := c.ResourcePools().List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || attempts.Load() != 3 {
		t.Fatalf("page %+v after %d attempts", page, attempts.Load())
	}
}

func TestConnectionRefusedGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, Config{Endpoint: "http://" + addr, MaxRetries: 2})
	_, err = c.CloudInfo(context.Background())
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("err = %T %v", err, err)
	}
}

func TestRetryPolicy(t *testing.T) {
	p := newRetryPolicy(3)
	cases := []struct {
		method  string
		attempt int
		status  int
		err     error
		want    bool
	}{
		{"GET", 0, 503, nil, true},
		{"GET", 0, 429, nil, true},
		{"HEAD", 2, 503, nil, true},
		{"GET", 3, 503, nil, false},
		{"GET", 0, 500, nil, false},
		{"GET", 0, 502, nil, false},
		{"GET", 0, 404, nil, false},
		{"PUT", 0, 503, nil, true},
		{"DELETE", 0, 0, errors.New("connection reset"), true},
		{"POST", 0, 503, nil, false},
		{"PATCH", 0, 429, nil, false},
		{"POST", 0, 0, errors.New("connection reset"), false},
		{"GET", 0, 0, context.Canceled, false},
	}
	for _, c := range cases {
		if got := p.shouldRetry(c.method, c.attempt, c.status, c.err); got != c.want {
			t.Errorf("shouldRetry(%s, %d, %d, %v) = %v", c.method, c.attempt, c.status, c.err, got)
		}
	}
	for attempt := range 10 {
		d := p.delay(attempt, 0)
		if d <= 0 || d > p.maxDelay {
			t.Errorf("delay(%d) = %v", attempt, d)
		}
	}
	if d := p.delay(0, 2*time.Second); d != 2*time.Second {
		t.Errorf("Retry-After ignored: %v", d)
	}
	if d := p.delay(0, time.Hour); d != p.maxRetryAfter {
		t.Errorf("Retry-After not capped: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 7 ":                           7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:04:00 GMT": 0,
		"99999999999":                   24 * time.Hour,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRetryAfterBeyondDeadlineReturnsLastAnswer(t *testing.T) {
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Retry-After", "30")
		writeProblem(w, http.StatusServiceUnavailable, "maintenance")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.CloudInfo(ctx)
	if StatusCode(err) != http.StatusServiceUnavailable || time.Since(start) > time.Second || attempts.Load() != 1 {
		t.Fatalf("err = %v after %v and %d attempts", err, time.Since(start), attempts.Load())
	}
}
