package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestAuthenticatedServer runs o2ctl against a server that requires
// bearer tokens from a real (test) OIDC issuer: no token exits 3, a read
// token reads, a read token cannot write (exit 3), a write token writes.
func TestAuthenticatedServer(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": issuer + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Algorithm: "ES256", Use: "sig"}}})
	})
	idp := httptest.NewTLSServer(mux)
	defer idp.Close()
	issuer = idp.URL
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	token := func(scope string) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		tok, err := jwt.Signed(sig).Claims(map[string]any{"iss": issuer, "aud": "o2ims", "sub": "cli", "scope": scope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	cmd := exec.Command(o2imsBinary, "serve", "--listen", "127.0.0.1:0", "--agent-listen=", "--data-dir", t.TempDir(), "--log-format", "json",
		"--local-provider=false", "--oidc-issuer-url", issuer, "--oidc-ca-file", caFile, "--oidc-audience", "o2ims")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" {
				addr <- rec.Addr
			}
		}
	}()
	var endpoint string
	select {
	case a := <-addr:
		endpoint = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}

	run := func(tok string, args ...string) (string, string, int) {
		env := []string{"O2CTL_ENDPOINT=" + endpoint}
		if tok != "" {
			env = append(env, "O2CTL_TOKEN="+tok)
		}
		return o2ctlRun(env, args...)
	}
	if _, errOut, code := run("", "cloud-info"); code != 3 || !strings.HasPrefix(errOut, "o2ctl:") {
		t.Errorf("no token: exit %d, stderr %q", code, errOut)
	}
	read := token("o2ims:read")
	if out, errOut, code := run(read, "cloud-info", "-o", "json"); code != 0 || !strings.Contains(out, "oCloudId") {
		t.Errorf("read token: exit %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(read, "subscribe", "--callback", "http://127.0.0.1:9/cb"); code != 3 {
		t.Errorf("read token writing: exit %d, stderr %q", code, errOut)
	}
	write := token("o2ims:read o2ims:write")
	if out, errOut, code := run(write, "subscribe", "--callback", "http://127.0.0.1:9/cb"); code != 0 || strings.TrimSpace(out) == "" {
		t.Errorf("write token: exit %d %s %s", code, out, errOut)
	}
}
