package o2

import (
	"context"
	"iter"
)

// Location is a place where O-Cloud sites are (O2ims v11 LocationInfo).
type Location struct {
	// GlobalLocationID identifies the location; the SMO or the operator
	// assigns it.
	GlobalLocationID string `json:"globalLocationId"`
	// Name is the location's name.
	Name string `json:"name"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// OCloudSiteIDs are the sites at the location (read-only, derived).
	OCloudSiteIDs []string `json:"oCloudSiteIds,omitempty"`
	// Coordinate is a GeoJSON Point.
	Coordinate *GeoPoint `json:"coordinate,omitempty"`
	// CivicAddress is an RFC 4776 civic address.
	CivicAddress []CivicAddressElement `json:"civicAddress,omitempty"`
	// Address is a free-form address.
	Address string `json:"address,omitempty"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// GeoPoint is a GeoJSON Point: longitude, latitude and optionally altitude.
type GeoPoint struct {
	Type        string    `json:"type"`
	Coordinates []float64 `json:"coordinates"`
}

// NewGeoPoint returns the Point at longitude lon and latitude lat.
func NewGeoPoint(lon, lat float64) *GeoPoint {
	return &GeoPoint{Type: "Point", Coordinates: []float64{lon, lat}}
}

// CivicAddressElement is one element of a civic address: an RFC 4776
// CAtype and its value.
type CivicAddressElement struct {
	CaType  int    `json:"caType"`
	CaValue string `json:"caValue"`
}

// OCloudSite is a site of the O-Cloud at a location (O2ims v11
// OCloudSiteInfo).
type OCloudSite struct {
	// OCloudSiteID identifies the site.
	OCloudSiteID string `json:"oCloudSiteId,omitempty"`
	// GlobalLocationID is the location the site is at.
	GlobalLocationID string `json:"globalLocationId"`
	// Name is the site's name.
	Name string `json:"name"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// ResourcePools are the pools in the site (read-only, derived).
	ResourcePools []string `json:"resourcePools,omitempty"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// PlaceService reads the places of inventory v2, locations or O-Cloud
// sites, and defines the operator's own under NephoranAPIPrefix. Get one
// with Client.Locations or Client.OCloudSites.
type PlaceService[T Location | OCloudSite] struct {
	read, admin collection[T]
}

// LocationService reads and defines locations.
type LocationService = PlaceService[Location]

// OCloudSiteService reads and defines O-Cloud sites.
type OCloudSiteService = PlaceService[OCloudSite]

// Locations returns the service for the O-Cloud's locations.
func (c *Client) Locations() *LocationService {
	return newPlaceService[Location](c, "location", "locations")
}

// OCloudSites returns the service for the O-Cloud's sites.
func (c *Client) OCloudSites() *OCloudSiteService {
	return newPlaceService[OCloudSite](c, "O-Cloud site", "oCloudSites")
}

func newPlaceService[T Location | OCloudSite](c *Client, what, segment string) *PlaceService[T] {
	return &PlaceService[T]{
		read:  newCollection[T](c, what, InventoryV2APIPrefix, segment),
		admin: newCollection[T](c, what, NephoranAPIPrefix, segment),
	}
}

// List returns the page of places opts select.
func (s *PlaceService[T]) List(ctx context.Context, opts ListOptions) (*Page[T], error) {
	return s.read.list(ctx, opts)
}

// All iterates over every place opts select.
func (s *PlaceService[T]) All(ctx context.Context, opts ListOptions) iter.Seq2[T, error] {
	return s.read.all(ctx, opts)
}

// Get returns the place with identifier id.
func (s *PlaceService[T]) Get(ctx context.Context, id string) (*T, error) {
	return s.read.get(ctx, id)
}

// Create defines a place: a location, or a site at an existing location
// (without an OCloudSiteID the server assigns one). The derived lists
// (OCloudSiteIDs, ResourcePools) are not sent.
func (s *PlaceService[T]) Create(ctx context.Context, p T) (*T, error) {
	_, body := placeOf(p)
	return s.admin.create(ctx, body)
}

// Replace replaces a place defined through the API.
func (s *PlaceService[T]) Replace(ctx context.Context, p T) (*T, error) {
	id, body := placeOf(p)
	return s.admin.replace(ctx, id, body)
}

// Delete deletes a place defined through the API; a location that sites
// are at, or a site that pools are in, is refused.
func (s *PlaceService[T]) Delete(ctx context.Context, id string) error {
	return s.admin.delete(ctx, id)
}

// placeOf returns a place's identifier and its body without the derived
// lists.
func placeOf[T Location | OCloudSite](p T) (string, any) {
	switch v := any(p).(type) {
	case Location:
		v.OCloudSiteIDs = nil
		return v.GlobalLocationID, v
	case OCloudSite:
		v.ResourcePools = nil
		return v.OCloudSiteID, v
	}
	return "", p // the type set has no other member
}
