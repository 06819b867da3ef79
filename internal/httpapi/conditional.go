package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// Conditional GET: every successful GET answer carries an ETag (the
// handler's own, such as a deployment's resource version, or a digest of
// the body), and a request whose If-None-Match names it is answered 304
// without a body, so pollers (the RAG feeds) pay only for changes.

// bufferedWriter holds a GET's answer until its ETag is known.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// serveConditional runs h for a GET and answers with an ETag, or 304.
func serveConditional(w http.ResponseWriter, r *http.Request, h http.Handler) {
	b := &bufferedWriter{header: w.Header()}
	h.ServeHTTP(b, r)
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.status == http.StatusOK {
		etag := w.Header().Get("ETag")
		if etag == "" {
			etag = digestETag(b.body.Bytes())
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Cache-Control", "private, no-cache")
		if matchesETag(r.Header.Get("If-None-Match"), etag) {
			w.Header().Del("Content-Type")
			w.Header().Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// digestETag is the ETag of a GET answer without one of its own: a
// digest of the body.
func digestETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// matchesETag applies the weak comparison of If-None-Match (RFC 9110
// 13.1.2): "*" or any listed tag equal to etag but for W/.
func matchesETag(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}
