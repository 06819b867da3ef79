package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sync/atomic"

	"github.com/nephoran/o2ims/internal/auth"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
)

// selectors are the SOL013 attribute selectors of a single object's GET.
type selectors struct {
	fields, excludeFields, allFields, excludeDefault *string
}

// objectResponse answers a single object's GET with the object as its
// collection renders it, projected by the attribute selectors, and its
// ETag when it has one.
type objectResponse struct {
	obj  map[string]any
	raw  []byte // the encoded answer, when it was made without obj
	etag string
}

// view is one for an object the API shows as its generated type T: the
// attributes T does not define are dropped before the selectors apply.
func view[T any](sc *query.Schema, v any, s selectors) (objectResponse, error) {
	t, err := fromValue[T](v)
	if err != nil {
		return objectResponse{}, err
	}
	return one(sc, t, s)
}

// one projects doc (stored JSON, a decoded object or a value that
// marshals to one) by the selectors, validated against sc as on the
// collection. Without any selector a single GET returns the whole object.
func one(sc *query.Schema, doc any, s selectors) (objectResponse, error) {
	all := s.allFields != nil || (s.fields == nil && s.excludeFields == nil && s.excludeDefault == nil)
	sel, err := query.ParseSelection(sc, deref(s.fields), deref(s.excludeFields), all, s.excludeDefault != nil)
	if err != nil {
		return objectResponse{}, err
	}
	var obj map[string]any
	switch d := doc.(type) {
	case map[string]any:
		obj = d
	case json.RawMessage:
		err = json.Unmarshal(d, &obj)
	default:
		var b []byte
		if b, err = json.Marshal(d); err == nil {
			err = json.Unmarshal(b, &obj)
		}
	}
	if err != nil {
		return objectResponse{}, ims.Internal(fmt.Errorf("decode %s: %w", sc.Object, err), "reading failed")
	}
	return objectResponse{obj: sel.Apply(obj)}, nil
}

func (r objectResponse) write(w http.ResponseWriter) error {
	if r.etag != "" {
		w.Header().Set("ETag", r.etag)
	}
	if r.raw != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(r.raw)
		return err
	}
	return writeOK(w, r.obj)
}

// renderedCloud is the O-Cloud's answer without selectors, encoded once:
// it changes only with the O-Cloud's identifier (the rest is
// configuration).
type renderedCloud struct {
	id, etag string
	body     []byte
}

// storedResource answers a v1 resource's GET without selectors from the
// stored document's bytes (query.Selection.ApplyRawObject), or ok false
// when the decoding path must answer.
func (a inventoryAPI) storedResource(ctx context.Context, poolID, id string) (objectResponse, bool, error) {
	doc, ok, err := a.inv.StoredResource(ctx, a.v, poolID, id)
	if err != nil || !ok {
		return objectResponse{}, false, err
	}
	sel, err := query.ParseSelection(a.v.Resources, "", "", true, false)
	if err != nil {
		return objectResponse{}, false, err
	}
	if b, ok := sel.ApplyRawObject(doc); ok {
		return objectResponse{raw: b}, true, nil
	}
	return objectResponse{}, false, nil
}

// cachedCloud is cloud, answering a GET without selectors from cache.
func (a inventoryAPI) cachedCloud(ctx context.Context, cache *atomic.Pointer[renderedCloud], s selectors) (objectResponse, error) {
	if s != (selectors{}) {
		return a.cloud(ctx, s)
	}
	c, err := a.inv.CloudInfo(ctx)
	if err != nil {
		return objectResponse{}, err
	}
	if r := cache.Load(); r != nil && r.id == c.OCloudID {
		return objectResponse{raw: r.body, etag: r.etag}, nil
	}
	out, err := a.cloud(ctx, s)
	if err != nil {
		return objectResponse{}, err
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out.obj); err != nil {
		return objectResponse{}, ims.Internal(fmt.Errorf("encode %s: %w", inventory.OCloudSchema.Object, err), "reading failed")
	}
	r := &renderedCloud{id: c.OCloudID, etag: digestETag(buf.Bytes()), body: buf.Bytes()}
	cache.Store(r)
	return objectResponse{raw: r.body, etag: r.etag}, nil
}

func (r objectResponse) VisitGetProviderResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r objectResponse) VisitGetCnfPackageResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetCnfInstanceResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetLcmOpOccResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r objectResponse) VisitGetDeploymentResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetRecommendationResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r objectResponse) VisitGetLocationByIDResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetOCloudSiteByIDResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitReplaceLocationResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitReplaceOCloudSiteResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetLocationResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r objectResponse) VisitGetOCloudSiteResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r objectResponse) VisitGetCloudInfoResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r objectResponse) VisitGetResourceTypeResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetResourcePoolResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetResourceResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r objectResponse) VisitGetDeploymentManagerResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetSubscriptionResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetAlarmResponse(w http.ResponseWriter) error        { return r.write(w) }
func (r objectResponse) VisitGetAlarmSubscriptionResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetResourceTypeByIDResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetResourcePoolByIDResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetResourceByIDResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetAlarmDictionaryResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetResourceTypeAlarmDictionaryResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetProbableCauseResponse(w http.ResponseWriter) error { return r.write(w) }
func (r objectResponse) VisitGetDeploymentManagerByIDResponse(w http.ResponseWriter) error {
	return r.write(w)
}

// withDMSCredentials adds the O2dms profile credentials to a deployment
// manager (decoded, not shared) when the server exposes them (creds is
// set) and the caller holds auth.PermissionDMSCredentials. Only a
// deployment manager's own GET calls it: lists, notifications and logs
// never carry them.
func withDMSCredentials(ctx context.Context, creds func(string) (map[string]any, bool), obj map[string]any) map[string]any {
	if creds == nil {
		return obj
	}
	if p, _ := auth.PrincipalFrom(ctx); !p.Has(auth.PermissionDMSCredentials) {
		return obj
	}
	ext, _ := obj["extensions"].(map[string]any)
	name, _ := ext["providerName"].(string)
	profile, _ := ext["profileData"].(map[string]any)
	if c, ok := creds(name); ok && profile != nil {
		maps.Copy(profile, c)
	}
	return obj
}
