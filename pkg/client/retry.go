package o2

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// retryPolicy decides whether and when a failed attempt is repeated.
type retryPolicy struct {
	maxRetries    int           // retries after the first attempt
	baseDelay     time.Duration // backoff before the first retry, doubled for each further one
	maxDelay      time.Duration // cap of the computed backoff
	maxRetryAfter time.Duration // cap of a server's Retry-After
}

// newRetryPolicy returns the default policy with maxRetries retries.
func newRetryPolicy(maxRetries int) retryPolicy {
	return retryPolicy{
		maxRetries:    maxRetries,
		baseDelay:     250 * time.Millisecond,
		maxDelay:      8 * time.Second,
		maxRetryAfter: 60 * time.Second,
	}
}

// idempotent reports whether a request with this method may be sent again
// without changing its effect (RFC 9110 section 9.2.2). POST and PATCH are
// never retried: the first attempt may have been applied.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// retryableStatus reports whether an answer with this status says the same
// request may succeed later. It is the single place status codes are
// classified for retries.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	}
	return false
}

// retryableError reports whether a transport error is worth another
// attempt: connection refused or reset, a timed-out attempt and the like
// are; a certificate the client rejects and a refused OAuth 2.0 credential
// are not, as repeating cannot change them. The caller checks its own
// context first: a timed-out attempt also matches context.DeadlineExceeded.
func retryableError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var (
		unknownCA   x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
		header      tls.RecordHeaderError
		retrieve    *oauth2.RetrieveError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &invalidCert), errors.As(err, &hostname),
		errors.As(err, &verify), errors.As(err, &header), errors.As(err, &retrieve):
		return false
	}
	return true
}

// shouldRetry reports whether attempt (0 for the first) of a request with
// method, which ended with status (0 when there is no answer) or err, is
// to be followed by another one.
func (p retryPolicy) shouldRetry(method string, attempt, status int, err error) bool {
	if attempt >= p.maxRetries || !idempotent(method) {
		return false
	}
	if err != nil {
		return retryableError(err)
	}
	return retryableStatus(status)
}

// delay returns how long to wait before retry number attempt+1. A server's
// Retry-After wins, capped at maxRetryAfter; otherwise the backoff doubles
// from baseDelay up to maxDelay, and a random half of it is jitter so that
// clients refused together do not come back together.
func (p retryPolicy) delay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.maxRetryAfter)
	}
	d := p.baseDelay
	for i := 0; i < attempt && d < p.maxDelay; i++ {
		d *= 2
	}
	d = min(d, p.maxDelay)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}

// parseRetryAfter reads a Retry-After header, either delay-seconds or an
// HTTP date, and returns zero when it is absent, invalid or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleep waits for d or until ctx is done, and returns ctx's error in the
// latter case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
