package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Webhook POSTs JSON notifications to callbacks.
type Webhook struct {
	client *http.Client
}

// WebhookOptions configure the HTTP client used for callbacks.
type WebhookOptions struct {
	Policy  Policy
	Timeout time.Duration // per attempt; default 10s
	// Transport, when set, replaces the policy-enforcing transport (tests
	// and outgoing authentication wrap it).
	Transport http.RoundTripper
	// Wrap, when set, wraps the transport (for outgoing authentication).
	Wrap func(http.RoundTripper) http.RoundTripper
}

// NewWebhook returns a webhook sender whose connections obey the policy.
func NewWebhook(opts WebhookOptions) *Webhook {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	rt := opts.Transport
	if rt == nil {
		dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: opts.Policy.control}
		rt = &http.Transport{
			Proxy:               nil, // a proxy would hide the real destination from the policy
			DialContext:         dialer.DialContext,
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
			ForceAttemptHTTP2:   true,
		}
	}
	if opts.Wrap != nil {
		rt = opts.Wrap(rt)
	}
	return &Webhook{client: &http.Client{
		Transport: rt,
		Timeout:   opts.Timeout,
		// A redirect could lead anywhere; subscribers give their final URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Post sends body to url. It returns retry=true when a later attempt may
// succeed.
func (w *Webhook) Post(ctx context.Context, url string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "nephoran-o2ims")
	resp, err := w.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return Classify(resp.StatusCode)
}

// Classify is the one place where a callback's status code is judged: 2xx
// is success; 5xx, 429, 408 and 425 are worth retrying, and so are 401,
// 403 and 404, which usually mean a subscriber that is being deployed or
// reconfigured; any other status is final.
func Classify(code int) (retry bool, err error) {
	switch {
	case code >= 200 && code < 300:
		return false, nil
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == http.StatusTooEarly,
		code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusNotFound:
		return true, fmt.Errorf("callback answered %d", code)
	default:
		return false, fmt.Errorf("callback answered %d", code)
	}
}
