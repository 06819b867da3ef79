package httpapi

import (
	"context"
	"net/http"
	"net/url"

	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/ims"
)

// The operator's locations and O-Cloud sites under /o2ims/v1: read as
// inventory v2 shows them, written through the inventory service.

func (h *nephoranHandlers) ListLocations(ctx context.Context, req nephapi.ListLocationsRequestObject) (nephapi.ListLocationsResponseObject, error) {
	p := req.Params
	return h.places.list(ctx, locations, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetLocationByID(ctx context.Context, req nephapi.GetLocationByIDRequestObject) (nephapi.GetLocationByIDResponseObject, error) {
	p := req.Params
	return h.places.get(ctx, locations, req.GlobalLocationId, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) CreateLocation(ctx context.Context, req nephapi.CreateLocationRequestObject) (nephapi.CreateLocationResponseObject, error) {
	l, err := locationOf(req.Body, "")
	if err != nil {
		return nil, err
	}
	obj, err := h.inv.PutLocation(ctx, l, true)
	if err != nil {
		return nil, err
	}
	return createdResponse{obj: obj, location: "/o2ims/v1/locations/" + url.PathEscape(l.GlobalLocationID)}, nil
}

func (h *nephoranHandlers) ReplaceLocation(ctx context.Context, req nephapi.ReplaceLocationRequestObject) (nephapi.ReplaceLocationResponseObject, error) {
	l, err := locationOf(req.Body, req.GlobalLocationId)
	if err != nil {
		return nil, err
	}
	obj, err := h.inv.PutLocation(ctx, l, false)
	if err != nil {
		return nil, err
	}
	return objectResponse{obj: obj}, nil
}

func (h *nephoranHandlers) DeleteLocation(ctx context.Context, req nephapi.DeleteLocationRequestObject) (nephapi.DeleteLocationResponseObject, error) {
	if err := h.inv.DeleteLocation(ctx, req.GlobalLocationId); err != nil {
		return nil, err
	}
	return nephapi.DeleteLocation204Response{}, nil
}

func (h *nephoranHandlers) ListOCloudSites(ctx context.Context, req nephapi.ListOCloudSitesRequestObject) (nephapi.ListOCloudSitesResponseObject, error) {
	p := req.Params
	return h.places.list(ctx, sites, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetOCloudSiteByID(ctx context.Context, req nephapi.GetOCloudSiteByIDRequestObject) (nephapi.GetOCloudSiteByIDResponseObject, error) {
	p := req.Params
	return h.places.get(ctx, sites, req.OCloudSiteId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) CreateOCloudSite(ctx context.Context, req nephapi.CreateOCloudSiteRequestObject) (nephapi.CreateOCloudSiteResponseObject, error) {
	site, err := siteOf(req.Body, "")
	if err != nil {
		return nil, err
	}
	obj, err := h.inv.PutSite(ctx, site, true)
	if err != nil {
		return nil, err
	}
	id, _ := obj["oCloudSiteId"].(string)
	return createdResponse{obj: obj, location: "/o2ims/v1/oCloudSites/" + id}, nil
}

func (h *nephoranHandlers) ReplaceOCloudSite(ctx context.Context, req nephapi.ReplaceOCloudSiteRequestObject) (nephapi.ReplaceOCloudSiteResponseObject, error) {
	site, err := siteOf(req.Body, req.OCloudSiteId.String())
	if err != nil {
		return nil, err
	}
	obj, err := h.inv.PutSite(ctx, site, false)
	if err != nil {
		return nil, err
	}
	return objectResponse{obj: obj}, nil
}

func (h *nephoranHandlers) DeleteOCloudSite(ctx context.Context, req nephapi.DeleteOCloudSiteRequestObject) (nephapi.DeleteOCloudSiteResponseObject, error) {
	if err := h.inv.DeleteSite(ctx, req.OCloudSiteId.String()); err != nil {
		return nil, err
	}
	return nephapi.DeleteOCloudSite204Response{}, nil
}

// locationOf reads a location request; pathID, when set, is the path's
// identifier, which the body may repeat but not contradict.
func locationOf(body *nephapi.LocationRequest, pathID string) (ims.Location, error) {
	if body == nil {
		return ims.Location{}, ims.Errorf(ims.EINVALID, "a location body is required")
	}
	l, err := fromValue[ims.Location](body)
	if err != nil {
		return l, err
	}
	if pathID != "" {
		if l.GlobalLocationID != "" && l.GlobalLocationID != pathID {
			return l, ims.Errorf(ims.EINVALID, "globalLocationId: %q in the body is not the path's %q", l.GlobalLocationID, pathID)
		}
		l.GlobalLocationID = pathID
	}
	return l, nil
}

func siteOf(body *nephapi.OCloudSiteRequest, pathID string) (ims.OCloudSite, error) {
	if body == nil {
		return ims.OCloudSite{}, ims.Errorf(ims.EINVALID, "an O-Cloud site body is required")
	}
	s, err := fromValue[ims.OCloudSite](body)
	if err != nil {
		return s, err
	}
	if pathID != "" {
		if s.OCloudSiteID != "" && s.OCloudSiteID != pathID {
			return s, ims.Errorf(ims.EINVALID, "oCloudSiteId: %q in the body is not the path's %q", s.OCloudSiteID, pathID)
		}
		s.OCloudSiteID = pathID
	}
	return s, nil
}

// createdResponse answers a POST that created an object: 201, its URL in
// Location, the object as its GET shows it.
type createdResponse struct {
	obj      map[string]any
	location string
}

func (r createdResponse) write(w http.ResponseWriter) error {
	w.Header().Set("Location", r.location)
	return writeStatus(w, http.StatusCreated, r.obj)
}

func (r createdResponse) VisitCreateLocationResponse(w http.ResponseWriter) error { return r.write(w) }
func (r createdResponse) VisitCreateOCloudSiteResponse(w http.ResponseWriter) error {
	return r.write(w)
}
