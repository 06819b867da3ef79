package edge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/secrets"
)

// Files of the CA directory.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
)

// Defaults of CAOptions.
const (
	// DefaultCAValidity is how long a newly created CA is valid. Replacing
	// the CA means enrolling every node again, so it is long.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// DefaultServingValidity is how long a serving certificate of the
	// agent listener is valid. It lives only in memory and is replaced
	// once two thirds of it have passed.
	DefaultServingValidity = 30 * 24 * time.Hour
)

// NodeURIPrefix starts the URI SAN that carries a node's id in its client
// certificate: urn:nephoran:o2ims:edge:<node-id>.
const NodeURIPrefix = "urn:nephoran:o2ims:edge:"

// keyAAD binds a sealed CA key to its purpose, so a sealed value from
// another record cannot be swapped in.
var keyAAD = []byte("o2ims/edge/ca.key")

// CAOptions configures a CA.
type CAOptions struct {
	// Dir keeps the CA's key and certificate (created 0700, files 0600).
	Dir string
	// Box, when set, seals the CA key at rest with the server's secrets
	// key; without it the key file is plain PEM, protected by its mode.
	Box *secrets.Box
	// ServerHosts are the names and addresses agents reach the listener
	// by; they become the SANs of the serving certificate. At least one.
	ServerHosts []string
	// Validity of a newly created CA, DefaultCAValidity when zero.
	Validity time.Duration
	// ServingValidity of the listener's certificate,
	// DefaultServingValidity when zero.
	ServingValidity time.Duration
}

// CA is the IMS's own certificate authority for edge nodes: it signs the
// nodes' client certificates and the agent listener's serving certificate.
// It is safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
	opts    CAOptions

	mu      sync.Mutex
	serving *tls.Certificate
}

// OpenCA loads the CA kept under opts.Dir, creating its key and
// self-signed certificate on first use. A directory holding only one of the
// two files is an error rather than a reason to start afresh: a new CA
// would silently orphan every enrolled node.
func OpenCA(opts CAOptions) (*CA, error) {
	if opts.Dir == "" {
		return nil, errors.New("edge CA: a directory is required")
	}
	if len(opts.ServerHosts) == 0 {
		return nil, errors.New("edge CA: at least one server host name or address is required for the serving certificate")
	}
	if opts.Validity <= 0 {
		opts.Validity = DefaultCAValidity
	}
	if opts.ServingValidity <= 0 {
		opts.ServingValidity = DefaultServingValidity
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("edge CA: %w", err)
	}
	certPath, keyPath := filepath.Join(opts.Dir, caCertFile), filepath.Join(opts.Dir, caKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		if err := createCA(opts, certPath, keyPath); err != nil {
			return nil, fmt.Errorf("edge CA: creating in %s: %w", opts.Dir, err)
		}
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("edge CA: %s holds only one of %s and %s; restore the other or remove both to create a new CA (every node must then enrol again)", opts.Dir, caCertFile, caKeyFile)
	}
	return loadCA(opts, certPath, keyPath)
}

func createCA(opts CAOptions, certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "Nephoran O2 IMS edge CA", Organization: []string{"Nephoran"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(opts.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyData := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if opts.Box != nil {
		sealed, err := opts.Box.Seal(keyData, keyAAD)
		if err != nil {
			return err
		}
		keyData = []byte(sealed + "\n")
	}
	// The key is written first and exclusively: two servers starting on
	// one directory must not each create a CA.
	if err := writeExclusive(keyPath, keyData); err != nil {
		return err
	}
	return writeExclusive(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
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
	return f.Close()
}

func loadCA(opts CAOptions, certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("edge CA: %w", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("edge CA: %s holds no PEM certificate", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("edge CA: %s: %w", certPath, err)
	}
	keyData, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("edge CA: %w", err)
	}
	if s := strings.TrimSpace(string(keyData)); !strings.HasPrefix(s, "-----BEGIN") {
		if opts.Box == nil {
			return nil, fmt.Errorf("edge CA: %s is sealed; the server's secrets key is needed to open it", keyPath)
		}
		if keyData, err = opts.Box.Open(s, keyAAD); err != nil {
			return nil, fmt.Errorf("edge CA: %s: %w", keyPath, err)
		}
	}
	kb, _ := pem.Decode(keyData)
	if kb == nil {
		return nil, fmt.Errorf("edge CA: %s holds no PEM key", keyPath)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("edge CA: %s: %w", keyPath, err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok || !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("edge CA: the key in %s does not belong to the certificate in %s", keyPath, certPath)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("edge CA: %s is not a CA certificate", certPath)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, fmt.Errorf("edge CA: the certificate in %s expired at %s", certPath, cert.NotAfter.Format(time.RFC3339))
	}
	return &CA{cert: cert, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), key: key, opts: opts}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// Certificate returns the CA certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// CertificatePEM returns the CA certificate in PEM.
func (ca *CA) CertificatePEM() []byte { return ca.certPEM }

// Pool returns a pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Hash returns the pin of the CA as kubeadm's discovery-token-ca-cert-hash
// writes it: "sha256:" and the hex SHA-256 of the certificate's
// SubjectPublicKeyInfo. Pinning the key rather than the certificate lets
// the CA certificate be renewed without invalidating tokens.
func (ca *CA) Hash() string { return PublicKeyHash(ca.cert) }

// PublicKeyHash is the pin of cert's public key ("sha256:<hex>").
func PublicKeyHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SignClient signs a client certificate for node with the public key of
// csr, valid for validity from now (never past the CA's own expiry). The
// subject's CN is the node name and a URI SAN carries the node id: the
// identity the listener reads back. The CSR is trusted for its key only;
// its requested names and extensions are ignored. The caller must have
// checked the CSR with checkCSR.
func (ca *CA) SignClient(csr *x509.CertificateRequest, nodeID, nodeName string, validity time.Duration, now time.Time) (*x509.Certificate, error) {
	u, err := url.Parse(NodeURIPrefix + nodeID)
	if err != nil {
		return nil, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := csr.PublicKey.(*rsa.PublicKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: nodeName, OrganizationalUnit: []string{"edge-node"}},
		URIs:         []*url.URL{u},
		NotBefore:    now.Add(-backdate(validity)),
		NotAfter:     capTime(now.Add(validity), ca.cert.NotAfter),
		KeyUsage:     usage,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// backdate is how far before issuance a certificate starts to be valid,
// for peers whose clocks lag a little: a minute, but at most a tenth of
// the validity, so that short test validities keep their renewal point.
func backdate(validity time.Duration) time.Duration {
	return min(time.Minute, validity/10)
}

func capTime(t, limit time.Time) time.Time {
	if t.After(limit) {
		return limit
	}
	return t
}

// ServingCertificate returns the agent listener's certificate, issued on
// first use and again once two thirds of its validity have passed. Its
// chain includes the CA certificate, which is what lets an agent that
// knows only the CA's public key hash check the chain on first contact.
// The key lives only in memory: a restarted server issues a new one from
// the same CA.
func (ca *CA) ServingCertificate(now time.Time) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c := ca.serving; c != nil {
		renewAt := c.Leaf.NotBefore.Add(c.Leaf.NotAfter.Sub(c.Leaf.NotBefore) * 2 / 3)
		if now.Before(renewAt) {
			return c, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: ca.opts.ServerHosts[0], Organization: []string{"Nephoran"}},
		NotBefore:    now.Add(-backdate(ca.opts.ServingValidity)),
		NotAfter:     capTime(now.Add(ca.opts.ServingValidity), ca.cert.NotAfter),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range ca.opts.ServerHosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca.serving = &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}
	return ca.serving, nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// serialOf is how serial numbers are written in the store and in logs.
func serialOf(cert *x509.Certificate) string { return cert.SerialNumber.Text(16) }

// parseCSR decodes a PEM CSR and checks what the node may ask for: a key
// of an accepted type and strength, a valid signature (proof that the
// requester holds the key), and its CN equal to the node name claimed.
func parseCSR(pemText, nodeName string) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, ims.Errorf(ims.EINVALID, "csr must be a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, &ims.Error{Code: ims.EINVALID, Message: "csr is not a valid certificate request", Err: err}
	}
	switch k := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < 2048 || bits > 8192 {
			return nil, ims.Errorf(ims.EUNPROCESSABLE, "csr has an RSA key of %d bits; 2048 to 8192 bits are accepted", bits)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return nil, ims.Errorf(ims.EUNPROCESSABLE, "csr has an ECDSA key on curve %s; P-256 and P-384 are accepted", k.Curve.Params().Name)
		}
	default:
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "csr has a %T key; RSA (2048 bits or more) and ECDSA (P-256, P-384) keys are accepted", csr.PublicKey)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, &ims.Error{Code: ims.EINVALID, Message: "csr signature does not verify", Err: err}
	}
	if csr.Subject.CommonName != nodeName {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "csr common name %q is not the node name %q", csr.Subject.CommonName, nodeName)
	}
	return csr, nil
}

// keyHash identifies a public key (SHA-256 of its SubjectPublicKeyInfo),
// so that a repeated enrolment can be recognised as coming from the same
// key.
func keyHash(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// nodeIDOf reads the node id from the URI SAN of a client certificate.
func nodeIDOf(cert *x509.Certificate) (string, bool) {
	for _, u := range cert.URIs {
		if s := u.String(); strings.HasPrefix(s, NodeURIPrefix) {
			return strings.TrimPrefix(s, NodeURIPrefix), true
		}
	}
	return "", false
}
