package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"reflect"

	"github.com/nephoran/o2ims/internal/ims"
)

// The generated handlers decode JSON bodies leniently: an unknown or
// misspelt attribute would be dropped without a word. The raw body is kept
// for JSON requests, and a strict-handler middleware decodes it once more
// into the operation's body type with unknown fields refused.

type rawBodyKey struct{}

// captureJSONBody reads a JSON request body (already bounded by the size
// limit), keeps it in the context and restores it for the handler.
func captureJSONBody(r *http.Request) (*http.Request, error) {
	if r.Body == nil || (r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		return r, nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && mt == "multipart/form-data" {
		return r, nil
	}
	if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
		return r, ims.Errorf(ims.EMEDIATYPE, "Content-Type %q is not accepted: send application/json (application/merge-patch+json for PATCH, multipart/form-data for package uploads)", truncateHeader(ct))
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return r, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return r.WithContext(context.WithValue(r.Context(), rawBodyKey{}, b)), nil
}

func truncateHeader(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// strictBodies is the strict-handler middleware refusing unknown fields.
func strictBodies[H ~func(context.Context, http.ResponseWriter, *http.Request, any) (any, error)](f H, _ string) H {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		if err := checkBody(ctx, req); err != nil {
			return nil, err
		}
		return f(ctx, w, r, req)
	}
}

// checkBody decodes the raw body into the type of the request object's
// Body (or JSONBody) with unknown fields refused.
func checkBody(ctx context.Context, req any) error {
	raw, ok := ctx.Value(rawBodyKey{}).([]byte)
	if !ok {
		return nil
	}
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Struct {
		return nil
	}
	for _, name := range []string{"Body", "JSONBody"} {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		target := reflect.New(f.Type().Elem())
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target.Interface()); err != nil {
			return paramError(err)
		}
		if dec.More() {
			return ims.Errorf(ims.EINVALID, "body: more than one JSON value")
		}
	}
	return nil
}
