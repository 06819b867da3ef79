package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/oidctest"
)

// TestGitOpsRepositoryAuthentication: the embedded default's GitOps
// repository is served with the API's authentication. Without a token
// git is refused; a read-only token clones (a fetch's POST is a read);
// nothing pushes, whatever the token.
func TestGitOpsRepositoryAuthentication(t *testing.T) {
	idp := oidctest.New(t)
	s := start(t, "--oidc-jwks-url", idp.JWKSURL(), "--oidc-issuer", idp.URL, "--oidc-audience", oidctest.Audience)
	repo := s.base + "/gitops/o2ims-deployments.git"
	gitCmd := func(dir, token string, args ...string) (string, error) {
		if token != "" {
			args = append([]string{"-c", "http.extraHeader=Authorization: Bearer " + token}, args...)
		}
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(), "GIT_TERMINAL_PROMPT=0")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	work := t.TempDir()
	// git meets the 401 and would ask for credentials.
	if out, err := gitCmd(work, "", "clone", "--quiet", repo, "anonymous"); err == nil || !strings.Contains(out, "could not read Username") {
		t.Fatalf("a clone without a token: %v\n%s", err, out)
	}
	read := idp.Sign("o2ims:read", time.Hour)
	// An empty repository clones too: git says so and leaves an empty
	// work tree.
	if out, err := gitCmd(work, read, "clone", "--quiet", repo, "clone"); err != nil {
		t.Fatalf("a clone with a read-only token: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(work, "clone", ".git")); err != nil {
		t.Fatal(err)
	}
	status, _, body := s.do(t, "GET", "/gitops/o2ims-deployments.git/info/refs?service=git-receive-pack")
	if status != 401 {
		t.Errorf("receive-pack without a token: %d %s", status, body)
	}
	write := idp.Sign("o2ims:read o2ims:write", time.Hour)
	dir := filepath.Join(work, "clone")
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := gitCmd(dir, "", "add", "x.txt"); err != nil {
		t.Fatal(out)
	}
	if out, err := gitCmd(dir, "", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "x"); err != nil {
		t.Fatal(out)
	}
	if out, err := gitCmd(dir, write, "push", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("a push with a write token: %v\n%s", err, out)
	}
}
