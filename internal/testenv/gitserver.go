package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// GitServer serves bare git repositories over git's smart HTTP protocol on
// loopback, clone and push, with git's own server program: `git
// http-backend` run through net/http/cgi for every request. Porch's
// Repository objects point at its repositories, and tests read what Porch
// pushed with the git command line.
type GitServer struct {
	// URL is the server's base URL, http://127.0.0.1:<port>; a repository
	// created by CreateRepo is at URL/<name>.git.
	URL string
	// Root is the directory holding the bare repositories, <name>.git.
	Root string

	git string
	srv *http.Server
}

// StartGitServer serves the bare repositories under root, which must
// exist, on a free loopback port until Close.
func StartGitServer(root string) (*GitServer, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("testenv: git server: %w", err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testenv: git server: %w", err)
	}
	g := &GitServer{URL: "http://" + l.Addr().String(), Root: root, git: git}
	handler := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			// Serve every repository under root, without the
			// git-daemon-export-ok marker file.
			"GIT_HTTP_EXPORT_ALL=1",
			// A developer's ~/.gitconfig or /etc/gitconfig must not change
			// what the server does.
			"HOME=" + root,
			"GIT_CONFIG_NOSYSTEM=1",
		},
	}
	g.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(l) }()
	return g, nil
}

var repoName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

// CreateRepo creates an empty bare repository whose HEAD is branch main,
// open to pushes, and returns its URL. Porch pushes the first commit of an
// empty repository when its Repository has spec.git.createBranch set.
func (g *GitServer) CreateRepo(name string) (string, error) {
	if !repoName.MatchString(name) || strings.HasSuffix(name, ".git") {
		return "", fmt.Errorf("testenv: invalid repository name %q", name)
	}
	dir := filepath.Join(g.Root, name+".git")
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("testenv: repository %s exists", name)
	}
	for _, args := range [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=main", dir},
		// http-backend refuses pushes from anonymous clients unless the
		// repository enables receive-pack.
		{"-C", dir, "config", "http.receivepack", "true"},
	} {
		if _, err := g.Git(args...); err != nil {
			return "", err
		}
	}
	return g.RepoURL(name), nil
}

// RepoURL returns the URL of repository name.
func (g *GitServer) RepoURL(name string) string { return g.URL + "/" + name + ".git" }

// RepoDir returns the directory of the bare repository name.
func (g *GitServer) RepoDir(name string) string { return filepath.Join(g.Root, name+".git") }

// Git runs the git command line with args in the server's root, with the
// same isolated configuration as the server, and returns its standard
// output; an error carries the standard error.
// `g.Git("-C", g.RepoDir("r"), "show", "main:path")` reads a file of
// branch main.
func (g *GitServer) Git(args ...string) (string, error) {
	cmd := exec.Command(g.git, args...)
	cmd.Dir = g.Root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + g.Root, "GIT_CONFIG_NOSYSTEM=1"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("testenv: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Close stops serving; the repositories stay on disk.
func (g *GitServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return g.srv.Close()
	}
	return nil
}
