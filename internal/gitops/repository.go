// Package gitops keeps deployment packages in git: each package is a
// directory <directory>/<package> of one branch, written in one commit per
// change. A repository is either a local bare repository (the embedded
// default, served read-only over git's smart HTTP protocol by Handler) or a
// remote one, cloned into memory and pushed to; a push refused because the
// branch moved on is retried on top of the new head, which is always
// possible because a change replaces one package directory as a whole.
//
// Commits are built from git objects directly, without a working tree, so
// nothing of a package is ever written to the server's filesystem outside
// the bare repository.
package gitops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Options configure a repository.
type Options struct {
	// URL is the remote repository (http:// or https://). Empty: the
	// local bare repository at Path.
	URL string
	// Path is the local bare repository, created when missing.
	Path string
	// Branch receives the commits ("main").
	Branch string
	// Directory holds the packages ("deployments"); slashes around it are
	// ignored, "/" is the repository's root.
	Directory string
	// Username and Password authenticate HTTP pushes and fetches (a token
	// goes in Password; some servers want any non-empty Username with it).
	Username, Password string
	// AuthorName and AuthorEmail sign the commits.
	AuthorName, AuthorEmail string
	// Now stamps commits (time.Now).
	Now func() time.Time
	// Attempts bounds the pushes of one change when the branch moves on
	// meanwhile (5).
	Attempts int
}

// Commit is the result of a change.
type Commit struct {
	// Hash is the branch's head after the change: the new commit, or the
	// head that already held the package as asked.
	Hash string
	// Changed tells whether a commit was made.
	Changed bool
	// Path is the package's directory in the repository.
	Path string
}

// Repository writes packages to one branch of one git repository. It is
// safe for concurrent use; changes are serialized.
type Repository struct {
	opts   Options
	logger *slog.Logger
	mu     sync.Mutex
	repo   *git.Repository
	auth   transport.AuthMethod
}

// ErrNotFound is returned by Read for a package that is not in the branch.
var ErrNotFound = errors.New("package not found")

const remoteName = "origin"

// Open opens (or, for a local repository, creates) a repository. A remote
// repository is not contacted until the first change.
func Open(opts Options, logger *slog.Logger) (*Repository, error) {
	if opts.Branch == "" {
		opts.Branch = "main"
	}
	if !plumbing.NewBranchReferenceName(opts.Branch).IsBranch() || strings.ContainsAny(opts.Branch, " ~^:?*[\\") || strings.Contains(opts.Branch, "..") {
		return nil, fmt.Errorf("branch %q is not a valid branch name", opts.Branch)
	}
	opts.Directory = strings.Trim(opts.Directory, "/")
	if opts.Directory != "" && (!validPath(opts.Directory)) {
		return nil, fmt.Errorf("directory %q is not a relative path within the repository", opts.Directory)
	}
	if opts.AuthorName == "" {
		opts.AuthorName = "Nephoran O2 IMS"
	}
	if opts.AuthorEmail == "" {
		opts.AuthorEmail = "o2ims@nephoran.io"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	r := &Repository{opts: opts, logger: logger}
	if opts.URL == "" {
		if opts.Path == "" {
			return nil, errors.New("a repository needs a URL or a local path")
		}
		repo, err := openBare(opts.Path, opts.Branch)
		if err != nil {
			return nil, err
		}
		r.repo = repo
		return r, nil
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("repository URL %q: only http:// and https:// repositories are supported", opts.URL)
	}
	if u.User != nil {
		return nil, errors.New("repository URL: credentials belong in the username and password, not in the URL")
	}
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, fmt.Errorf("init memory repository: %w", err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{opts.URL}}); err != nil {
		return nil, fmt.Errorf("configure remote: %w", err)
	}
	r.repo = repo
	if opts.Username != "" || opts.Password != "" {
		user := opts.Username
		if user == "" {
			user = "o2ims"
		}
		r.auth = &githttp.BasicAuth{Username: user, Password: opts.Password}
	}
	return r, nil
}

// openBare opens the bare repository at dir, creating it with HEAD on
// branch when it does not exist.
func openBare(dir, branch string) (*git.Repository, error) {
	repo, err := git.PlainOpen(dir)
	if err == nil {
		return repo, nil
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create repository directory: %w", err)
	}
	repo, err = git.PlainInitWithOptions(dir, &git.PlainInitOptions{Bare: true, InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)}})
	if err != nil {
		return nil, fmt.Errorf("create repository %s: %w", dir, err)
	}
	return repo, nil
}

// Local tells whether the repository is a local bare repository.
func (r *Repository) Local() bool { return r.opts.URL == "" }

// Branch is the branch commits go to.
func (r *Repository) Branch() string { return r.opts.Branch }

// PackagePath is the directory of a package in the repository.
func (r *Repository) PackagePath(pkg string) string {
	if r.opts.Directory == "" {
		return pkg
	}
	return r.opts.Directory + "/" + pkg
}

// Put makes the package directory hold exactly files (paths relative to
// it), in one commit with message; nothing is committed when it does
// already.
func (r *Repository) Put(ctx context.Context, pkg string, files map[string][]byte, message string) (Commit, error) {
	if len(files) == 0 {
		return Commit{}, errors.New("a package needs at least one file")
	}
	for name := range files {
		if !validPath(name) {
			return Commit{}, fmt.Errorf("file %q is not a relative path within the package", name)
		}
	}
	return r.change(ctx, pkg, files, message)
}

// Remove deletes the package directory in one commit; nothing is
// committed when it is not there.
func (r *Repository) Remove(ctx context.Context, pkg, message string) (Commit, error) {
	return r.change(ctx, pkg, nil, message)
}

func (r *Repository) change(ctx context.Context, pkg string, files map[string][]byte, message string) (Commit, error) {
	if !validPath(pkg) || strings.Contains(pkg, "/") {
		return Commit{}, fmt.Errorf("package name %q is not a directory name", pkg)
	}
	dir := r.PackagePath(pkg)
	r.mu.Lock()
	defer r.mu.Unlock()
	var last error
	for attempt := 0; attempt < r.opts.Attempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return Commit{}, err
		}
		parent, err := r.head(ctx)
		if err != nil {
			return Commit{}, err
		}
		hash, changed, err := r.commit(parent, dir, files, message)
		if err != nil {
			return Commit{}, err
		}
		if !changed {
			return Commit{Hash: parent.String(), Path: dir}, nil
		}
		err = r.publish(ctx, parent, hash)
		if err == nil {
			return Commit{Hash: hash.String(), Changed: true, Path: dir}, nil
		}
		if !retryable(err) {
			return Commit{}, err
		}
		last = err
		r.logger.InfoContext(ctx, "the branch moved on while committing; committing again on top of it", "repository", r.name(), "package", pkg, "attempt", attempt+1, "err", err)
	}
	return Commit{}, fmt.Errorf("the branch kept moving on: %w", last)
}

func (r *Repository) name() string {
	if r.Local() {
		return r.opts.Path
	}
	return r.opts.URL
}

func (r *Repository) branchRef() plumbing.ReferenceName {
	return plumbing.NewBranchReferenceName(r.opts.Branch)
}

func (r *Repository) remoteRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, r.opts.Branch)
}

// head is the branch's current commit (ZeroHash when it has none): for a
// remote repository, as fetched now.
func (r *Repository) head(ctx context.Context) (plumbing.Hash, error) {
	name := r.branchRef()
	if !r.Local() {
		if err := r.fetch(ctx); err != nil {
			return plumbing.ZeroHash, err
		}
		name = r.remoteRef()
	}
	ref, err := r.repo.Storer.Reference(name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read branch %s: %w", r.opts.Branch, err)
	}
	return ref.Hash(), nil
}

func (r *Repository) fetch(ctx context.Context) error {
	spec := config.RefSpec("+" + r.branchRef().String() + ":" + r.remoteRef().String())
	err := r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: r.auth, Tags: git.NoTags, Force: true})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, transport.ErrEmptyRemoteRepository), isMissingRef(err):
		// A new repository or branch: the first commit creates it.
		_ = r.repo.Storer.RemoveReference(r.remoteRef())
		return nil
	}
	return fmt.Errorf("fetch %s from %s: %w", r.opts.Branch, r.opts.URL, err)
}

func isMissingRef(err error) bool {
	var nm git.NoMatchingRefSpecError
	return errors.As(err, &nm) || strings.Contains(err.Error(), "couldn't find remote ref")
}

// publish moves the branch from parent to hash: a compare-and-swap of the
// local branch, or a push of the remote one.
func (r *Repository) publish(ctx context.Context, parent, hash plumbing.Hash) error {
	newRef := plumbing.NewHashReference(r.branchRef(), hash)
	if r.Local() {
		var old *plumbing.Reference
		if !parent.IsZero() {
			old = plumbing.NewHashReference(r.branchRef(), parent)
		}
		if err := r.repo.Storer.CheckAndSetReference(newRef, old); err != nil {
			return errMoved{err}
		}
		return nil
	}
	if err := r.repo.Storer.SetReference(newRef); err != nil {
		return fmt.Errorf("set branch: %w", err)
	}
	spec := config.RefSpec(r.branchRef().String() + ":" + r.branchRef().String())
	err := r.repo.PushContext(ctx, &git.PushOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: r.auth})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed), errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("push to %s: %w", r.opts.URL, err)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return errMoved{fmt.Errorf("push to %s: %w", r.opts.URL, err)}
}

// errMoved is a refused update of a branch that moved on.
type errMoved struct{ err error }

func (e errMoved) Error() string { return e.err.Error() }
func (e errMoved) Unwrap() error { return e.err }

func retryable(err error) bool {
	var m errMoved
	return errors.As(err, &m)
}

// commit writes the tree of parent with dir replaced by files (removed
// when files is nil) and a commit of it; changed is false when the tree
// stays the same.
func (r *Repository) commit(parent plumbing.Hash, dir string, files map[string][]byte, message string) (plumbing.Hash, bool, error) {
	st := r.repo.Storer
	var root *object.Tree
	var parents []plumbing.Hash
	if !parent.IsZero() {
		c, err := object.GetCommit(st, parent)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("read commit %s: %w", parent, err)
		}
		if root, err = c.Tree(); err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("read tree of %s: %w", parent, err)
		}
		parents = []plumbing.Hash{parent}
	}
	var sub plumbing.Hash // the package's new tree, zero when removed
	if files != nil {
		var err error
		if sub, err = writeFiles(st, files); err != nil {
			return plumbing.ZeroHash, false, err
		}
	}
	oldRoot := plumbing.ZeroHash
	if root != nil {
		oldRoot = root.Hash
	}
	newRoot, err := replace(st, oldRoot, strings.Split(dir, "/"), sub)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	if newRoot == oldRoot {
		return parent, false, nil
	}
	if newRoot.IsZero() {
		if newRoot, err = writeTree(st, nil); err != nil {
			return plumbing.ZeroHash, false, err
		}
	}
	now := r.opts.Now()
	sig := object.Signature{Name: r.opts.AuthorName, Email: r.opts.AuthorEmail, When: now}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: newRoot, ParentHashes: parents}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("encode commit: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("write commit: %w", err)
	}
	return h, true, nil
}

// writeFiles writes the blobs and trees of a set of files and returns the
// hash of their top tree.
func writeFiles(st storer.EncodedObjectStorer, files map[string][]byte) (plumbing.Hash, error) {
	type node struct {
		blobs map[string]plumbing.Hash
		dirs  map[string]*node
	}
	newNode := func() *node { return &node{blobs: map[string]plumbing.Hash{}, dirs: map[string]*node{}} }
	top := newNode()
	for name, data := range files {
		h, err := writeBlob(st, data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		parts := strings.Split(name, "/")
		n := top
		for _, p := range parts[:len(parts)-1] {
			if n.dirs[p] == nil {
				n.dirs[p] = newNode()
			}
			n = n.dirs[p]
		}
		n.blobs[parts[len(parts)-1]] = h
	}
	var write func(n *node) (plumbing.Hash, error)
	write = func(n *node) (plumbing.Hash, error) {
		var entries []object.TreeEntry
		for name, h := range n.blobs {
			if n.dirs[name] != nil {
				return plumbing.ZeroHash, fmt.Errorf("%q is both a file and a directory", name)
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		}
		for name, d := range n.dirs {
			h, err := write(d)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		return writeTree(st, entries)
	}
	return write(top)
}

func writeBlob(st storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return st.SetEncodedObject(obj)
}

// writeTree writes a tree of entries in git's order: by name, a
// directory's name compared as if it ended in "/".
func writeTree(st storer.EncodedObjectStorer, entries []object.TreeEntry) (plumbing.Hash, error) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	t := &object.Tree{Entries: entries}
	obj := st.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write tree: %w", err)
	}
	return h, nil
}

// replace returns the tree treeHash (zero: an empty tree) with the entry at
// path set to the tree sub, or removed when sub is zero; a tree left
// empty is removed too (git keeps no empty directories), and zero is
// returned for an empty result.
func replace(st storer.EncodedObjectStorer, treeHash plumbing.Hash, path []string, sub plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !treeHash.IsZero() {
		t, err := object.GetTree(st, treeHash)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", treeHash, err)
		}
		entries = slices.Clone(t.Entries)
	}
	i := slices.IndexFunc(entries, func(e object.TreeEntry) bool { return e.Name == path[0] })
	target := sub
	if len(path) > 1 {
		child := plumbing.ZeroHash
		if i >= 0 && entries[i].Mode == filemode.Dir {
			child = entries[i].Hash
		}
		var err error
		if target, err = replace(st, child, path[1:], sub); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	switch {
	case i >= 0 && target.IsZero():
		entries = slices.Delete(entries, i, i+1)
	case i >= 0:
		if entries[i].Hash == target && entries[i].Mode == filemode.Dir {
			return treeHash, nil
		}
		entries[i] = object.TreeEntry{Name: path[0], Mode: filemode.Dir, Hash: target}
	case target.IsZero():
		return treeHash, nil
	default:
		entries = append(entries, object.TreeEntry{Name: path[0], Mode: filemode.Dir, Hash: target})
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return writeTree(st, entries)
}

// Read returns the files of a package at the branch's head (fetched now
// for a remote repository) and that head's hash.
func (r *Repository) Read(ctx context.Context, pkg string) (map[string][]byte, string, error) {
	if !validPath(pkg) || strings.Contains(pkg, "/") {
		return nil, "", fmt.Errorf("package name %q is not a directory name", pkg)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head(ctx)
	if err != nil {
		return nil, "", err
	}
	if head.IsZero() {
		return nil, "", ErrNotFound
	}
	c, err := object.GetCommit(r.repo.Storer, head)
	if err != nil {
		return nil, "", fmt.Errorf("read commit %s: %w", head, err)
	}
	root, err := c.Tree()
	if err != nil {
		return nil, "", fmt.Errorf("read tree: %w", err)
	}
	t, err := root.Tree(r.PackagePath(pkg))
	if errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, head.String(), ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read package %s: %w", pkg, err)
	}
	files := map[string][]byte{}
	err = t.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		if err != nil {
			return err
		}
		files[f.Name] = []byte(s)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("read package %s: %w", pkg, err)
	}
	return files, head.String(), nil
}

// validPath tells whether p is a clean, relative, slash-separated path
// without "." or ".." elements and without ".git" in it.
func validPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || len(p) > 1024 {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || part == "" || strings.EqualFold(part, ".git") || strings.ContainsAny(part, "\x00\\") {
			return false
		}
	}
	return true
}

// Check tells whether the repository can be read: a local one opens, a
// remote one answers with its references (an empty one counts).
func (r *Repository) Check(ctx context.Context) error {
	if r.Local() {
		_, err := r.HeadHash()
		return err
	}
	rem, err := r.repo.Remote(remoteName)
	if err != nil {
		return err
	}
	_, err = rem.ListContext(ctx, &git.ListOptions{Auth: r.auth})
	if err == nil || errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil
	}
	return fmt.Errorf("list references of %s: %w", r.opts.URL, err)
}

// DisplayURL is the repository's URL without credentials, or the local
// repository's path.
func (r *Repository) DisplayURL() string {
	if r.Local() {
		return r.opts.Path
	}
	return r.opts.URL
}

// Directory is the directory holding the packages ("" for the root).
func (r *Repository) Directory() string { return r.opts.Directory }
