package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
)

// maxResponse bounds what the agent reads of an answer.
const maxResponse = 1 << 20

// untrustedError is a server certificate that fails the CA pin.
type untrustedError struct{ msg string }

func (e *untrustedError) Error() string { return e.msg }

// problemError is an answer other than 2xx, with its problem body.
type problemError struct {
	status     int
	problem    edge.Problem
	retryAfter time.Duration
}

func (e *problemError) Error() string {
	if e.problem.Detail != "" {
		return fmt.Sprintf("%d %s: %s", e.status, http.StatusText(e.status), e.problem.Detail)
	}
	return fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
}

// setCA makes ca the CA the agent trusts from now on and builds the
// mutual-TLS client on it. The client certificate is looked up per
// handshake, so a renewed certificate is used on the next connection.
func (a *Agent) setCA(ca *x509.Certificate) {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		RootCAs:    pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.cert == nil {
				return &tls.Certificate{}, nil
			}
			return a.cert, nil
		},
	}
	if a.client != nil {
		a.client.CloseIdleConnections()
	}
	a.mu.Lock()
	a.ca = ca
	a.mu.Unlock()
	a.client = a.httpClient(cfg)
}

func (a *Agent) httpClient(cfg *tls.Config) *http.Client {
	return &http.Client{
		Timeout: a.opts.RequestTimeout,
		Transport: &http.Transport{
			TLSClientConfig:     cfg,
			TLSHandshakeTimeout: min(10*time.Second, a.opts.RequestTimeout),
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
			DialContext:         (&net.Dialer{Timeout: min(10*time.Second, a.opts.RequestTimeout), KeepAlive: 30 * time.Second, LocalAddr: a.opts.LocalAddr}).DialContext,
		},
	}
}

// enrolClient returns the client for enrolment: no client certificate,
// and the server verified against the pinned CA hash when one is given
// (first contact needs no CA file), else against the stored CA.
func (a *Agent) enrolClient() *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	if a.opts.CAHash != "" {
		// The chain is verified below, against the CA the pin names;
		// the default verification has no roots to use yet.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = pinnedVerifier(a.opts.CAHash, a.server.Hostname())
	} else {
		a.mu.Lock()
		pool := x509.NewCertPool()
		pool.AddCert(a.ca)
		a.mu.Unlock()
		cfg.RootCAs = pool
	}
	return a.httpClient(cfg)
}

// pinnedVerifier checks, the way kubeadm's discovery token CA hash does,
// that the server's chain holds a CA whose public key hash is pin, and that
// the server's certificate chains to it for host.
func pinnedVerifier(pin, host string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &untrustedError{"the server presented no certificate"}
		}
		var ca *x509.Certificate
		var seen []string
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			h := edge.PublicKeyHash(c)
			seen = append(seen, h)
			if h == pin && c.IsCA {
				ca = c
			} else {
				inter.AddCert(c)
			}
		}
		if ca == nil {
			presented := "no CA certificate"
			if len(seen) > 0 {
				presented = strings.Join(seen, ", ")
			}
			return &untrustedError{fmt.Sprintf("the server's CA does not match the CA hash %s (it presented %s); check --ca-hash against the one printed with the token",
				pin, presented)}
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host}); err != nil {
			return &untrustedError{fmt.Sprintf("the server's certificate does not verify against the pinned CA: %v", err)}
		}
		return nil
	}
}

// call POSTs in as JSON to path and decodes a 2xx answer into out. A
// non-2xx answer is a *problemError.
func (a *Agent) call(ctx context.Context, client *http.Client, path, bearer string, in, out any) (err error) {
	if a.opts.OnRequest != nil {
		defer func(start time.Time) { a.opts.OnRequest(path, time.Since(start), err) }(time.Now())
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.server.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", "o2ims-agent/"+a.opts.Version)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		pe := &problemError{status: resp.StatusCode}
		_ = json.Unmarshal(data, &pe.problem)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			pe.retryAfter = time.Duration(s) * time.Second
		}
		return pe
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("the server's answer to %s is not valid: %w", path, err)
		}
	}
	return nil
}

// outcome is what to do about a failed call. Every call's failure is
// classified here, and only here.
type outcome int

const (
	// retry: the network, the server's load or a server error; wait and
	// try again.
	retry outcome = iota
	// untrusted: the server's certificate fails verification.
	untrusted
	// refused: the server refuses the node's client certificate.
	refused
	// final: the server refused the request itself; repeating it will
	// not help.
	final
)

func classify(err error, withCert bool) outcome {
	var ue *untrustedError
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ue) || errors.As(err, &ve) {
		return untrusted
	}
	if withCert && refusedAtHandshake(err) {
		return refused
	}
	var pe *problemError
	if errors.As(err, &pe) {
		switch {
		case pe.status == http.StatusTooManyRequests || pe.status >= 500:
			return retry
		case pe.status == http.StatusUnauthorized && withCert:
			return refused
		default:
			return final
		}
	}
	return retry
}

// refusedAtHandshake reports a TLS alert from the server about the client
// certificate: revoked (the node was deleted), expired, or from a CA the
// server no longer trusts.
func refusedAtHandshake(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return false
	}
	msg := op.Err.Error()
	for _, alert := range []string{"bad certificate", "certificate revoked", "certificate expired", "unknown certificate authority", "certificate required"} {
		if strings.Contains(msg, alert) {
			return true
		}
	}
	return false
}

// retryAfterOf is the wait the server asked for, if any.
func retryAfterOf(err error) time.Duration {
	var pe *problemError
	if errors.As(err, &pe) {
		return pe.retryAfter
	}
	return 0
}
