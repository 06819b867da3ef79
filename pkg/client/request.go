package o2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Media types the client sends.
const (
	contentTypeJSON       = "application/json"
	contentTypeMergePatch = "application/merge-patch+json"
)

// maxBodyBytes bounds the size of a response body the client reads.
const maxBodyBytes = 64 << 20

// call is one logical request; do sends it once or, when retries are
// allowed, several times.
type call struct {
	method      string
	url         *url.URL
	body        any         // marshalled to JSON when non-nil
	raw         []byte      // sent as it is, with contentType, when non-nil; body is then nil
	contentType string      // of body or raw; contentTypeJSON when empty
	out         any         // the 2xx body is decoded into it when non-nil
	header      http.Header // extra request headers, such as If-Match
}

// response is what do returns from a 2xx answer.
type response struct {
	status int
	header http.Header
	url    *url.URL // the URL of the request that got the answer
}

// getJSON sends a GET to u and decodes the answer into out.
func (c *Client) getJSON(ctx context.Context, u *url.URL, out any) error {
	_, err := c.do(ctx, call{method: http.MethodGet, url: u, out: out})
	return err
}

// do sends cl, retrying as c.retry allows, and decodes a 2xx body into
// cl.out. A non-2xx answer is returned as a *ProblemError.
func (c *Client) do(ctx context.Context, cl call) (*response, error) {
	if ctx == nil {
		return nil, errors.New("o2: nil Context")
	}
	payload := cl.raw
	if payload == nil && cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("o2: encoding request body: %w", err)
		}
	}
	if payload != nil && cl.contentType == "" {
		cl.contentType = contentTypeJSON
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		status, retryAfter, resp, err := c.attempt(ctx, cl, payload)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil || !c.retry.shouldRetry(cl.method, attempt, status, transportError(err)) {
			return nil, err
		}
		wait := c.retry.delay(attempt, retryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// The context would end during the wait: the last answer
			// says more than the deadline would.
			return nil, err
		}
		if serr := sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%w (giving up after %d attempts, last: %v)", serr, attempt+1, err)
		}
	}
}

// transportErr marks an error that happened before an answer arrived.
type transportErr struct{ err error }

func (e *transportErr) Error() string { return e.err.Error() }
func (e *transportErr) Unwrap() error { return e.err }

// transportError returns the transport error err wraps, or nil when err
// is about an answer (a ProblemError or an unreadable body).
func transportError(err error) error {
	var te *transportErr
	if errors.As(err, &te) {
		return te.err
	}
	return nil
}

// attempt sends cl once. It returns the status of the answer (0 when none
// arrived), the Retry-After it asks for, and either the response of a 2xx
// answer or an error.
func (c *Client) attempt(ctx context.Context, cl call, payload []byte) (int, time.Duration, *response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("o2: building request: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.userAgent)
	// The caller's trace context (W3C traceparent), when its program set
	// up OpenTelemetry propagation.
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	if payload != nil {
		req.Header.Set("Content-Type", cl.contentType)
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, 0, nil, &transportErr{err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes+1))
	if err != nil {
		// The answer was cut off: treat it like a lost connection.
		return 0, 0, nil, &transportErr{err: fmt.Errorf("o2: reading response of %s %s: %w", cl.method, req.URL.Path, err)}
	}
	if len(data) > maxBodyBytes {
		return res.StatusCode, 0, nil, fmt.Errorf("o2: response of %s %s exceeds %d bytes", cl.method, req.URL.Path, maxBodyBytes)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		pe := newProblemError(res.StatusCode, res.Header.Get("Content-Type"), data, req.URL.Path)
		return res.StatusCode, parseRetryAfter(res.Header.Get("Retry-After"), time.Now()), nil, pe
	}
	if cl.out != nil && len(bytes.TrimSpace(data)) > 0 && cl.method != http.MethodHead {
		if err := json.Unmarshal(data, cl.out); err != nil {
			return res.StatusCode, 0, nil, fmt.Errorf("o2: decoding response of %s %s: %w", cl.method, req.URL.Path, err)
		}
	}
	return res.StatusCode, 0, &response{status: res.StatusCode, header: res.Header, url: req.URL}, nil
}
