package gitops

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// gitCmd runs the real git binary in dir with a clean environment.
func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// serveLocal serves the local repository read-only at /repo.git the way
// the API server does.
func serveLocal(t *testing.T, r *Repository) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repo.git/info/refs", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("service") != "git-upload-pack" {
			http.Error(w, "read-only", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		if err := r.AdvertiseRefs(req.Context(), w); err != nil {
			t.Errorf("advertise: %v", err)
		}
	})
	mux.HandleFunc("POST /repo.git/git-upload-pack", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		if err := r.UploadPack(req.Context(), req.Body, req.Header.Get("Content-Encoding") == "gzip", w); err != nil {
			t.Errorf("upload-pack: %v", err)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git"
}

func TestLocalRepository(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "o2ims-deployments.git")
	clock := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	r, err := Open(Options{Path: dir, Directory: "/deployments/", Now: func() time.Time { clock = clock.Add(time.Second); return clock }}, logger())
	if err != nil {
		t.Fatal(err)
	}
	if h, err := r.HeadHash(); err != nil || h != "" {
		t.Fatalf("new repository head = %q, %v; want none", h, err)
	}
	files := map[string][]byte{"Kptfile": []byte("kind: Kptfile\n"), "app/deployment.yaml": []byte("kind: Deployment\n")}
	c1, err := r.Put(ctx, "o2ims-a", files, "Create deployment a")
	if err != nil || !c1.Changed || c1.Path != "deployments/o2ims-a" {
		t.Fatalf("first put = %+v, %v", c1, err)
	}
	again, err := r.Put(ctx, "o2ims-a", files, "Create deployment a")
	if err != nil || again.Changed || again.Hash != c1.Hash {
		t.Fatalf("same put = %+v, %v; want no commit at %s", again, err, c1.Hash)
	}
	if _, err := r.Put(ctx, "o2ims-b", map[string][]byte{"Kptfile": []byte("b\n")}, "Create deployment b"); err != nil {
		t.Fatal(err)
	}
	files2 := map[string][]byte{"Kptfile": []byte("kind: Kptfile\n"), "deployment.yaml": []byte("kind: Deployment\nreplicas: 3\n")}
	c3, err := r.Put(ctx, "o2ims-a", files2, "Update deployment a")
	if err != nil || !c3.Changed {
		t.Fatalf("update = %+v, %v", c3, err)
	}
	got, head, err := r.Read(ctx, "o2ims-a")
	if err != nil || head != c3.Hash || len(got) != 2 || string(got["deployment.yaml"]) != "kind: Deployment\nreplicas: 3\n" {
		t.Fatalf("read = %v, %s, %v", got, head, err)
	}

	// The real git client clones over the read-only smart HTTP protocol.
	url := serveLocal(t, r)
	work := t.TempDir()
	gitCmd(t, work, "clone", "--quiet", url, "clone")
	clone := filepath.Join(work, "clone")
	if b, err := os.ReadFile(filepath.Join(clone, "deployments/o2ims-a/deployment.yaml")); err != nil || string(b) != "kind: Deployment\nreplicas: 3\n" {
		t.Fatalf("cloned file = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(clone, "deployments/o2ims-a/app")); !os.IsNotExist(err) {
		t.Fatalf("a file the update dropped is still there: %v", err)
	}
	if log := gitCmd(t, clone, "log", "--format=%an <%ae>|%s"); log != "Nephoran O2 IMS <o2ims@nephoran.io>|Update deployment a\nNephoran O2 IMS <o2ims@nephoran.io>|Create deployment b\nNephoran O2 IMS <o2ims@nephoran.io>|Create deployment a" {
		t.Fatalf("history:\n%s", log)
	}
	gitCmd(t, clone, "fsck", "--strict")

	// Removing a package commits its deletion; an incremental fetch (with
	// haves) brings it.
	rm, err := r.Remove(ctx, "o2ims-a", "Delete deployment a")
	if err != nil || !rm.Changed {
		t.Fatalf("remove = %+v, %v", rm, err)
	}
	if _, _, err := r.Read(ctx, "o2ims-a"); err != ErrNotFound {
		t.Fatalf("read after remove: %v, want ErrNotFound", err)
	}
	if again, err := r.Remove(ctx, "o2ims-a", "Delete deployment a"); err != nil || again.Changed {
		t.Fatalf("second remove = %+v, %v; want nothing to do", again, err)
	}
	gitCmd(t, clone, "pull", "--quiet", "--ff-only")
	if _, err := os.Stat(filepath.Join(clone, "deployments/o2ims-a")); !os.IsNotExist(err) {
		t.Fatalf("removed package still in the pulled clone: %v", err)
	}
	if head := gitCmd(t, clone, "rev-parse", "HEAD"); head != rm.Hash {
		t.Fatalf("pulled head %s, want %s", head, rm.Hash)
	}
	// Removing the last package leaves an empty tree, not a broken one.
	if _, err := r.Remove(ctx, "o2ims-b", "Delete deployment b"); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, clone, "pull", "--quiet", "--ff-only")
	gitCmd(t, clone, "fsck", "--strict")

	// Reopening finds the same repository.
	r2, err := Open(Options{Path: dir, Directory: "deployments"}, logger())
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := r2.HeadHash(); h == "" || h == rm.Hash {
		t.Fatalf("reopened head = %q", h)
	}
}

func TestPathsRefused(t *testing.T) {
	ctx := context.Background()
	r, err := Open(Options{Path: filepath.Join(t.TempDir(), "r.git")}, logger())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../x", "/etc/passwd", "a/../../b", ".git/config", "a//b", "a/./b", ""} {
		if _, err := r.Put(ctx, "p", map[string][]byte{name: []byte("x")}, "m"); err == nil {
			t.Errorf("file %q accepted", name)
		}
	}
	for _, pkg := range []string{"..", "a/b", ".git", ""} {
		if _, err := r.Put(ctx, pkg, map[string][]byte{"f": []byte("x")}, "m"); err == nil {
			t.Errorf("package %q accepted", pkg)
		}
	}
	for _, dir := range []string{"../up", "a/../..", ".git"} {
		if _, err := Open(Options{Path: filepath.Join(t.TempDir(), "r.git"), Directory: dir}, logger()); err == nil {
			t.Errorf("directory %q accepted", dir)
		}
	}
	if _, err := Open(Options{URL: "file:///etc"}, logger()); err == nil {
		t.Error("a file:// URL was accepted")
	}
}

// gitServer serves the bare repositories under root over smart HTTP with
// the real git http-backend, pushes included, on loopback.
func gitServer(t *testing.T, root string, user, password string) string {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed for this test: %v", err)
	}
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=o2ims"}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); user != "" && (!ok || u != user || p != password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRemoteRepository(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	gitCmd(t, root, "init", "--quiet", "--bare", "--initial-branch=main", "deploy.git")
	gitCmd(t, filepath.Join(root, "deploy.git"), "config", "http.receivepack", "true")
	base := gitServer(t, root, "bot", "s3cret")
	url := base + "/deploy.git"

	// Wrong credentials: a clear error, nothing committed.
	bad, err := Open(Options{URL: url, Username: "bot", Password: "wrong", Directory: "deployments"}, logger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Put(ctx, "o2ims-a", map[string][]byte{"Kptfile": []byte("a\n")}, "m"); err == nil || !strings.Contains(err.Error(), "authentication") {
		t.Fatalf("put with a wrong password: %v", err)
	}

	r, err := Open(Options{URL: url, Username: "bot", Password: "s3cret", Directory: "deployments"}, logger())
	if err != nil {
		t.Fatal(err)
	}
	// The first commit creates the branch of an empty repository.
	c1, err := r.Put(ctx, "o2ims-a", map[string][]byte{"Kptfile": []byte("a\n")}, "Create deployment a")
	if err != nil || !c1.Changed {
		t.Fatalf("put = %+v, %v", c1, err)
	}
	if head := gitCmd(t, filepath.Join(root, "deploy.git"), "rev-parse", "main"); head != c1.Hash {
		t.Fatalf("remote main = %s, want %s", head, c1.Hash)
	}

	// Somebody else pushes meanwhile: the next change lands on top of it,
	// keeping their commit.
	work := t.TempDir()
	authURL := strings.Replace(url, "http://", "http://bot:s3cret@", 1)
	gitCmd(t, work, "clone", "--quiet", authURL, "other")
	other := filepath.Join(work, "other")
	if err := os.WriteFile(filepath.Join(other, "README.md"), []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, other, "add", "README.md")
	gitCmd(t, other, "commit", "--quiet", "-m", "Add README")
	gitCmd(t, other, "push", "--quiet", "origin", "main")
	foreign := gitCmd(t, other, "rev-parse", "HEAD")

	c2, err := r.Put(ctx, "o2ims-b", map[string][]byte{"Kptfile": []byte("b\n")}, "Create deployment b")
	if err != nil || !c2.Changed {
		t.Fatalf("put after a foreign push = %+v, %v", c2, err)
	}
	gitCmd(t, other, "pull", "--quiet", "--ff-only")
	if parent := gitCmd(t, other, "rev-parse", "HEAD^"); parent != foreign {
		t.Fatalf("our commit's parent is %s, want the foreign commit %s", parent, foreign)
	}
	for _, f := range []string{"README.md", "deployments/o2ims-a/Kptfile", "deployments/o2ims-b/Kptfile"} {
		if _, err := os.Stat(filepath.Join(other, f)); err != nil {
			t.Errorf("%s missing after our push: %v", f, err)
		}
	}
	files, head, err := r.Read(ctx, "o2ims-b")
	if err != nil || head != c2.Hash || string(files["Kptfile"]) != "b\n" {
		t.Fatalf("read = %v %s %v", files, head, err)
	}
	rm, err := r.Remove(ctx, "o2ims-a", "Delete deployment a")
	if err != nil || !rm.Changed {
		t.Fatalf("remove = %+v, %v", rm, err)
	}
	gitCmd(t, other, "pull", "--quiet", "--ff-only")
	if _, err := os.Stat(filepath.Join(other, "deployments/o2ims-a")); !os.IsNotExist(err) {
		t.Fatalf("removed package still there: %v", err)
	}

	// An unreachable server is an error the caller can retry later.
	dead, err := Open(Options{URL: "http://127.0.0.1:1/deploy.git"}, logger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Put(ctx, "o2ims-a", map[string][]byte{"Kptfile": []byte("a\n")}, "m"); err == nil {
		t.Fatal("a push to an unreachable server succeeded")
	}
}
