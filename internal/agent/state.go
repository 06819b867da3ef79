package agent

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
)

// Files of the state directory.
const (
	// identityFile holds the client certificate and its key together, so
	// that a renewal replaces both in one rename.
	identityFile = "identity.pem"
	// enrolKeyFile holds the key of an enrolment in progress, so that an
	// agent restarted while waiting for approval asks again with the
	// same key (which the server recognises).
	enrolKeyFile = "enrol-key.pem"
	caFile       = "ca.pem"
	// refusedSuffix marks an identity the server refused, kept for
	// inspection rather than deleted.
	refusedSuffix = ".refused"
)

// stateDir is the agent's state directory.
type stateDir string

func (d stateDir) path(name string) string { return filepath.Join(string(d), name) }

// write replaces a file atomically with mode 0600: a crash leaves the old
// content or the new, never half of one.
func (d stateDir) write(name string, data []byte) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(string(d), "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), d.path(name))
}

// read returns a file's content, nil if it does not exist.
func (d stateDir) read(name string) ([]byte, error) {
	b, err := os.ReadFile(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// loadState reads the identity and CA the state directory holds, if any.
func (a *Agent) loadState() error {
	if err := os.MkdirAll(string(a.state), 0o700); err != nil {
		return fmt.Errorf("agent: state directory: %w", err)
	}
	caPEM, err := a.state.read(caFile)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if caPEM != nil {
		ca, err := parseCertificatePEM(caPEM)
		if err != nil {
			return fmt.Errorf("agent: %s: %w", a.state.path(caFile), err)
		}
		a.setCA(ca)
	}
	idPEM, err := a.state.read(identityFile)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if idPEM == nil {
		return nil
	}
	cert, err := tls.X509KeyPair(idPEM, idPEM)
	if err != nil {
		return fmt.Errorf("agent: %s: %w", a.state.path(identityFile), err)
	}
	id, ok := nodeIDOf(cert.Leaf)
	if !ok {
		return fmt.Errorf("agent: %s holds a certificate that names no edge node", a.state.path(identityFile))
	}
	a.mu.Lock()
	a.cert, a.nodeID = &cert, id
	a.mu.Unlock()
	a.log.Info("loaded the node's identity", "node_id", id, "not_after", cert.Leaf.NotAfter, "state_dir", string(a.state))
	return nil
}

// saveIdentity stores a certificate with its key and makes it current.
func (a *Agent) saveIdentity(cert *x509.Certificate, key crypto.Signer) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := a.state.write(identityFile, data); err != nil {
		return fmt.Errorf("agent: storing the certificate: %w", err)
	}
	id, _ := nodeIDOf(cert)
	a.mu.Lock()
	a.cert = &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	a.nodeID = id
	a.mu.Unlock()
	return nil
}

// dropIdentity sets a refused or expired identity aside.
func (a *Agent) dropIdentity() error {
	a.mu.Lock()
	a.cert, a.nodeID = nil, ""
	a.mu.Unlock()
	a.sentHash, a.seq = "", 0
	err := os.Rename(a.state.path(identityFile), a.state.path(identityFile+refusedSuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("agent: setting the refused certificate aside: %w", err)
	}
	return nil
}

// enrolmentKey returns the key of the enrolment in progress, creating and
// storing one on first use.
func (a *Agent) enrolmentKey() (crypto.Signer, error) {
	data, err := a.state.read(enrolKeyFile)
	if err != nil {
		return nil, err
	}
	if data != nil {
		if block, _ := pem.Decode(data); block != nil {
			if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
				if s, ok := k.(crypto.Signer); ok {
					return s, nil
				}
			}
		}
		a.log.Warn("the stored enrolment key is unreadable; making a new one", "file", a.state.path(enrolKeyFile))
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := a.state.write(enrolKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("agent: storing the enrolment key: %w", err)
	}
	return key, nil
}

func newKey() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// newCSR returns a PEM CSR for key with the node name as CN.
func newCSR(key crypto.Signer, nodeName string) (string, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: nodeName},
	}, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

func parseCertificatePEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// nodeIDOf reads the node id from a client certificate's URI SAN.
func nodeIDOf(cert *x509.Certificate) (string, bool) {
	for _, u := range cert.URIs {
		if s := u.String(); strings.HasPrefix(s, edge.NodeURIPrefix) {
			return strings.TrimPrefix(s, edge.NodeURIPrefix), true
		}
	}
	return "", false
}

// renewAt is when a certificate is renewed: once two thirds of its
// validity have passed, leaving a third for retries.
func renewAt(cert *x509.Certificate) time.Time {
	return cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) * 2 / 3)
}
