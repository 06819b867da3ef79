package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/ratelimit"
)

// retryAfterError is a refusal that tells the client when to come back.
type retryAfterError struct {
	after string // whole seconds, for Retry-After
	err   *ims.Error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// writeError answers with the problem for err. Internal errors are logged
// with their cause and shown only as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(w, r, Problem{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)})
		return
	}
	status := ims.HTTPStatus(err)
	if status >= 500 {
		logger.ErrorContext(r.Context(), "agent request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := Problem{Status: status, Detail: ims.ErrorMessage(err)}
	var seq *sequenceError
	if errors.As(err, &seq) {
		p.LastSequence = &seq.last
	}
	var ra *retryAfterError
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", ra.after)
	}
	writeProblem(w, r, p)
}

// writeProblem writes an RFC 7807 body.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Type = "about:blank"
	p.Title = http.StatusText(p.Status)
	p.Instance = r.URL.Path
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// tooMany is the refusal of a rate-limited request.
func tooMany(retryAfter string, err *ims.Error) error {
	return &retryAfterError{after: retryAfter, err: err}
}

func rateLimited(l *ratelimit.Limiter, key string) error {
	ok, wait := l.Allow(key)
	if ok {
		return nil
	}
	return tooMany(ratelimit.RetryAfterSeconds(wait), ratelimit.TooMany(wait))
}

// decodeBody reads a JSON body of at most limit bytes into v, refusing
// unknown attributes and trailing data, and says what is wrong in the
// API's words.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return ims.Errorf(ims.EMEDIATYPE, "the request body must be application/json, not %s", mt)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return ims.Errorf(ims.EINVALID, "body: %s", jsonMessage(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return ims.Errorf(ims.EINVALID, "body: only one JSON value is allowed")
	}
	return nil
}

// jsonMessage says what is wrong with a JSON body, in the API's words.
func jsonMessage(err error) string {
	if msg, ok := ims.JSONMessage(err); ok {
		return msg
	}
	if strings.Contains(err.Error(), "parsing time") {
		return "a timestamp is not an RFC 3339 date-time"
	}
	return "not valid JSON for this request"
}
