package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the paths of the credentials one plane uses. Everything is
// generated per plane, so nothing depends on files outside its temporary
// directory and planes never trust each other.
type pki struct {
	caFile     string // CA certificate, PEM
	caPEM      []byte // same, in memory for clients
	certFile   string // serving certificate for 127.0.0.1 and localhost
	keyFile    string // its key
	saKeyFile  string // service-account signing key (private)
	saPubFile  string // service-account verification key (public)
	tokenFile  string // kube-apiserver --token-auth-file
	adminToken string // member of system:masters
	kcmToken   string // system:kube-controller-manager, member of system:masters
	schedToken string // system:kube-scheduler
	kwokToken  string // member of system:masters; kwok needs broad write access

	// The front proxy: kube-apiserver presents this client certificate when
	// it forwards a request to an aggregated API server (Porch), which
	// trusts the X-Remote-User headers of connections authenticated by a
	// certificate of frontProxyCAFile. A CA of its own, as kubeadm sets it
	// up, so that no client of the main CA can assert headers.
	frontProxyCAFile   string
	proxyClientCert    string
	proxyClientKeyFile string
}

// frontProxyClientName is the common name of the front-proxy client
// certificate, the only name --requestheader-allowed-names admits.
const frontProxyClientName = "front-proxy-client"

// newPKI writes a self-signed CA, a serving certificate signed by it, a
// service-account key pair and a static token file into dir. ECDSA P-256 keys
// are used throughout because they are generated in microseconds, where RSA
// keys would add noticeable time to every plane start on a small machine.
func newPKI(dir string) (*pki, error) {
	p := &pki{
		caFile:    filepath.Join(dir, "ca.crt"),
		certFile:  filepath.Join(dir, "serving.crt"),
		keyFile:   filepath.Join(dir, "serving.key"),
		saKeyFile: filepath.Join(dir, "sa.key"),
		saPubFile: filepath.Join(dir, "sa.pub"),
		tokenFile: filepath.Join(dir, "tokens.csv"),

		frontProxyCAFile:   filepath.Join(dir, "front-proxy-ca.crt"),
		proxyClientCert:    filepath.Join(dir, "front-proxy-client.crt"),
		proxyClientKeyFile: filepath.Join(dir, "front-proxy-client.key"),
	}
	now := time.Now()
	// Backdated so that small clock differences between processes never make
	// a fresh certificate "not yet valid".
	notBefore := now.Add(-time.Hour)
	notAfter := now.Add(7 * 24 * time.Hour)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "o2ims-testenv-ca"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})

	servingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	servingTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// 10.96.0.1 is the first address of --service-cluster-ip-range, the
		// address of the "kubernetes" Service that in-cluster clients use.
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	servingDER, err := x509.CreateCertificate(rand.Reader, servingTmpl, caCert, &servingKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create serving certificate: %w", err)
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}

	fpCAKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	fpCATmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "o2ims-testenv-front-proxy-ca"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	fpCADER, err := x509.CreateCertificate(rand.Reader, fpCATmpl, fpCATmpl, &fpCAKey.PublicKey, fpCAKey)
	if err != nil {
		return nil, fmt.Errorf("create front-proxy CA certificate: %w", err)
	}
	fpCACert, err := x509.ParseCertificate(fpCADER)
	if err != nil {
		return nil, err
	}
	proxyKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	proxyTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: frontProxyClientName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	proxyDER, err := x509.CreateCertificate(rand.Reader, proxyTmpl, fpCACert, &proxyKey.PublicKey, fpCAKey)
	if err != nil {
		return nil, fmt.Errorf("create front-proxy client certificate: %w", err)
	}

	p.adminToken, p.kcmToken, p.schedToken, p.kwokToken = token(), token(), token(), token()
	// Format: token,user,uid,"group,group". The scheduler's identity is
	// authorized by the bootstrap RBAC policy. The controller manager's role
	// there covers only its start-up: real clusters run each controller
	// under a ServiceAccount of its own (--use-service-account-credentials),
	// which here delayed readiness by six seconds as the accounts and
	// tokens are created one by one. Membership in system:masters gives
	// every controller its permissions at once.
	tokens := fmt.Sprintf("%s,admin,admin,\"system:masters\"\n"+
		"%s,system:kube-controller-manager,kcm,\"system:masters\"\n"+
		"%s,system:kube-scheduler,scheduler,\"\"\n"+
		"%s,kwok,kwok,\"system:masters\"\n",
		p.adminToken, p.kcmToken, p.schedToken, p.kwokToken)

	files := []struct {
		path string
		data []byte
	}{
		{p.caFile, p.caPEM},
		{p.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: servingDER})},
		{p.keyFile, ecKeyPEM(servingKey)},
		{p.saKeyFile, ecKeyPEM(saKey)},
		{p.saPubFile, publicKeyPEM(&saKey.PublicKey)},
		{p.tokenFile, []byte(tokens)},
		{p.frontProxyCAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fpCADER})},
		{p.proxyClientCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxyDER})},
		{p.proxyClientKeyFile, ecKeyPEM(proxyKey)},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails, see crypto/rand
	return hex.EncodeToString(b)
}

func ecKeyPEM(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // only fails for unknown curves
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func publicKeyPEM(k *ecdsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err) // only fails for unknown key types
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
