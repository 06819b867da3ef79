package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"

	"github.com/nephoran/o2ims/internal/auth"
	"github.com/nephoran/o2ims/internal/ims"
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
	return writeOK(w, r.obj)
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
