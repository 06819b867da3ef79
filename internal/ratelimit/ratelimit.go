// Package ratelimit limits request rates per client with token buckets, so
// that one client cannot starve the others or the inventory backend.
//
// Clients are tracked in a bounded LRU with an idle timeout: memory stays
// flat however many distinct clients (or spoofed addresses) show up.
package ratelimit

import (
	"container/list"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/nephoran/o2ims/internal/ims"
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxClients bounds the client table to a few megabytes.
	DefaultMaxClients = 10000
	// DefaultTTL is how long an idle client's bucket is remembered.
	DefaultTTL = 10 * time.Minute
)

// Options configures a Limiter.
type Options struct {
	// RequestsPerSecond is the sustained rate allowed per client. Zero or
	// less disables limiting: Allow then always succeeds.
	RequestsPerSecond float64
	// Burst is how many requests a client may make at once after being
	// idle; at least 1, and the rate rounded up when zero.
	Burst int
	// MaxClients bounds the number of clients tracked, DefaultMaxClients
	// when zero. When full, the least recently seen client is forgotten.
	MaxClients int
	// TTL is how long an idle client is remembered, DefaultTTL when zero.
	// It is raised to at least the time a bucket takes to refill, so that
	// forgetting a client never grants it more than waiting would have.
	TTL time.Duration
}

// Limiter holds one token bucket per client key. It is safe for concurrent
// use.
type Limiter struct {
	limit      rate.Limit
	burst      int
	maxClients int
	ttl        time.Duration
	disabled   bool
	now        func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element // of *client
	lru     *list.List               // front: most recently seen
}

type client struct {
	key      string
	bucket   *rate.Limiter
	lastSeen time.Time
}

// New returns a Limiter for opts, applying the defaults described on Options.
func New(opts Options) *Limiter {
	return newLimiter(opts, time.Now)
}

// newLimiter is New with a clock, so tests can move time without sleeping.
func newLimiter(opts Options, now func() time.Time) *Limiter {
	l := &Limiter{now: now}
	if opts.RequestsPerSecond <= 0 || math.IsNaN(opts.RequestsPerSecond) {
		l.disabled = true
		return l
	}
	l.limit = rate.Limit(opts.RequestsPerSecond)
	l.burst = opts.Burst
	if l.burst <= 0 {
		l.burst = max(1, int(math.Ceil(opts.RequestsPerSecond)))
	}
	l.maxClients = opts.MaxClients
	if l.maxClients <= 0 {
		l.maxClients = DefaultMaxClients
	}
	l.ttl = opts.TTL
	if l.ttl <= 0 {
		l.ttl = DefaultTTL
	}
	refill := time.Duration(float64(l.burst) / opts.RequestsPerSecond * float64(time.Second))
	l.ttl = max(l.ttl, refill)
	l.clients = make(map[string]*list.Element)
	l.lru = list.New()
	return l
}

// Allow takes one token from key's bucket. When the bucket is empty it
// returns false and how long until a token is available, for a Retry-After
// header.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l.disabled {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()

	l.evictIdle(now)
	c := l.lookup(key, now)
	c.lastSeen = now
	if c.bucket.AllowN(now, 1) {
		return true, 0
	}
	deficit := 1 - c.bucket.TokensAt(now)
	wait := time.Duration(math.Ceil(deficit / float64(l.limit) * float64(time.Second)))
	return false, max(wait, time.Nanosecond)
}

// Len returns how many clients are tracked, for metrics.
func (l *Limiter) Len() int {
	if l.disabled {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// lookup returns key's client, creating it and evicting the least recently
// seen client if the table is full. l.mu must be held.
func (l *Limiter) lookup(key string, now time.Time) *client {
	if e, ok := l.clients[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*client)
	}
	for l.lru.Len() >= l.maxClients {
		l.remove(l.lru.Back())
	}
	c := &client{key: key, bucket: rate.NewLimiter(l.limit, l.burst), lastSeen: now}
	l.clients[key] = l.lru.PushFront(c)
	return c
}

// evictIdle drops clients idle for longer than the TTL. The LRU is ordered by
// last use, so only the tail needs looking at, keeping Allow O(1) amortized.
// l.mu must be held.
func (l *Limiter) evictIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if now.Sub(e.Value.(*client).lastSeen) <= l.ttl {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.clients, e.Value.(*client).key)
	l.lru.Remove(e)
}

// TooMany returns the ETOOMANY error for a refused request; the message names
// the wait in whole seconds, like the Retry-After header.
func TooMany(retryAfter time.Duration) *ims.Error {
	return ims.Errorf(ims.ETOOMANY, "Too many requests; retry after %s seconds.", RetryAfterSeconds(retryAfter))
}

// RetryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up so a client that obeys it is not refused again, and at least 1.
func RetryAfterSeconds(d time.Duration) string {
	secs := int64(math.Ceil(d.Seconds()))
	return strconv.FormatInt(max(secs, 1), 10)
}
