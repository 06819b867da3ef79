package ratelimit

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

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

func newTestLimiter(opts Options) (*Limiter, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return newLimiter(opts, clock.Now), clock
}

func wantAllow(t *testing.T, l *Limiter, key string, ok bool, retry time.Duration) {
	t.Helper()
	gotOK, gotRetry := l.Allow(key)
	if gotOK != ok || gotRetry != retry {
		t.Fatalf("Allow(%q) = %v, %v; want %v, %v", key, gotOK, gotRetry, ok, retry)
	}
}

func TestTokenBucket(t *testing.T) {
	l, clock := newTestLimiter(Options{RequestsPerSecond: 2, Burst: 3})
	// A fresh client has the full burst...
	for range 3 {
		wantAllow(t, l, "a", true, 0)
	}
	// ...then waits 1/rate for each token.
	wantAllow(t, l, "a", false, 500*time.Millisecond)
	clock.Advance(200 * time.Millisecond)
	wantAllow(t, l, "a", false, 300*time.Millisecond)
	clock.Advance(300 * time.Millisecond)
	wantAllow(t, l, "a", true, 0)
	wantAllow(t, l, "a", false, 500*time.Millisecond)
	// A refused request costs nothing: the wait does not grow.
	wantAllow(t, l, "a", false, 500*time.Millisecond)
	// Other clients are unaffected.
	wantAllow(t, l, "b", true, 0)
	// After a long pause the bucket is full again, but no fuller.
	clock.Advance(time.Hour)
	for range 3 {
		wantAllow(t, l, "a", true, 0)
	}
	wantAllow(t, l, "a", false, 500*time.Millisecond)
}

func TestDefaults(t *testing.T) {
	l, _ := newTestLimiter(Options{RequestsPerSecond: 2.5})
	if l.burst != 3 || l.maxClients != DefaultMaxClients || l.ttl != DefaultTTL {
		t.Fatalf("burst %d, max %d, ttl %v", l.burst, l.maxClients, l.ttl)
	}
	l, _ = newTestLimiter(Options{RequestsPerSecond: 0.1})
	if l.burst != 1 {
		t.Fatalf("burst %d, want 1", l.burst)
	}
}

func TestDisabled(t *testing.T) {
	for _, rps := range []float64{0, -1} {
		l, _ := newTestLimiter(Options{RequestsPerSecond: rps})
		for i := range 1000 {
			wantAllow(t, l, fmt.Sprint(i%3), true, 0)
		}
		if l.Len() != 0 {
			t.Fatalf("disabled limiter tracks %d clients", l.Len())
		}
	}
}

func TestLRUBound(t *testing.T) {
	l, _ := newTestLimiter(Options{RequestsPerSecond: 1, Burst: 1, MaxClients: 2})
	wantAllow(t, l, "a", true, 0)
	wantAllow(t, l, "b", true, 0)
	wantAllow(t, l, "a", false, time.Second) // a is now the most recent
	wantAllow(t, l, "c", true, 0)            // evicts b, the least recent
	if l.Len() != 2 {
		t.Fatalf("Len = %d, want 2", l.Len())
	}
	wantAllow(t, l, "a", false, time.Second) // a kept its empty bucket
	wantAllow(t, l, "b", true, 0)            // b was forgotten: fresh bucket (evicts c)
	if l.Len() != 2 {
		t.Fatalf("Len = %d, want 2", l.Len())
	}
}

func TestIdleEviction(t *testing.T) {
	l, clock := newTestLimiter(Options{RequestsPerSecond: 10, Burst: 10, TTL: time.Minute})
	for i := range 100 {
		l.Allow(fmt.Sprint("client-", i))
	}
	if l.Len() != 100 {
		t.Fatalf("Len = %d", l.Len())
	}
	clock.Advance(time.Minute + time.Second)
	l.Allow("fresh")
	if l.Len() != 1 {
		t.Fatalf("Len after idle = %d, want 1", l.Len())
	}
}

// An exhausted client must not escape its limit by going idle just past a
// TTL shorter than the refill time.
func TestTTLNotShorterThanRefill(t *testing.T) {
	l, clock := newTestLimiter(Options{RequestsPerSecond: 0.1, Burst: 10, TTL: time.Second})
	if l.ttl != 100*time.Second {
		t.Fatalf("ttl = %v, want 100s", l.ttl)
	}
	for range 10 {
		wantAllow(t, l, "a", true, 0)
	}
	clock.Advance(2 * time.Second)
	wantAllow(t, l, "a", false, 8*time.Second)
}

func TestConcurrentClientsGetExactlyTheirBurst(t *testing.T) {
	l, _ := newTestLimiter(Options{RequestsPerSecond: 1, Burst: 5})
	var allowed [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 40 {
		wg.Go(func() {
			for range 25 {
				key := g % len(allowed)
				if ok, _ := l.Allow(fmt.Sprint(key)); ok {
					allowed[key].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if n := allowed[k].Load(); n != 5 {
			t.Errorf("client %d allowed %d, want 5 (the clock does not move)", k, n)
		}
	}
}

func TestTooManyAndRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "1",
		time.Nanosecond:         "1",
		500 * time.Millisecond:  "1",
		time.Second:             "1",
		1001 * time.Millisecond: "2",
		90 * time.Second:        "90",
	} {
		if got := RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
	err := TooMany(1500 * time.Millisecond)
	if ims.ErrorCode(err) != ims.ETOOMANY || err.Message != "Too many requests; retry after 2 seconds." {
		t.Fatalf("TooMany = %v", err)
	}
}

func TestClientKey(t *testing.T) {
	trusted := KeyOptions{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
	}}
	cases := []struct {
		name    string
		opts    KeyOptions
		remote  string
		xff     []string
		subject string
		want    string
	}{
		{"subject wins", KeyOptions{}, "192.0.2.1:1234", nil, "smo-1", "sub:smo-1"},
		{"IPv4 without port", KeyOptions{}, "192.0.2.1:1234", nil, "", "ip:192.0.2.1"},
		{"same IPv4, other port", KeyOptions{}, "192.0.2.1:4321", nil, "", "ip:192.0.2.1"},
		{"IPv6 keyed by /64", KeyOptions{}, "[2001:db8:1:2:aaaa::1]:443", nil, "", "ip:2001:db8:1:2::/64"},
		{"IPv6 neighbour in same /64", KeyOptions{}, "[2001:db8:1:2:bbbb::9]:443", nil, "", "ip:2001:db8:1:2::/64"},
		{"IPv6 with zone", KeyOptions{}, "[fe80::1%eth0]:443", nil, "", "ip:fe80::/64"},
		{"IPv4-mapped IPv6", KeyOptions{}, "[::ffff:192.0.2.1]:1", nil, "", "ip:192.0.2.1"},
		{"no port", KeyOptions{}, "192.0.2.1", nil, "", "ip:192.0.2.1"},
		{"not an IP", KeyOptions{}, "@", nil, "", "ip:@"},
		{"XFF ignored by default", KeyOptions{}, "10.0.0.1:1", []string{"203.0.113.7"}, "", "ip:10.0.0.1"},
		{"XFF ignored from untrusted peer", trusted, "192.0.2.1:1", []string{"203.0.113.7"}, "", "ip:192.0.2.1"},
		{"XFF from trusted proxy", trusted, "10.0.0.1:1", []string{"203.0.113.7"}, "", "ip:203.0.113.7"},
		{"XFF through two proxies", trusted, "10.0.0.1:1", []string{"203.0.113.7, 10.1.1.1"}, "", "ip:203.0.113.7"},
		{"XFF spoofed left entry ignored", trusted, "10.0.0.1:1", []string{"198.51.100.66, 203.0.113.7"}, "", "ip:203.0.113.7"},
		{"XFF split over headers", trusted, "10.0.0.1:1", []string{"198.51.100.66", "203.0.113.7, 10.2.2.2"}, "", "ip:203.0.113.7"},
		{"XFF garbage stops at last good hop", trusted, "10.0.0.1:1", []string{"203.0.113.7, junk, 10.2.2.2"}, "", "ip:10.2.2.2"},
		{"XFF all trusted", trusted, "10.0.0.1:1", []string{"10.3.3.3"}, "", "ip:10.3.3.3"},
		{"XFF absent behind proxy", trusted, "10.0.0.1:1", nil, "", "ip:10.0.0.1"},
		{"XFF IPv6 client", trusted, "[fd00::1]:1", []string{"2001:db8:9:9::5"}, "", "ip:2001:db8:9:9::/64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.opts.ClientKey(r, tc.subject); got != tc.want {
				t.Fatalf("key = %q, want %q", got, tc.want)
			}
			if len(tc.opts.TrustedProxies) == 0 {
				if got := ClientKey(r, tc.subject); got != tc.want {
					t.Fatalf("ClientKey = %q, want %q", got, tc.want)
				}
			}
		})
	}
}
