package testenv

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGitServer pushes to and clones from a repository of the git server
// with the git command line, as Porch's git client does over HTTP.
func TestGitServer(t *testing.T) {
	gs, err := StartGitServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	if !strings.HasPrefix(gs.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %s, want loopback", gs.URL)
	}
	repoURL, err := gs.CreateRepo("blueprints")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.CreateRepo("blueprints"); err == nil {
		t.Error("creating an existing repository succeeded")
	}
	if _, err := gs.CreateRepo("../escape"); err == nil {
		t.Error("a repository name with a path was accepted")
	}

	work := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		out, err := gs.Git(append([]string{"-C", work, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	git("init", "--quiet", "--initial-branch=main")
	if err := os.WriteFile(filepath.Join(work, "Kptfile"), []byte("kind: Kptfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	git("add", "Kptfile")
	git("commit", "--quiet", "-m", "first")
	git("push", "--quiet", repoURL, "main")

	clone := filepath.Join(t.TempDir(), "clone")
	if _, err := gs.Git("clone", "--quiet", repoURL, clone); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(clone, "Kptfile")); err != nil || string(b) != "kind: Kptfile\n" {
		t.Fatalf("cloned Kptfile = %q, %v", b, err)
	}
	if out, err := gs.Git("-C", gs.RepoDir("blueprints"), "show", "main:Kptfile"); err != nil || out != "kind: Kptfile\n" {
		t.Fatalf("bare repository main:Kptfile = %q, %v", out, err)
	}
}

// TestPorch checks that Porch serves its API through the plane's API
// server and pushes a new package to its git repository.
func TestPorch(t *testing.T) {
	p, po := RequirePorch(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := po.CreateRepository(ctx, RepositoryOptions{Name: "testenv-porch", Directory: "/"}); err != nil {
		t.Fatal(err)
	}
	pr := map[string]any{
		"apiVersion": "porch.kpt.dev/v1alpha1", "kind": "PackageRevision",
		"metadata": map[string]any{"namespace": "default"},
		"spec": map[string]any{
			"packageName": "hello", "workspaceName": "ws1", "repository": "testenv-porch",
			"tasks": []any{map[string]any{"type": "init", "init": map[string]any{"description": "hello"}}},
		},
	}
	var created struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	base := "/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisions"
	if err := p.Do(ctx, http.MethodPost, base, "", pr, &created); err != nil {
		t.Fatal(err)
	}
	if created.Metadata.Name != "testenv-porch.hello.ws1" {
		t.Errorf("name = %q, want testenv-porch.hello.ws1", created.Metadata.Name)
	}
	// A draft lives on a branch of its own until it is published.
	refs, err := po.Git.Git("-C", po.Git.RepoDir("testenv-porch"), "for-each-ref", "--format=%(refname)")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refs, "refs/heads/drafts/hello/ws1") || !strings.Contains(refs, "refs/heads/main") {
		t.Errorf("refs after creating a draft:\n%s", refs)
	}
	if out, err := po.Git.Git("-C", po.Git.RepoDir("testenv-porch"), "show", "drafts/hello/ws1:hello/Kptfile"); err != nil || !strings.Contains(out, "name: hello") {
		t.Errorf("Kptfile of the draft = %q, %v", out, err)
	}
}
