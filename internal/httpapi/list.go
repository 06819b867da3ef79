package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/nephoran/o2ims/internal/collection"
	"net/http"
	"net/url"
)

// listResponse writes one page of a collection. The generated response
// types marshal every attribute; SOL013 attribute selectors need the
// projected objects, so every collection operation answers with this type,
// which satisfies each operation's response interface.
type listResponse struct {
	items []map[string]any
	// encoded is the page's items as JSON (collection.Page.Encoded);
	// items then holds only what follows them (a feed's tombstones).
	encoded []byte
	next    string // the Link header value, if a next page exists
	stamp   string // X-Change-Stamp, for collections with changedSince
}

func newListResponse(ctx context.Context, page collection.Page) listResponse {
	r := listResponse{items: page.Items, encoded: page.Encoded}
	if page.NextMarker != "" {
		if u, ok := ctx.Value(requestURLKey{}).(*url.URL); ok {
			q := u.Query()
			q.Set("nextpage_opaque_marker", page.NextMarker)
			next := url.URL{Path: u.Path, RawQuery: q.Encode()}
			r.next = "<" + next.String() + `>; rel="next"`
		}
	}
	return r
}

func (r listResponse) write(w http.ResponseWriter) error {
	if r.next != "" {
		w.Header().Set("Link", r.next)
	}
	if r.stamp != "" {
		w.Header().Set("X-Change-Stamp", r.stamp)
	}
	if r.encoded != nil {
		body := r.encoded
		if len(r.items) > 0 {
			more, err := json.Marshal(r.items)
			if err != nil {
				return err
			}
			// "[a,b]\n" and "[t]" make "[a,b,t]\n".
			body = bytes.TrimSuffix(bytes.TrimSuffix(body, []byte("\n")), []byte("]"))
			if len(body) > 1 {
				body = append(body, ',')
			}
			body = append(append(body, more[1:]...), '\n')
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(body)
		return err
	}
	return writeOK(w, r.items)
}

// writeOK answers 200 with v as JSON; v is encoded before anything is
// written, so an encoding error can still become a problem.
func writeOK(w http.ResponseWriter, v any) error { return writeStatus(w, http.StatusOK, v) }

// writeStatus answers status with v as JSON, encoded before anything is
// written.
func writeStatus(w http.ResponseWriter, status int, v any) error {
	if b, ok := w.(*bufferedWriter); ok && b.body.Len() == 0 {
		// A conditional GET buffers the answer anyway: encode into its
		// buffer instead of copying from one of our own.
		if err := json.NewEncoder(&b.body).Encode(v); err != nil {
			b.body.Reset()
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		return nil
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (r listResponse) VisitListLocationsResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r listResponse) VisitListOCloudSitesResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r listResponse) VisitGetLocationsResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r listResponse) VisitGetOCloudSitesResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r listResponse) VisitGetResourceTypesResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitGetResourcePoolsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitGetResourcesResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r listResponse) VisitGetDeploymentManagersResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r listResponse) VisitListResourceTypesResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitListResourcePoolsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitListResourcesResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r listResponse) VisitListDeploymentManagersResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r listResponse) VisitGetSubscriptionsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitGetAlarmDictionariesResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r listResponse) VisitListAlarmsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitGetAlarmsResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r listResponse) VisitGetAlarmSubscriptionsResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r listResponse) VisitGetProbableCausesResponse(w http.ResponseWriter) error { return r.write(w) }
func (r listResponse) VisitListProvidersResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r listResponse) VisitListCnfPackagesResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r listResponse) VisitListCnfInstancesResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r listResponse) VisitListLcmOpOccsResponse(w http.ResponseWriter) error     { return r.write(w) }
func (r listResponse) VisitListDeploymentsResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r listResponse) VisitListRecommendationsResponse(w http.ResponseWriter) error {
	return r.write(w)
}
