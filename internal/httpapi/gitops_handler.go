package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nephoran/o2ims/internal/gitops"
)

// GitPathPrefix is where the server serves its local GitOps repositories,
// read-only, over git's smart HTTP protocol: `git clone
// <serviceUri>/gitops/<name>.git`.
const GitPathPrefix = "/gitops/"

// isGitRead tells whether r is a git fetch of a served repository: its
// POST reads, so it needs only the read permission, and its body is git's,
// not JSON.
func isGitRead(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, GitPathPrefix) && (r.Method == http.MethodGet || r.Method == http.MethodHead ||
		(r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack")))
}

func (s *Server) gitRepository(w http.ResponseWriter, r *http.Request) (*gitops.Repository, bool) {
	name := r.PathValue("repo")
	repo, ok := s.opts.GitRepositories[strings.TrimSuffix(name, ".git")]
	if !ok || !strings.HasSuffix(name, ".git") {
		writeProblem(w, r, http.StatusNotFound, "no repository at "+GitPathPrefix+name)
		return nil, false
	}
	return repo, true
}

func (s *Server) gitInfoRefs(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.gitRepository(w, r)
	if !ok {
		return
	}
	switch svc := r.URL.Query().Get("service"); svc {
	case "git-upload-pack":
	case "git-receive-pack":
		writeProblem(w, r, http.StatusForbidden, "the repository is read-only: the server commits the packages of deployments itself")
		return
	default:
		writeProblem(w, r, http.StatusBadRequest, "only git's smart HTTP protocol is served: ask for info/refs?service=git-upload-pack")
		return
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	if err := repo.AdvertiseRefs(r.Context(), w); err != nil {
		writeError(w, r, s.logger, err)
	}
}

func (s *Server) gitUploadPack(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.gitRepository(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-git-upload-pack-request" {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "send the request as application/x-git-upload-pack-request")
		return
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
	w.Header().Set("Cache-Control", "no-cache")
	sw := &startWriter{ResponseWriter: w}
	err := repo.UploadPack(r.Context(), r.Body, r.Header.Get("Content-Encoding") == "gzip", sw)
	switch {
	case err == nil:
	case sw.started:
		// The pack is under way: the client sees it cut off.
		s.logger.WarnContext(r.Context(), "sending a git pack failed", "err", err)
	case errors.Is(err, gitops.ErrBadRequest):
		w.Header().Del("Content-Type")
		writeProblem(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), gitops.ErrBadRequest.Error()+": "))
	default:
		w.Header().Del("Content-Type")
		writeError(w, r, s.logger, err)
	}
}

func (s *Server) gitReceivePack(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.gitRepository(w, r); ok {
		writeProblem(w, r, http.StatusForbidden, "the repository is read-only: the server commits the packages of deployments itself")
	}
}

// startWriter records whether anything was written.
type startWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}
