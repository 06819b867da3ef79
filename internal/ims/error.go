// Package ims holds the domain vocabulary of the O2 IMS: the inventory model
// types, their validation, and the one error type shared by every layer.
package ims

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each maps to exactly one HTTP status in the API layer.
const (
	EINVALID         = "invalid"         // the request is malformed (400)
	EUNAUTHENTICATED = "unauthenticated" // no valid credentials (401)
	EFORBIDDEN       = "forbidden"       // valid credentials without the permission (403)
	ENOTFOUND        = "not_found"       // the object does not exist (404)
	ECONFLICT        = "conflict"        // the request conflicts with the current state (409)
	EUNPROCESSABLE   = "unprocessable"   // well-formed but semantically impossible (422)
	EPRECONDITION    = "precondition"    // a conditional request's precondition does not hold (412)
	EMEDIATYPE       = "media_type"      // the body's Content-Type is not one the API reads (415)
	EGONE            = "gone"            // what the request refers to is no longer kept (410)
	ETOOMANY         = "too_many"        // the client exceeded its request rate (429)
	EUNAVAILABLE     = "unavailable"     // a dependency is temporarily unavailable (503)
	EINTERNAL        = "internal"        // anything else; never shown to clients in detail (500)
)

// statusOf is the one mapping from error codes to HTTP status.
var statusOf = map[string]int{
	EINVALID:         http.StatusBadRequest,
	EUNAUTHENTICATED: http.StatusUnauthorized,
	EFORBIDDEN:       http.StatusForbidden,
	ENOTFOUND:        http.StatusNotFound,
	ECONFLICT:        http.StatusConflict,
	EUNPROCESSABLE:   http.StatusUnprocessableEntity,
	EPRECONDITION:    http.StatusPreconditionFailed,
	EMEDIATYPE:       http.StatusUnsupportedMediaType,
	EGONE:            http.StatusGone,
	ETOOMANY:         http.StatusTooManyRequests,
	EUNAVAILABLE:     http.StatusServiceUnavailable,
	EINTERNAL:        http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of err's code, for every HTTP interface
// of the IMS (the API, the agent protocol); 500 for anything else.
func HTTPStatus(err error) int {
	if status, ok := statusOf[ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// Error is the application error. Message is safe to show to API clients;
// Err, when set, is the underlying cause and is only logged.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps err as an EINTERNAL error. The message shown to clients is generic.
func Internal(err error, what string) *Error {
	return &Error{Code: EINTERNAL, Message: what, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of an
// *Error that is not internal, and a generic text otherwise.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "An internal error occurred."
}

// MessageOf is the message of err for nesting it in another error's
// message: an *Error's Message, else err's text. Use it only for errors
// whose text is known to be fit for clients.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// RecoverInvalid, deferred, turns a panic in library code that reads
// untrusted input into an EINVALID error saying that what could not be
// processed: crafted input must never crash the server.
func RecoverInvalid(err *error, what string) {
	if r := recover(); r != nil {
		*err = &Error{Code: EINVALID, Message: what + " could not be processed", Err: fmt.Errorf("panic: %v", r)}
	}
}
