// Package a1 speaks the O-RAN A1 interfaces towards a RIC. A1-P v2
// policies: a client for the policy types, policies and policy status a
// RIC offers under {base}/A1-P/v2, answering both as the O-RAN standard
// says and as the O-RAN SC A1 mediator does (integer type ids, 202
// Accepted for writes), and a syncer that keeps the IMS's policies in step
// with its deployments. A1 enrichment information: a client of the Data
// Producer API of the Non-RT RIC's Information Coordination Service (ICS)
// and a producer that registers the IMS's resource report there and
// delivers it to every information job's target every report interval.
package a1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// apiPath is where A1-P v2 lives under a RIC's base URL.
	apiPath = "/A1-P/v2"
	// maxResponseBody bounds every response body read.
	maxResponseBody = 1 << 20
	// maxErrorDetail bounds the detail taken from a body that is not a
	// problem.
	maxErrorDetail = 200
	// defaultTimeout bounds a request when the caller brings no client.
	defaultTimeout = 10 * time.Second
	// defaultUserAgent identifies the client to the RIC.
	defaultUserAgent = "nephoran-o2ims-a1"
)

// Options configure a Client.
type Options struct {
	// HTTPClient sends the requests; nil uses a client whose Timeout is
	// Timeout.
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil (10s when zero
	// or negative).
	Timeout time.Duration
	// UserAgent is sent with every request ("nephoran-o2ims-a1" when
	// empty).
	UserAgent string
}

// Client calls the A1-P v2 interface of one Near-RT RIC. It never retries:
// callers sync level-triggered and try again on their next round, using
// Retryable to tell an unavailable RIC from a refusal. A Client is safe
// for concurrent use.
type Client struct {
	base      string // scheme://host[/prefix]/A1-P/v2, without a trailing slash
	http      *http.Client
	userAgent string
}

// NewClient returns a client of the RIC at baseURL, an absolute http or
// https URL without the /A1-P/v2 suffix, such as "http://ric:8080".
func NewClient(baseURL string, opts Options) (*Client, error) {
	return newClient("A1 base URL", baseURL, apiPath, opts)
}

// newClient returns a client of the interface under prefix at baseURL;
// what names the URL in errors.
func newClient(what, baseURL, prefix string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s %q: scheme must be http or https", what, baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s %q: no host", what, baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("%s %q: must not have a query or fragment", what, baseURL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = defaultTimeout
		}
		hc = &http.Client{Timeout: timeout}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	base := strings.TrimRight(u.String(), "/") + prefix
	return &Client{base: base, http: hc, userAgent: ua}, nil
}

// PolicyTypes lists the ids of the policy types the RIC offers. The
// standard's ids are strings and the mediator's integers; both come back
// as strings.
func (c *Client) PolicyTypes(ctx context.Context) ([]string, error) {
	const op = "GET policy types"
	body, err := c.do(ctx, op, http.MethodGet, "/policytypes", nil)
	if err != nil {
		return nil, err
	}
	ids, err := decodeIDs(body)
	if err != nil {
		return nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	return ids, nil
}

// Policies lists the ids of the policies of a type. A type the RIC does
// not know is an error for which IsNotFound holds.
func (c *Client) Policies(ctx context.Context, typeID string) ([]string, error) {
	op := "GET policies " + typeID
	p, err := policiesPath(typeID)
	if err != nil {
		return nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	body, err := c.do(ctx, op, http.MethodGet, p, nil)
	if err != nil {
		return nil, err
	}
	ids, err := decodeIDs(body)
	if err != nil {
		return nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	return ids, nil
}

// GetPolicy returns the body of a policy.
func (c *Client) GetPolicy(ctx context.Context, typeID, policyID string) (json.RawMessage, error) {
	op := "GET policy " + typeID + "/" + policyID
	p, err := policyPath(typeID, policyID)
	if err != nil {
		return nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	return c.doJSON(ctx, op, http.MethodGet, p)
}

// PutPolicy creates or replaces a policy; created reports a 201 (false for
// 200 and for 202, which the mediator answers). body must be JSON.
func (c *Client) PutPolicy(ctx context.Context, typeID, policyID string, body json.RawMessage) (created bool, err error) {
	op := "PUT policy " + typeID + "/" + policyID
	p, err := policyPath(typeID, policyID)
	if err != nil {
		return false, fmt.Errorf("A1 %s: %w", op, err)
	}
	if !json.Valid(body) {
		return false, fmt.Errorf("A1 %s: the policy body is not JSON", op)
	}
	status, _, err := c.send(ctx, op, http.MethodPut, p, body)
	if err != nil {
		return false, err
	}
	return status == http.StatusCreated, nil
}

// DeletePolicy deletes a policy; 200, 202 (the mediator) and 204 (the
// standard) are success. A policy that is not there is an error for which
// IsNotFound holds.
func (c *Client) DeletePolicy(ctx context.Context, typeID, policyID string) error {
	op := "DELETE policy " + typeID + "/" + policyID
	p, err := policyPath(typeID, policyID)
	if err != nil {
		return fmt.Errorf("A1 %s: %w", op, err)
	}
	_, err = c.do(ctx, op, http.MethodDelete, p, nil)
	return err
}

// PolicyStatus returns the status of a policy, free-form JSON such as
// {"enforceStatus":"ENFORCED","enforceReason":""}.
func (c *Client) PolicyStatus(ctx context.Context, typeID, policyID string) (json.RawMessage, error) {
	op := "GET policy status " + typeID + "/" + policyID
	p, err := policyPath(typeID, policyID)
	if err != nil {
		return nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	return c.doJSON(ctx, op, http.MethodGet, p+"/status")
}

// doJSON sends a request and returns its answer, which must be JSON.
func (c *Client) doJSON(ctx context.Context, op, method, path string) (json.RawMessage, error) {
	body, err := c.do(ctx, op, method, path, nil)
	if err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("A1 %s: the answer is not JSON", op)
	}
	return json.RawMessage(body), nil
}

// do sends a request and returns the body of its 2xx answer.
func (c *Client) do(ctx context.Context, op, method, path string, body []byte) ([]byte, error) {
	_, b, err := c.send(ctx, op, method, path, body)
	return b, err
}

// send sends a request and returns the status and body of its 2xx
// answer; any other answer is an *Error, no answer a transport error.
func (c *Client) send(ctx context.Context, op, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("A1 %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("A1 %s: %w", op, &transportError{err})
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("A1 %s: reading the answer: %w", op, &transportError{err})
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if len(b) > maxResponseBody {
			b = b[:maxResponseBody]
		}
		return 0, nil, newError(op, resp, b)
	}
	if len(b) > maxResponseBody {
		return 0, nil, fmt.Errorf("A1 %s: the answer is larger than %d bytes", op, maxResponseBody)
	}
	return resp.StatusCode, b, nil
}

// policiesPath is the path of the policies of a type.
func policiesPath(typeID string) (string, error) {
	if err := checkID("policy type id", typeID); err != nil {
		return "", err
	}
	return "/policytypes/" + url.PathEscape(typeID) + "/policies", nil
}

// policyPath is the path of a policy.
func policyPath(typeID, policyID string) (string, error) {
	p, err := policiesPath(typeID)
	if err != nil {
		return "", err
	}
	if err := checkID("policy id", policyID); err != nil {
		return "", err
	}
	return p + "/" + url.PathEscape(policyID), nil
}

// checkID refuses ids that no escaping keeps a single path segment of
// their own: empty, "." and "..".
func checkID(what, id string) error {
	switch id {
	case "":
		return fmt.Errorf("empty %s", what)
	case ".", "..":
		return fmt.Errorf("invalid %s %q", what, id)
	}
	return nil
}

// decodeIDs reads a JSON array of ids, strings or integers.
func decodeIDs(b []byte) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decoding the id list: %w", err)
	}
	ids := make([]string, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			ids = append(ids, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(r, &n); err != nil {
			return nil, fmt.Errorf("id %s is neither a string nor an integer", r)
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return nil, fmt.Errorf("id %s is not an integer", r)
		}
		ids = append(ids, n.String())
	}
	return ids, nil
}

// Error is a non-2xx answer.
type Error struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Title is the problem's title, if the answer was a problem.
	Title string
	// Detail is the problem's detail, or the start of an answer that was
	// not a problem.
	Detail string
	// Op says what was asked, e.g. "PUT policy qos/p1".
	Op string
}

// Error returns e.g. "A1 PUT policy 1000/o2ims-x: 503 Service
// Unavailable: RIC busy".
func (e *Error) Error() string {
	msg := "A1 " + e.Op + ": " + strconv.Itoa(e.Status)
	text := http.StatusText(e.Status)
	if text != "" {
		msg += " " + text
	}
	switch {
	case e.Detail != "":
		msg += ": " + e.Detail
	case e.Title != "" && e.Title != text:
		msg += ": " + e.Title
	}
	return msg
}

// newError reads a non-2xx answer: a problem's title and detail, or else
// the start of the body as the detail.
func newError(op string, resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, Op: op}
	trimmed := bytes.TrimSpace(body)
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	var s string
	switch {
	case json.Unmarshal(trimmed, &p) == nil && (p.Title != "" || p.Detail != ""):
		e.Title, e.Detail = p.Title, p.Detail
	case json.Unmarshal(trimmed, &s) == nil:
		// The mediator answers some errors with a bare JSON string.
		e.Detail = clip(s)
	default:
		e.Detail = clip(string(trimmed))
	}
	return e
}

// clip shortens s to at most maxErrorDetail bytes without splitting a
// character, and makes it valid UTF-8.
func clip(s string) string {
	if len(s) > maxErrorDetail {
		cut := maxErrorDetail
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
}

// transportError is a request that got no (complete) answer.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// IsNotFound reports whether err is an *Error with status 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// Retryable reports whether asking again later may succeed: the RIC did
// not answer (but the caller did not cancel), or answered 429, 502, 503,
// 504 or 507. Other errors, refusals such as 400 or 404 among them, are
// not retryable.
func Retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		switch e.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable,
			http.StatusGatewayTimeout, http.StatusInsufficientStorage:
			return true
		}
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var te *transportError
	return errors.As(err, &te)
}
