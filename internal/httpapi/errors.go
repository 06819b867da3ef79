package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	"github.com/nephoran/o2ims/internal/ims"
)

// writeError answers with the ProblemDetails for err. Internal errors are
// logged with their cause and shown to the client only as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	// A body cut off by the size limit fails to decode wherever it is read;
	// the client sent too much, whatever the decoder made of it.
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit))
		return
	}
	status := ims.HTTPStatus(err)
	if status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, r, status, ims.ErrorMessage(err))
}

// writeProblem writes an RFC 7807 body.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	typ := "about:blank"
	title := http.StatusText(status)
	p := common.ProblemDetails{
		Type:     &typ,
		Title:    &title,
		Status:   status,
		Detail:   detail,
		Instance: ptr(r.URL.Path),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// paramError turns a parameter binding error of the generated code, which
// names the parameter, into a client error.
func paramError(err error) error {
	var ie *ims.Error
	var tooLarge *http.MaxBytesError
	if errors.As(err, &ie) || errors.As(err, &tooLarge) {
		return err
	}
	if msg, ok := ims.JSONMessage(err); ok {
		return ims.Errorf(ims.EINVALID, "body: %s", msg)
	}
	if name, kind, ok := paramOf(err); ok {
		switch kind {
		case "RequiredParamError", "RequiredHeaderError":
			return ims.Errorf(ims.EINVALID, "parameter %s is required", name)
		case "TooManyValuesForParamError":
			return ims.Errorf(ims.EINVALID, "parameter %s is given more than once", name)
		}
		if strings.Contains(err.Error(), "UUID") {
			return ims.Errorf(ims.EINVALID, "parameter %s: not a valid identifier (a UUID)", name)
		}
		return ims.Errorf(ims.EINVALID, "parameter %s: not a valid value", name)
	}
	return ims.Errorf(ims.EINVALID, "%v", err)
}

// paramOf reads the parameter name of the generated packages' parameter
// errors (each package has its own types, with a ParamName field).
func paramOf(err error) (name, kind string, ok bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		f := v.Elem().FieldByName("ParamName")
		if f.IsValid() && f.Kind() == reflect.String {
			return f.String(), v.Elem().Type().Name(), true
		}
	}
	return "", "", false
}

func ptr[T any](v T) *T { return &v }
