package httpapi

import (
	"encoding/json"
	"fmt"
	"github.com/nephoran/o2ims/internal/collection"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	invapi "github.com/nephoran/o2ims/internal/httpapi/gen/inventory"
	"github.com/nephoran/o2ims/internal/ims"
)

// This file is the one place where domain values become API values.

// fromDoc decodes a stored JSON document into a generated API type. The
// store keeps objects in their API representation, so this is a decode,
// and it drops any attribute the API does not define.
func fromDoc[T any](doc json.RawMessage) (T, error) {
	var v T
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, ims.Internal(fmt.Errorf("decode %T: %w", v, err), "reading failed")
	}
	return v, nil
}

// listRequest gathers the SOL013 query parameters of any collection GET.
func listRequest(filter, fields, excludeFields, allFields, excludeDefault *string, limit *int, marker *string) collection.Request {
	return collection.Request{
		Filter:         deref(filter),
		Fields:         deref(fields),
		ExcludeFields:  deref(excludeFields),
		AllFields:      allFields != nil,
		ExcludeDefault: excludeDefault != nil,
		Limit:          limit,
		Marker:         deref(marker),
		Encoded:        true,
	}
}

func cloudInfo(c ims.OCloud) (invapi.OCloudInfo, error) {
	id, err := uuid.Parse(c.OCloudID)
	if err != nil {
		return invapi.OCloudInfo{}, ims.Internal(fmt.Errorf("stored ocloud id %q: %w", c.OCloudID, err), "reading failed")
	}
	out := invapi.OCloudInfo{
		OCloudId:      id,
		GlobalCloudId: c.GlobalCloudID,
		Name:          c.Name,
		Description:   c.Description,
		ServiceUri:    c.ServiceURI,
	}
	if len(c.Extensions) > 0 {
		ext := common.Extensions(c.Extensions)
		out.Extensions = &ext
	}
	return out, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// fromMap and fromValue convert a representation built as a map or a
// domain value into a generated API type.
func fromMap[T any](m map[string]any) (T, error) {
	return fromValue[T](m)
}

func fromValue[T any](v any) (T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		var zero T
		return zero, ims.Internal(fmt.Errorf("encode %T: %w", v, err), "reading failed")
	}
	return fromDoc[T](b)
}
