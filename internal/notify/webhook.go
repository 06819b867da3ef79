package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/nephoran/o2ims/internal/tracing"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
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
	// TLS configures connections to https callbacks: a client
	// certificate for subscribers that require mTLS, and trusted roots.
	TLS *tls.Config
	// OAuth2, when set, authenticates every notification with a bearer
	// token obtained by the client-credentials grant.
	OAuth2 *clientcredentials.Config
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
			Proxy:       nil, // a proxy would hide the real destination from the policy
			DialContext: dialer.DialContext,
			// Many subscriptions often share one receiver host, and the
			// dispatcher posts for up to 256 of them at once: keep a
			// connection per concurrent worker instead of closing all
			// but 16 after each round and dialling again.
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
			TLSClientConfig:     opts.TLS,
			ForceAttemptHTTP2:   true,
		}
	}
	if opts.OAuth2 != nil {
		// The token endpoint is reached with a plain client; it is
		// configuration, not subscriber input, so the policy does not apply.
		tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: opts.Timeout})
		rt = &oauth2.Transport{Source: opts.OAuth2.TokenSource(tokenCtx), Base: rt}
	}
	if opts.Wrap != nil {
		rt = opts.Wrap(rt)
	}
	// A client span per attempt; the subscriber gets its traceparent.
	rt = tracing.Transport(rt)
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
		// A refusal by the policy is final; any other transport failure
		// (refused, reset, timeout, DNS) may pass.
		var denied *DeniedError
		if errors.As(err, &denied) {
			return false, fmt.Errorf("post: %w", denied)
		}
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
