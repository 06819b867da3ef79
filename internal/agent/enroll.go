package agent

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
)

// enroll obtains a certificate with the bootstrap token. Network and
// server errors are retried with backoff; a pending enrolment is asked
// about again, with the same key, until approved. It returns an error for
// a refused token, a refused enrolment or an untrusted server.
func (a *Agent) enroll(ctx context.Context) error {
	if a.opts.BootstrapToken == "" {
		return fmt.Errorf("%w: the state directory %s holds no usable certificate and no bootstrap token is given", ErrNotEnrolled, string(a.state))
	}
	a.mu.Lock()
	haveCA := a.ca != nil
	a.mu.Unlock()
	if a.opts.CAHash == "" && !haveCA {
		return fmt.Errorf("%w: the CA hash (sha256:…, printed with the token) is needed to verify the server on first contact", ErrNotEnrolled)
	}
	key, err := a.enrolmentKey()
	if err != nil {
		return err
	}
	csr, err := newCSR(key, a.opts.NodeName)
	if err != nil {
		return fmt.Errorf("agent: making the CSR: %w", err)
	}
	client := a.enrolClient()
	defer client.CloseIdleConnections()
	bo := newBackoff(a.opts.MinBackoff, a.opts.MaxBackoff)
	a.log.InfoContext(ctx, "enrolling", "server", a.server.String(), "pool", a.opts.Pool)
	for {
		inv := a.inventory(ctx)
		req := edge.EnrollRequest{NodeName: a.opts.NodeName, CSR: csr, Pool: a.opts.Pool, Site: a.opts.Site,
			AgentVersion: a.opts.Version, Addresses: a.addresses(), Inventory: inv}
		var resp edge.EnrollResponse
		err := a.call(ctx, client, edge.PathEnroll, a.opts.BootstrapToken, req, &resp)
		if err != nil {
			var pe *problemError
			switch classify(err, false) {
			case untrusted:
				return fmt.Errorf("%w: %v", ErrUntrustedServer, err)
			case final, refused:
				if errors.As(err, &pe) && pe.status == 401 {
					return fmt.Errorf("%w: %s", ErrTokenRejected, pe.problem.Detail)
				}
				return fmt.Errorf("%w: %v", ErrEnrolmentRefused, err)
			}
			wait := bo.next(retryAfterOf(err))
			a.log.WarnContext(ctx, "enrolment failed, retrying", "err", err, "in", wait)
			if !sleep(ctx, wait) {
				return ctx.Err()
			}
			continue
		}
		if resp.Status == edge.StatusPending {
			wait := max(edge.Duration(resp.RetryAfterSeconds), a.opts.MinBackoff)
			a.log.InfoContext(ctx, "enrolment waiting for approval", "node_id", resp.NodeID, "ask_again_in", wait)
			if !sleep(ctx, wait) {
				return ctx.Err()
			}
			continue
		}
		return a.completeEnrolment(ctx, resp, key, inv)
	}
}

// completeEnrolment checks and stores what the server issued.
func (a *Agent) completeEnrolment(ctx context.Context, resp edge.EnrollResponse, key crypto.Signer, inv *edge.Inventory) error {
	ca, err := parseCertificatePEM([]byte(resp.CACertificate))
	if err != nil {
		return fmt.Errorf("%w: the enrolment answer holds no valid CA certificate: %v", ErrUntrustedServer, err)
	}
	if a.opts.CAHash != "" && edge.PublicKeyHash(ca) != a.opts.CAHash {
		return fmt.Errorf("%w: the CA certificate the server returned has the hash %s, not %s", ErrUntrustedServer, edge.PublicKeyHash(ca), a.opts.CAHash)
	}
	cert, err := checkIssued(resp.CertificateResponse, ca, key)
	if err != nil {
		return err
	}
	if err := a.state.write(caFile, []byte(resp.CACertificate)); err != nil {
		return fmt.Errorf("agent: storing the CA: %w", err)
	}
	a.setCA(ca)
	if err := a.saveIdentity(cert, key); err != nil {
		return err
	}
	if err := os.Remove(a.state.path(enrolKeyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.log.WarnContext(ctx, "could not remove the enrolment key", "err", err)
	}
	a.interval = edge.Duration(resp.HeartbeatIntervalSeconds)
	if inv != nil {
		a.sentHash = inv.Hash
	}
	a.log.InfoContext(ctx, "enrolled", "node_id", resp.NodeID, "serial", cert.SerialNumber.Text(16),
		"not_after", cert.NotAfter, "heartbeat_interval", a.interval)
	return nil
}

// checkIssued parses an issued certificate and checks it is for key,
// signed by ca and fit for client authentication.
func checkIssued(resp edge.CertificateResponse, ca *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	cert, err := parseCertificatePEM([]byte(resp.Certificate))
	if err != nil {
		return nil, fmt.Errorf("%w: the answer holds no valid certificate: %v", ErrUntrustedServer, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: the issued certificate is not for this node's key", ErrUntrustedServer)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: time.Now()}); err != nil {
		return nil, fmt.Errorf("%w: the issued certificate does not verify against the CA: %v", ErrUntrustedServer, err)
	}
	if _, ok := nodeIDOf(cert); !ok {
		return nil, fmt.Errorf("%w: the issued certificate names no edge node", ErrUntrustedServer)
	}
	return cert, nil
}
