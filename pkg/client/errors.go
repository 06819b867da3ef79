package o2

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// ProblemError is a non-2xx answer of the IMS: the RFC 7807 problem details
// of its body, or a stand-in built from the status when the body holds
// none. Test for it with errors.As, or with IsNotFound and its siblings.
type ProblemError struct {
	// Status is the HTTP status code of the answer.
	Status int `json:"status"`
	// Type is a URI reference identifying the problem type; "about:blank"
	// when the server does not specify one.
	Type string `json:"type,omitempty"`
	// Title is a short summary of the problem type, such as "Not Found".
	Title string `json:"title,omitempty"`
	// Detail explains this occurrence of the problem.
	Detail string `json:"detail,omitempty"`
	// Instance is the request path the problem occurred on.
	Instance string `json:"instance,omitempty"`
}

// Error returns the status, title and detail, such as
// `404 Not Found: resource pool "x" not found`.
func (e *ProblemError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Title == "" {
		s = fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	s = strings.TrimSpace(s)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// IsNotFound reports whether err is, or wraps, a ProblemError with status
// 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsBadRequest reports whether err is, or wraps, a ProblemError with status
// 400, such as an invalid filter.
func IsBadRequest(err error) bool { return hasStatus(err, http.StatusBadRequest) }

// IsUnauthorized reports whether err is, or wraps, a ProblemError with
// status 401: the credentials are missing or were not accepted.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is, or wraps, a ProblemError with status
// 403: the credentials lack a needed scope.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsConflict reports whether err is, or wraps, a ProblemError with status
// 409.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsUnprocessable reports whether err is, or wraps, a ProblemError with
// status 422: the request is well-formed but cannot be carried out, such
// as instantiating onto an unknown resource pool or scaling beyond the
// maximum scale level of an aspect.
func IsUnprocessable(err error) bool { return hasStatus(err, http.StatusUnprocessableEntity) }

// IsAuthError reports whether err is an authentication or authorization
// failure: a ProblemError with status 401 or 403, or the refusal of the
// OAuth 2.0 token endpoint to issue a token.
func IsAuthError(err error) bool {
	if IsUnauthorized(err) || IsForbidden(err) {
		return true
	}
	var re *oauth2.RetrieveError
	return errors.As(err, &re)
}

// StatusCode returns the HTTP status of the ProblemError err is or wraps,
// or 0 when there is none (for example after a connection error).
func StatusCode(err error) int {
	var pe *ProblemError
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 0
}

func hasStatus(err error, status int) bool {
	return StatusCode(err) == status
}

// maxProblemDetail bounds the detail taken from a body that is not problem
// details.
const maxProblemDetail = 512

// newProblemError builds the ProblemError of an answer with status, the
// given Content-Type and body.
func newProblemError(status int, contentType string, body []byte, path string) *ProblemError {
	pe := &ProblemError{}
	mt, _, _ := mime.ParseMediaType(contentType)
	decoded := false
	if mt == "application/problem+json" || mt == "application/json" || strings.HasSuffix(mt, "+json") {
		decoded = json.Unmarshal(body, pe) == nil
	}
	if !decoded {
		*pe = ProblemError{Detail: plainDetail(body)}
	}
	// The status line is the authority; a body may omit or misstate it.
	pe.Status = status
	if pe.Title == "" {
		pe.Title = http.StatusText(status)
	}
	if pe.Type == "" {
		pe.Type = "about:blank"
	}
	if pe.Instance == "" {
		pe.Instance = path
	}
	return pe
}

// plainDetail returns a short, single-line excerpt of a body that is not
// problem details, or "" when it is not readable text.
func plainDetail(body []byte) string {
	if !utf8.Valid(body) {
		return ""
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > maxProblemDetail {
		cut := maxProblemDetail
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
