package edge

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/nephoran/o2ims/internal/ims"
)

// TLSConfig returns the configuration of the agent listener: TLS 1.3 only
// (both ends are ours), the serving certificate from the CA, client
// certificates verified against the CA when presented (enrolment has none
// yet; every other call requires one), and revoked certificates refused
// at the handshake. Everything lives in the configuration returned by
// GetConfigForClient, so that certificates an http.Server or httptest adds
// to the outer configuration are never served instead.
func (s *Service) TLSConfig() *tls.Config {
	inner := &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{"h2", "http/1.1"},
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  s.ca.Pool(),
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.ca.ServingCertificate(s.now())
		},
		VerifyConnection: s.VerifyConnection,
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: inner.NextProtos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return inner, nil
		},
	}
}

// VerifyConnection refuses a verified client certificate that has been
// revoked (its node was deleted). It is the listener's handshake hook; a
// connection without a client certificate passes, to enrol.
func (s *Service) VerifyConnection(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	if serial := serialOf(cs.PeerCertificates[0]); s.isRevoked(serial) {
		return fmt.Errorf("edge: client certificate %s has been revoked", serial)
	}
	return nil
}

// authenticateNode returns the enrolled node a request's verified client
// certificate names. The handshake already refused revoked certificates;
// this check also covers connections opened before the revocation.
func (s *Service) authenticateNode(ctx context.Context, cs *tls.ConnectionState) (Node, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return Node{}, ims.Errorf(ims.EUNAUTHENTICATED, "a client certificate issued at enrolment is required")
	}
	leaf := cs.PeerCertificates[0]
	if s.isRevoked(serialOf(leaf)) {
		return Node{}, ims.Errorf(ims.EUNAUTHENTICATED, "the client certificate has been revoked")
	}
	id, ok := nodeIDOf(leaf)
	if !ok {
		return Node{}, ims.Errorf(ims.EUNAUTHENTICATED, "the client certificate names no edge node")
	}
	n, err := s.store.Node(ctx, id)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		return Node{}, ims.Errorf(ims.EUNAUTHENTICATED, "edge node %s is not enrolled (it may have been deleted)", id)
	}
	if err != nil {
		return Node{}, err
	}
	if n.State != NodeEnrolled || n.Name != leaf.Subject.CommonName {
		return Node{}, ims.Errorf(ims.EUNAUTHENTICATED, "the client certificate does not match enrolled edge node %s", n.Name)
	}
	return n, nil
}
