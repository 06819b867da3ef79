package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/nephoran/o2ims/internal/advisor"
	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/ims"
)

func (h *nephoranHandlers) ListRecommendations(ctx context.Context, req nephapi.ListRecommendationsRequestObject) (nephapi.ListRecommendationsResponseObject, error) {
	p := req.Params
	page, err := h.advisor.List(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) CreateRecommendation(ctx context.Context, req nephapi.CreateRecommendationRequestObject) (nephapi.CreateRecommendationResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	in, err := fromValue[advisor.Request](req.Body)
	if err != nil {
		return nil, err
	}
	rec, err := h.advisor.Recommend(ctx, in)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[nephapi.Recommendation](rec)
	if err != nil {
		return nil, err
	}
	loc := "/o2ims/v1/advisor/recommendations/" + rec.RecommendationID
	return nephapi.CreateRecommendation201JSONResponse{Body: v, Headers: nephapi.CreateRecommendation201ResponseHeaders{Location: &loc}}, nil
}

func (h *nephoranHandlers) GetRecommendation(ctx context.Context, req nephapi.GetRecommendationRequestObject) (nephapi.GetRecommendationResponseObject, error) {
	rec, err := h.advisor.Get(ctx, req.RecommendationId.String())
	if err != nil {
		return nil, err
	}
	p := req.Params
	return view[nephapi.Recommendation](advisor.Schema, rec, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) GetPerformanceReport(ctx context.Context, _ nephapi.GetPerformanceReportRequestObject) (nephapi.GetPerformanceReportResponseObject, error) {
	if h.report == nil {
		return nil, ims.Errorf(ims.EUNAVAILABLE, "the performance report is not configured")
	}
	r, err := h.report.Build(ctx)
	if err != nil {
		return nil, err
	}
	// The ETag covers what feeds index, not the counters.
	stable, err := json.Marshal(struct {
		P any `json:"p"`
		D any `json:"d"`
	}{r.ResourcePools, r.Deployments})
	if err != nil {
		return nil, ims.Internal(err, "reading failed")
	}
	sum := sha256.Sum256(stable)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	v, err := fromValue[nephapi.PerformanceReport](r)
	return nephapi.GetPerformanceReport200JSONResponse{Body: v, Headers: nephapi.GetPerformanceReport200ResponseHeaders{ETag: &etag}}, err
}
