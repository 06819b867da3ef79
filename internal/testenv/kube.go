package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// This file talks to the API server with net/http and encoding/json rather
// than client-go: the package belongs to the main module, and client-go would
// bring dozens of modules into it for a handful of calls.

// StatusError is returned for an API answer outside 2xx. Code is the HTTP
// status, so callers can tell "not found" (404) or "already exists" (409) from
// real failures.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

// Error reports the request, the status and the API server's message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("testenv: %s %s: HTTP %d: %s", e.Method, e.Path, e.Code, truncate(e.Body, 2000))
}

// IsNotFound reports whether err is a StatusError with code 404.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// bearer adds a token to every request it sends.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

var netDialer = net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// newClient returns a client that trusts only caPEM and, when token is not
// empty, authenticates with it.
func newClient(caPEM []byte, token string) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("testenv: invalid CA certificate")
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		// Connections only ever go to loopback; a short dial timeout makes a
		// stopped API server fail fast instead of hanging a test.
		DialContext:         (&netDialer).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 10,
	}
	var rt http.RoundTripper = tr
	if token != "" {
		rt = bearer{token: token, next: tr}
	}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}, nil
}

// HTTPClient returns a client that trusts the plane's CA and sends the admin
// token with every request. It is meant for tests that call the API directly.
func (p *Plane) HTTPClient() *http.Client { return p.client }

// Do sends a request with the admin token to path (for example
// "/api/v1/nodes") and decodes a JSON answer into out when out is not nil. A
// body that is not []byte is encoded as JSON; contentType defaults to
// application/json. Answers outside 2xx are returned as *StatusError.
func (p *Plane) Do(ctx context.Context, method, path, contentType string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.APIServerURL+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("testenv: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("testenv: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: string(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("testenv: %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// CreateNode registers a Node that kwok takes over: kwok manages every node of
// the plane, turns it Ready within seconds and keeps its heartbeat, and the
// scheduler binds pods to it according to cpu and memory (quantities such as
// "8" and "32Gi"). The node admits up to 110 pods. labels may be nil.
func (p *Plane) CreateNode(ctx context.Context, name string, labels map[string]string, cpu, memory string) error {
	all := map[string]string{
		"kubernetes.io/hostname": name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"type":                   "kwok",
	}
	for k, v := range labels {
		all[k] = v
	}
	resources := map[string]string{"cpu": cpu, "memory": memory, "pods": "110"}
	node := map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata": map[string]any{
			"name":   name,
			"labels": all,
			// kwok's convention for marking a node as simulated; tools that
			// look at a cluster use it to tell fake nodes from real ones.
			"annotations": map[string]string{"kwok.x-k8s.io/node": "fake"},
		},
		"status": map[string]any{
			"capacity":    resources,
			"allocatable": resources,
		},
	}
	return p.Do(ctx, http.MethodPost, "/api/v1/nodes", "", node, nil)
}

// DeleteNode deletes a Node. Deleting a node that does not exist is an error
// for which IsNotFound reports true.
func (p *Plane) DeleteNode(ctx context.Context, name string) error {
	return p.Do(ctx, http.MethodDelete, "/api/v1/nodes/"+url.PathEscape(name), "", nil, nil)
}

// LabelNode sets the labels in set and removes those named in remove, leaving
// the node's other labels as they are.
func (p *Plane) LabelNode(ctx context.Context, name string, set map[string]string, remove ...string) error {
	labels := map[string]any{}
	for _, k := range remove {
		labels[k] = nil // JSON merge patch: null deletes the key
	}
	for k, v := range set {
		labels[k] = v
	}
	patch := map[string]any{"metadata": map[string]any{"labels": labels}}
	return p.Do(ctx, http.MethodPatch, "/api/v1/nodes/"+url.PathEscape(name), "application/merge-patch+json", patch, nil)
}

// Node is the part of a core/v1 Node that tests of this project look at.
type Node struct {
	Metadata struct {
		Name              string            `json:"name"`
		UID               string            `json:"uid"`
		ResourceVersion   string            `json:"resourceVersion"`
		Labels            map[string]string `json:"labels"`
		Annotations       map[string]string `json:"annotations"`
		CreationTimestamp time.Time         `json:"creationTimestamp"`
	} `json:"metadata"`
	Status struct {
		Capacity    map[string]string `json:"capacity"`
		Allocatable map[string]string `json:"allocatable"`
		Conditions  []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"conditions"`
	} `json:"status"`
}

// Ready reports whether the node's Ready condition is True.
func (n *Node) Ready() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// GetNode reads a Node.
func (p *Plane) GetNode(ctx context.Context, name string) (*Node, error) {
	var n Node
	if err := p.Do(ctx, http.MethodGet, "/api/v1/nodes/"+url.PathEscape(name), "", nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// WaitNodeReady polls until the node's Ready condition is True or ctx ends,
// giving up after one minute at the latest.
func (p *Plane) WaitNodeReady(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		n, err := p.GetNode(ctx, name)
		if err == nil && n.Ready() {
			return nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("conditions %+v", n.Status.Conditions)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: node %s not Ready: %w (last: %v)", name, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitExists polls until GET path succeeds.
func (p *Plane) waitExists(ctx context.Context, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := p.Do(ctx, http.MethodGet, path, "", nil, nil)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", path, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// get returns the status and body of a GET request.
func get(ctx context.Context, client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(body), nil
}

// kubeconfig renders a kubeconfig with one cluster, user and context. The
// format is fixed enough that a template is clearer than a YAML library, and
// base64 and hex tokens need no quoting.
func kubeconfig(server string, caPEM []byte, user, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: testenv
  context:
    cluster: testenv
    user: %s
current-context: testenv
`, server, base64.StdEncoding.EncodeToString(caPEM), user, token, user)
}
