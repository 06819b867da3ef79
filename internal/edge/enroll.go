package edge

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
)

// nodeNamePattern is what node names may look like: a lower-case DNS name
// (RFC 1123), as Kubernetes names nodes.
var nodeNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// Limits on the descriptive fields agents send.
const (
	maxAddresses  = 64
	maxVersionLen = 128
)

// Enroll handles an enrolment: bearer is the bootstrap token, remoteAddr
// the peer's address for the record. A new node uses one of the token's
// uses, and so does a node whose certificate expired. Repeating the request
// with the same token and key for the same node uses none, even once the
// token has expired or is used up: that is how the agent collects a
// certificate after approval, or again after its answer was lost (only
// while the certificate issued is valid). A deleted node is gone: its
// agent needs a token with a use left.
func (s *Service) Enroll(ctx context.Context, bearer string, req EnrollRequest, remoteAddr string) (EnrollResponse, error) {
	tok, err := s.authenticateToken(ctx, bearer)
	if err != nil {
		return EnrollResponse{}, err
	}
	if err := checkNodeName(req.NodeName); err != nil {
		return EnrollResponse{}, err
	}
	if req.Pool != "" && req.Pool != tok.Pool {
		return EnrollResponse{}, ims.Errorf(ims.EFORBIDDEN, "the bootstrap token enrols nodes into pool %s, not %s", tok.Pool, req.Pool)
	}
	if req.Site != "" && !poolPattern.MatchString(req.Site) {
		return EnrollResponse{}, ims.Errorf(ims.EINVALID, "site %q is not a valid site name (lower-case letters, digits and '-', at most 63)", req.Site)
	}
	if err := checkDescriptive(req.AgentVersion, req.Addresses); err != nil {
		return EnrollResponse{}, err
	}
	csr, err := parseCSR(req.CSR, req.NodeName)
	if err != nil {
		return EnrollResponse{}, err
	}
	kh, err := keyHash(csr.PublicKey)
	if err != nil {
		return EnrollResponse{}, ims.Internal(err, "the CSR's key could not be read")
	}
	var inv *Inventory
	if req.Inventory != nil {
		checked, err := s.checkInventory(*req.Inventory)
		if err != nil {
			return EnrollResponse{}, err
		}
		inv = &checked
	}

	ch := s.begin()
	defer ch.end(ctx)
	now := s.now()

	n, err := s.store.NodeByName(ctx, req.NodeName)
	switch {
	case err == nil && n.TokenID == tok.ID && n.KeySHA256 == kh && (n.State != NodeEnrolled || now.Before(n.CertNotAfter)):
		// The same requester again: polling while pending, collecting
		// an approved certificate, or retrying after a lost answer.
	case err == nil && n.State == NodeEnrolled && !now.Before(n.CertNotAfter):
		// A node whose certificate expired enrols again: a new use of a
		// token, under the same id, so its resources keep their ids.
		if _, err := s.store.UseToken(ctx, tok.ID, now); err != nil {
			return EnrollResponse{}, err
		}
		n.TokenID, n.KeySHA256, n.Pool = tok.ID, kh, tok.Pool
		if s.opts.ManualApproval {
			n.State, n.CreatedAt = NodePending, now
		}
	case err == nil && n.State == NodeEnrolled:
		return EnrollResponse{}, ims.Errorf(ims.ECONFLICT, "edge node %s is enrolled already, with a certificate valid until %s; delete it to enrol it again", n.Name, n.CertNotAfter.UTC().Format(time.RFC3339))
	case err == nil:
		return EnrollResponse{}, ims.Errorf(ims.ECONFLICT, "an enrolment of edge node %s from another key is waiting for approval", n.Name)
	case ims.ErrorCode(err) == ims.ENOTFOUND:
		if _, err := s.store.UseToken(ctx, tok.ID, now); err != nil {
			return EnrollResponse{}, err
		}
		n = Node{ID: uuid.NewString(), Name: req.NodeName, Pool: tok.Pool, TokenID: tok.ID, KeySHA256: kh, CreatedAt: now, State: NodeEnrolled}
		if s.opts.ManualApproval {
			n.State = NodePending
		}
	default:
		return EnrollResponse{}, err
	}
	n.Site, n.AgentVersion, n.Addresses, n.RemoteAddress = req.Site, req.AgentVersion, req.Addresses, remoteAddr

	if n.State == NodePending {
		if err := s.store.PutNode(ctx, n); err != nil {
			return EnrollResponse{}, err
		}
		if err := s.putInventoryLocked(ctx, &n, inv, now); err != nil {
			return EnrollResponse{}, err
		}
		s.log.InfoContext(ctx, "edge enrolment waiting for approval", "node", n.Name, "node_id", n.ID, "pool", n.Pool, "token_id", tok.ID)
		retry := min(s.opts.HeartbeatInterval, 30*time.Second)
		return EnrollResponse{Status: StatusPending, RetryAfterSeconds: Seconds(retry),
			CertificateResponse: CertificateResponse{NodeID: n.ID, HeartbeatIntervalSeconds: Seconds(s.opts.HeartbeatInterval)}}, nil
	}

	wasEnrolled := !n.EnrolledAt.IsZero()
	cert, err := s.issueLocked(ctx, &n, csr, kh, now)
	if err != nil {
		return EnrollResponse{}, err
	}
	if wasEnrolled && !n.Reachable {
		ch.add(eventReachable, n)
	}
	n.Reachable = true
	if err := s.store.PutNode(ctx, n); err != nil {
		return EnrollResponse{}, err
	}
	if err := s.putInventoryLocked(ctx, &n, inv, now); err != nil {
		return EnrollResponse{}, err
	}
	ch.add(eventChanged, n)
	s.log.InfoContext(ctx, "edge node enrolled", "node", n.Name, "node_id", n.ID, "pool", n.Pool, "token_id", tok.ID,
		"serial", serialOf(cert), "not_after", cert.NotAfter)
	return EnrollResponse{Status: StatusEnrolled, CertificateResponse: s.certificateResponse(n, cert)}, nil
}

// Renew signs a new certificate for an enrolled node, which proves itself
// with its current, valid certificate. The previous certificates stay valid
// until they expire: an answer lost on the way must not lock the node out.
func (s *Service) Renew(ctx context.Context, node Node, req RenewRequest) (CertificateResponse, error) {
	csr, err := parseCSR(req.CSR, node.Name)
	if err != nil {
		return CertificateResponse{}, err
	}
	kh, err := keyHash(csr.PublicKey)
	if err != nil {
		return CertificateResponse{}, ims.Internal(err, "the CSR's key could not be read")
	}
	ch := s.begin()
	defer ch.end(ctx)
	n, err := s.store.Node(ctx, node.ID)
	if err != nil {
		return CertificateResponse{}, err
	}
	cert, err := s.issueLocked(ctx, &n, csr, kh, s.now())
	if err != nil {
		return CertificateResponse{}, err
	}
	if err := s.store.PutNode(ctx, n); err != nil {
		return CertificateResponse{}, err
	}
	s.log.InfoContext(ctx, "edge node certificate renewed", "node", n.Name, "node_id", n.ID, "serial", serialOf(cert), "not_after", cert.NotAfter)
	return s.certificateResponse(n, cert), nil
}

// issueLocked signs and records a certificate for n and updates n (not yet
// stored) to hold it; a first certificate starts the node's lease.
func (s *Service) issueLocked(ctx context.Context, n *Node, csr *x509.CertificateRequest, kh string, now time.Time) (*x509.Certificate, error) {
	cert, err := s.ca.SignClient(csr, n.ID, n.Name, s.opts.CertValidity, now)
	if err != nil {
		return nil, ims.Internal(err, "the certificate could not be signed")
	}
	rec := IssuedCertificate{Serial: serialOf(cert), NodeID: n.ID, KeySHA256: kh, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, IssuedAt: now}
	if err := s.store.AddCertificate(ctx, rec); err != nil {
		return nil, err
	}
	if n.State != NodeEnrolled || n.EnrolledAt.IsZero() || !now.Before(n.CertNotAfter) {
		n.EnrolledAt = now
		n.LastHeartbeat = now
	}
	n.State = NodeEnrolled
	n.KeySHA256 = kh
	n.CertSerial, n.CertNotAfter = rec.Serial, cert.NotAfter
	return cert, nil
}

func (s *Service) certificateResponse(n Node, cert *x509.Certificate) CertificateResponse {
	return CertificateResponse{
		NodeID:                   n.ID,
		Certificate:              string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		CACertificate:            string(s.ca.CertificatePEM()),
		HeartbeatIntervalSeconds: Seconds(s.opts.HeartbeatInterval),
	}
}

func checkNodeName(name string) error {
	if name == "" {
		return ims.Errorf(ims.EINVALID, "nodeName is required")
	}
	if len(name) > 253 || !nodeNamePattern.MatchString(name) {
		return ims.Errorf(ims.EINVALID, "nodeName %q is not a valid node name (a lower-case DNS name of at most 253 characters)", name)
	}
	return nil
}

// checkDescriptive bounds what agents say about themselves.
func checkDescriptive(version string, addresses []string) error {
	if len(version) > maxVersionLen {
		return ims.Errorf(ims.EINVALID, "agentVersion must be at most %d characters", maxVersionLen)
	}
	if len(addresses) > maxAddresses {
		return ims.Errorf(ims.EINVALID, "addresses must list at most %d addresses", maxAddresses)
	}
	for _, a := range addresses {
		if _, err := netip.ParseAddr(a); err != nil {
			if _, err := netip.ParsePrefix(a); err != nil {
				return ims.Errorf(ims.EINVALID, "addresses: %q is not an IP address", a)
			}
		}
	}
	return nil
}
