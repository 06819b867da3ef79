package gitops

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Serving a local repository read-only over git's smart HTTP protocol
// (protocol version 0, stateless): GET info/refs?service=git-upload-pack
// advertises the references, POST git-upload-pack sends the objects the
// client wants. Nothing can be pushed.

// ErrBadRequest marks a request the client got wrong.
var ErrBadRequest = errors.New("bad git request")

// MaxUploadPackRequest bounds an upload-pack request body (its wants and
// haves), after decompression.
const MaxUploadPackRequest = 4 << 20

// storage opens the local repository's objects afresh for one request, so
// that serving never shares caches with a commit in progress; git writes
// objects and references atomically, so a reader sees a consistent state.
func (r *Repository) storage() (storer.Storer, error) {
	if !r.Local() {
		return nil, errors.New("only local repositories are served")
	}
	return filesystem.NewStorage(osfs.New(r.opts.Path), cache.NewObjectLRUDefault()), nil
}

type storerLoader struct{ st storer.Storer }

func (l storerLoader) Load(*transport.Endpoint) (storer.Storer, error) { return l.st, nil }

func (r *Repository) uploadPackSession() (transport.UploadPackSession, error) {
	st, err := r.storage()
	if err != nil {
		return nil, err
	}
	ep, err := transport.NewEndpoint("/" + "repository")
	if err != nil {
		return nil, err
	}
	return server.NewServer(storerLoader{st}).NewUploadPackSession(ep, nil)
}

// AdvertiseRefs writes the answer to GET info/refs?service=git-upload-pack.
func (r *Repository) AdvertiseRefs(ctx context.Context, w io.Writer) error {
	sess, err := r.uploadPackSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return fmt.Errorf("advertise references: %w", err)
	}
	ar.Prefix = [][]byte{[]byte("# service=git-upload-pack"), pktline.Flush}
	var buf bytes.Buffer
	if err := ar.Encode(&buf); err != nil {
		return fmt.Errorf("encode references: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// UploadPack answers POST git-upload-pack: body holds the client's wants
// and haves (gzip-compressed when gzipped is set). Until the client says
// it is done it is told that nothing is in common; then it receives a
// pack of what it wants and does not have.
func (r *Repository) UploadPack(ctx context.Context, body io.Reader, gzipped bool, w io.Writer) error {
	if gzipped {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return fmt.Errorf("%w: the body is not gzip data", ErrBadRequest)
		}
		defer zr.Close()
		body = zr
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxUploadPackRequest+1))
	if err != nil {
		return fmt.Errorf("%w: reading the request failed", ErrBadRequest)
	}
	if len(data) > MaxUploadPackRequest {
		return fmt.Errorf("%w: the request is larger than %d bytes", ErrBadRequest, MaxUploadPackRequest)
	}
	req, done, err := decodeUploadPack(data)
	if err != nil {
		return err
	}
	if req.IsEmpty() {
		return fmt.Errorf("%w: the request wants nothing", ErrBadRequest)
	}
	sess, err := r.uploadPackSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	st, _ := r.storage()
	// Haves the repository does not know (the client's own commits) are
	// no common ground; they would fail the object walk.
	known := req.Haves[:0]
	for _, h := range req.Haves {
		if st.HasEncodedObject(h) == nil {
			known = append(known, h)
		}
	}
	req.Haves = known
	for _, h := range req.Wants {
		if st.HasEncodedObject(h) != nil {
			return fmt.Errorf("%w: want %s is not an object of the repository", ErrBadRequest, h)
		}
	}
	if !done {
		// Stateless negotiation without multi_ack: a NAK asks for more
		// haves or the final "done".
		return pktline.NewEncoder(w).Encodef("NAK\n")
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return fmt.Errorf("upload pack: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := resp.Encode(bw); err != nil {
		return fmt.Errorf("send pack: %w", err)
	}
	return bw.Flush()
}

// HeadHash is the branch's head in the local repository, or "" when the
// branch has no commit yet.
func (r *Repository) HeadHash() (string, error) {
	st, err := r.storage()
	if err != nil {
		return "", err
	}
	ref, err := st.Reference(plumbing.NewBranchReferenceName(r.opts.Branch))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return ref.Hash().String(), nil
}

// decodeUploadPack reads an upload-pack request: the wants and
// capabilities up to a flush, then "have" lines, ending in "done" or in a
// flush (more negotiation to come).
func decodeUploadPack(data []byte) (*packp.UploadPackRequest, bool, error) {
	bad := fmt.Errorf("%w: the upload-pack request cannot be read", ErrBadRequest)
	rd := bytes.NewReader(data)
	req := packp.NewUploadPackRequest()
	if err := req.UploadRequest.Decode(rd); err != nil {
		return nil, false, bad
	}
	s := pktline.NewScanner(rd)
	for s.Scan() {
		line := bytes.TrimSuffix(s.Bytes(), []byte("\n"))
		switch {
		case len(line) == 0: // flush
			return req, false, nil
		case bytes.Equal(line, []byte("done")):
			return req, true, nil
		case bytes.HasPrefix(line, []byte("have ")):
			h := string(line[len("have "):])
			if !plumbing.IsHash(h) {
				return nil, false, bad
			}
			req.Haves = append(req.Haves, plumbing.NewHash(h))
		default:
			return nil, false, bad
		}
	}
	if s.Err() != nil {
		return nil, false, bad
	}
	// The request ended after the wants: a clone without negotiation.
	return req, true, nil
}
