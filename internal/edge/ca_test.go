package edge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/secrets"
)

func TestOpenCACreatesOnceAndReloads(t *testing.T) {
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	otherBox, err := secrets.NewBox([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		box  *secrets.Box
	}{
		{"plain key", nil},
		{"sealed key", box},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ca")
			opts := CAOptions{Dir: dir, Box: tt.box, ServerHosts: []string{"127.0.0.1"}}
			ca, err := OpenCA(opts)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("CA dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
			}
			for _, f := range []string{caCertFile, caKeyFile} {
				fi, err := os.Stat(filepath.Join(dir, f))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode = %v, %v; want 0600", f, fi.Mode().Perm(), err)
				}
			}
			key, _ := os.ReadFile(filepath.Join(dir, caKeyFile))
			if sealed := !strings.HasPrefix(string(key), "-----BEGIN"); sealed != (tt.box != nil) {
				t.Errorf("key file sealed = %v, want %v", sealed, tt.box != nil)
			}
			again, err := OpenCA(opts)
			if err != nil {
				t.Fatal(err)
			}
			if again.Hash() != ca.Hash() || !strings.HasPrefix(ca.Hash(), "sha256:") || len(ca.Hash()) != len("sha256:")+64 {
				t.Errorf("hash %s, reopened %s", ca.Hash(), again.Hash())
			}
			if tt.box != nil {
				opts.Box = otherBox
				if _, err := OpenCA(opts); err == nil || !strings.Contains(err.Error(), "does not open") {
					t.Errorf("wrong secrets key: err = %v", err)
				}
				opts.Box = nil
				if _, err := OpenCA(opts); err == nil || !strings.Contains(err.Error(), "sealed") {
					t.Errorf("no secrets key: err = %v", err)
				}
			}
		})
	}
}

func TestOpenCARefusesHalfADirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := OpenCA(CAOptions{Dir: dir, ServerHosts: []string{"h"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, caCertFile)); err != nil {
		t.Fatal(err)
	}
	_, err := OpenCA(CAOptions{Dir: dir, ServerHosts: []string{"h"}})
	if err == nil || !strings.Contains(err.Error(), "only one of") {
		t.Fatalf("err = %v, want a refusal to replace the CA", err)
	}
}

func TestSignClientBindsTheNode(t *testing.T) {
	ca := newTestCA(t)
	csrPEM, key := newCSR(t, "edge-1")
	csr, err := parseCSR(csrPEM, "edge-1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert, err := ca.SignClient(csr, "8b0e5a53-1c1f-4f39-9d0f-6b2a6f1f0d11", "edge-1", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "edge-1" {
		t.Errorf("CN = %q", cert.Subject.CommonName)
	}
	if id, ok := nodeIDOf(cert); !ok || id != "8b0e5a53-1c1f-4f39-9d0f-6b2a6f1f0d11" {
		t.Errorf("node id = %q, %v; URIs %v", id, ok, cert.URIs)
	}
	if got := cert.NotAfter.Sub(now); got < time.Hour-time.Second || got > time.Hour+time.Second {
		t.Errorf("validity %v, want 1h", got)
	}
	if !key.Public().(*ecdsa.PublicKey).Equal(cert.PublicKey) {
		t.Error("certificate is not for the CSR's key")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify for client auth: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool()}); err == nil {
		t.Error("client certificate verifies for server auth")
	}

	serving, err := ca.ServingCertificate(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(serving.Certificate) != 2 {
		t.Errorf("serving chain has %d certificates, want leaf and CA", len(serving.Certificate))
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := serving.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: host}); err != nil {
			t.Errorf("serving certificate for %s: %v", host, err)
		}
	}
	if same, _ := ca.ServingCertificate(now.Add(time.Hour)); same != serving {
		t.Error("serving certificate replaced long before it is due")
	}
	if renewed, _ := ca.ServingCertificate(now.Add(DefaultServingValidity * 3 / 4)); renewed == serving {
		t.Error("serving certificate not replaced after two thirds of its validity")
	}
}

func TestParseCSR(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)

	tampered := func() string {
		block, _ := pem.Decode([]byte(csrFor(t, "edge-1", p256)))
		block.Bytes[len(block.Bytes)-3] ^= 0xff
		return string(pem.EncodeToMemory(block))
	}()
	tests := []struct {
		name     string
		csr      string
		node     string
		wantCode string
		wantMsg  string
	}{
		{"ECDSA P-256", csrFor(t, "edge-1", p256), "edge-1", "", ""},
		{"ECDSA P-384", csrFor(t, "edge-1", p384), "edge-1", "", ""},
		{"RSA 2048", csrFor(t, "edge-1", rsa2048), "edge-1", "", ""},
		{"RSA 1024", csrFor(t, "edge-1", rsa1024), "edge-1", ims.EUNPROCESSABLE, "RSA key of 1024 bits"},
		{"ECDSA P-224", csrFor(t, "edge-1", p224), "edge-1", ims.EUNPROCESSABLE, "curve P-224"},
		{"Ed25519", csrFor(t, "edge-1", crypto.Signer(ed)), "edge-1", ims.EUNPROCESSABLE, "RSA (2048 bits or more) and ECDSA"},
		{"CN not the node", csrFor(t, "edge-2", p256), "edge-1", ims.EUNPROCESSABLE, `common name "edge-2" is not the node name "edge-1"`},
		{"not PEM", "hello", "edge-1", ims.EINVALID, "PEM certificate request"},
		{"bad signature", tampered, "edge-1", ims.EINVALID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCSR(tt.csr, tt.node)
			if got := ims.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if tt.wantMsg != "" && !strings.Contains(ims.ErrorMessage(err), tt.wantMsg) {
				t.Errorf("message %q lacks %q", ims.ErrorMessage(err), tt.wantMsg)
			}
		})
	}
}
