package a1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/nephoran/o2ims/internal/ims"
)

// maxCallbackBody bounds the body of a callback from ICS (a job with its
// data).
const maxCallbackBody = 1 << 20

// Handler serves the producer callbacks ICS calls, under the path of
// CallbackURL: POST info-jobs (a job created or changed), DELETE
// info-jobs/{infoJobId}, GET supervision. Refusals are RFC 7807 problems;
// a job whose data does not match the type's schema is 400. ICS carries
// no tokens, so this handler belongs on a listener of its own.
func (p *Producer) Handler() http.Handler {
	mux := http.NewServeMux()
	jobs, supervision := p.prefix+"/info-jobs", p.prefix+"/supervision"
	mux.HandleFunc("POST "+jobs, p.serveCreate)
	mux.HandleFunc("DELETE "+jobs+"/{id}", p.serveDelete)
	mux.HandleFunc("GET "+supervision, p.serveSupervision)
	mux.HandleFunc(jobs, methodNotAllowed("POST"))
	mux.HandleFunc(jobs+"/{id}", methodNotAllowed("DELETE"))
	mux.HandleFunc(supervision, methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such resource: "+r.URL.Path)
	})
	return mux
}

func (p *Producer) serveCreate(w http.ResponseWriter, r *http.Request) {
	var in InfoJob
	if status, err := decodeCallback(w, r, &in); err != nil {
		writeProblem(w, r, status, err.Error())
		return
	}
	j, err := p.jobFrom(r.Context(), in)
	if err != nil {
		p.logger.Warn("A1 report job refused", "job", in.InfoJobIdentity, "owner", in.Owner, "err", err)
		writeProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p.putJob(j)
	writeEmpty(w)
}

// serveDelete stops a job. A job the producer does not run is deleted
// all the same: ICS calls every producer of the type, those that refused
// the job too, and a registration check may have stopped it first.
func (p *Producer) serveDelete(w http.ResponseWriter, r *http.Request) {
	p.deleteJob(r.PathValue("id"))
	writeEmpty(w)
}

func (p *Producer) serveSupervision(w http.ResponseWriter, r *http.Request) {
	if p.opts.Healthy != nil {
		if err := p.opts.Healthy(r.Context()); err != nil {
			p.logger.Warn("A1 supervision answered unhealthy", "err", err)
			writeProblem(w, r, http.StatusServiceUnavailable, "the producer cannot build reports at the moment")
			return
		}
	}
	p.mu.Lock()
	n := len(p.jobs)
	p.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"status": "OK", "producerId": p.opts.ProducerID, "infoJobs": n})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// decodeCallback reads one JSON object of at most maxCallbackBody bytes
// into v; on failure it returns the status to answer.
func decodeCallback(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, errors.New("the body must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = terr
			if err == nil {
				err = errors.New("only one JSON value is allowed")
			}
		}
	}
	if err == nil {
		return 0, nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("the body is larger than %d bytes", tooLarge.Limit)
	}
	if msg, ok := ims.JSONMessage(err); ok {
		return http.StatusBadRequest, errors.New("body: " + msg)
	}
	return http.StatusBadRequest, errors.New("body: " + clip(err.Error()))
}

// methodNotAllowed answers 405 naming the methods a path takes.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; use "+allow)
	}
}

// writeEmpty answers 200 with an empty JSON object (ICS's Void).
func writeEmpty(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

// writeProblem answers an RFC 7807 problem.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	b, _ := json.Marshal(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status,
		"detail": detail, "instance": r.URL.Path,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
