package ims

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSONMessage says what is wrong with a JSON body in the API's words,
// for the errors of encoding/json; ok is false for other errors.
func JSONMessage(err error) (string, bool) {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not valid JSON (at byte %d)", syntax.Offset), true
	case errors.As(err, &typ):
		what := "a value of another type"
		switch typ.Type.Kind() {
		case reflect.String:
			what = "a string"
		case reflect.Bool:
			what = "true or false"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			what = "an integer"
		case reflect.Float32, reflect.Float64:
			what = "a number"
		case reflect.Struct, reflect.Map:
			what = "an object"
		case reflect.Slice, reflect.Array:
			what = "an array"
		}
		if typ.Field == "" {
			return fmt.Sprintf("must be %s, not %s", what, typ.Value), true
		}
		return fmt.Sprintf("%s must be %s, not %s", typ.Field, what, typ.Value), true
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON value is cut short", true
	case errors.Is(err, io.EOF):
		return "empty; a JSON value is required", true
	}
	msg := err.Error()
	if i := strings.Index(msg, "json: unknown field "); i >= 0 {
		return "unknown attribute " + msg[i+len("json: unknown field "):], true
	}
	if strings.Contains(msg, "can't decode JSON body") || strings.Contains(msg, "json: ") {
		return "not valid JSON for this request", true
	}
	return "", false
}
