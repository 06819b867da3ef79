package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Sources of locations and sites besides the providers: the operator's
// configuration file (replaced at every start) and the admin API.
const (
	SourceConfig = "@config"
	SourceAPI    = sqlstore.SourceAPI
)

// Limits on the places the operator defines.
const (
	maxLocationIDLen = 256
	maxNameLen       = 256
	maxTextLen       = 4096
	maxCivicElements = 64
	maxExtensionSize = 64 << 10
)

// ValidateLocation checks a location as O2ims v11 defines it: an
// identifier, a name, and at least one of coordinate, civicAddress and
// address, each well formed.
func ValidateLocation(l ims.Location) error {
	if err := validID("globalLocationId", l.GlobalLocationID); err != nil {
		return err
	}
	if err := validText("name", l.Name, maxNameLen, true); err != nil {
		return err
	}
	if err := validText("description", l.Description, maxTextLen, false); err != nil {
		return err
	}
	if err := validText("address", l.Address, maxTextLen, false); err != nil {
		return err
	}
	if l.Coordinate == nil && len(l.CivicAddress) == 0 && l.Address == "" {
		return ims.Errorf(ims.EINVALID, "a location needs at least one of coordinate, civicAddress and address")
	}
	if c := l.Coordinate; c != nil {
		if c.Type != "Point" {
			return ims.Errorf(ims.EINVALID, "coordinate.type: must be \"Point\" (a GeoJSON Point), got %q", c.Type)
		}
		if n := len(c.Coordinates); n < 2 || n > 3 {
			return ims.Errorf(ims.EINVALID, "coordinate.coordinates: must be [longitude, latitude] or [longitude, latitude, altitude], got %d numbers", n)
		}
		for _, v := range c.Coordinates {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return ims.Errorf(ims.EINVALID, "coordinate.coordinates: must be finite numbers")
			}
		}
		if lon := c.Coordinates[0]; lon < -180 || lon > 180 {
			return ims.Errorf(ims.EINVALID, "coordinate.coordinates: longitude %v is outside [-180, 180]", lon)
		}
		if lat := c.Coordinates[1]; lat < -90 || lat > 90 {
			return ims.Errorf(ims.EINVALID, "coordinate.coordinates: latitude %v is outside [-90, 90]", lat)
		}
	}
	if len(l.CivicAddress) > maxCivicElements {
		return ims.Errorf(ims.EINVALID, "civicAddress: at most %d elements", maxCivicElements)
	}
	for i, e := range l.CivicAddress {
		if e.CaType < 0 || e.CaType > 255 {
			return ims.Errorf(ims.EINVALID, "civicAddress[%d].caType: must be an RFC 4776 CAtype (0 to 255), got %d", i, e.CaType)
		}
		if err := validText(fmt.Sprintf("civicAddress[%d].caValue", i), e.CaValue, maxTextLen, true); err != nil {
			return err
		}
	}
	return validExtensions(l.Extensions)
}

// ValidateSite checks an O-Cloud site's own attributes; that its location
// exists is checked where it is stored.
func ValidateSite(s ims.OCloudSite) error {
	if _, err := uuid.Parse(s.OCloudSiteID); err != nil {
		return ims.Errorf(ims.EINVALID, "oCloudSiteId: must be a UUID, got %q", s.OCloudSiteID)
	}
	if err := validID("globalLocationId", s.GlobalLocationID); err != nil {
		return err
	}
	if err := validText("name", s.Name, maxNameLen, true); err != nil {
		return err
	}
	if err := validText("description", s.Description, maxTextLen, false); err != nil {
		return err
	}
	return validExtensions(s.Extensions)
}

func validID(field, v string) error {
	if v == "" {
		return ims.Errorf(ims.EINVALID, "%s: required", field)
	}
	if len(v) > maxLocationIDLen {
		return ims.Errorf(ims.EINVALID, "%s: longer than %d characters", field, maxLocationIDLen)
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == '/' }) {
		return ims.Errorf(ims.EINVALID, "%s: must be printable text without '/'", field)
	}
	return nil
}

func validText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return ims.Errorf(ims.EINVALID, "%s: required", field)
	}
	if len(v) > max {
		return ims.Errorf(ims.EINVALID, "%s: longer than %d characters", field, max)
	}
	if !utf8.ValidString(v) {
		return ims.Errorf(ims.EINVALID, "%s: not valid UTF-8", field)
	}
	return nil
}

func validExtensions(ext ims.Extensions) error {
	b, err := json.Marshal(ext)
	if err != nil {
		return ims.Errorf(ims.EINVALID, "extensions: must be a JSON object")
	}
	if len(b) > maxExtensionSize {
		return ims.Errorf(ims.EINVALID, "extensions: larger than %d bytes", maxExtensionSize)
	}
	return nil
}

// PlacesChanged is told when the operator changed a location or site, so
// that the pools in them show it (v1 derives a pool's location from its
// site).
type PlacesChanged func()

// SetPlacesChanged sets the function told of the operator's changes to
// locations and sites.
func (s *Service) SetPlacesChanged(fn PlacesChanged) { s.placesChanged = fn }

// PutLocation creates (create) or replaces a location the operator owns
// and returns it as v2 shows it. Locations a provider or the
// configuration file defines are not the API's to change.
func (s *Service) PutLocation(ctx context.Context, l ims.Location, create bool) (map[string]any, error) {
	if err := ValidateLocation(l); err != nil {
		return nil, err
	}
	err := s.put(ctx, LocationSchema, l.GlobalLocationID, l, create, nil)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, LocationSchema, l.GlobalLocationID)
}

// PutSite creates (create) or replaces an O-Cloud site the operator owns;
// its location must exist. A site created without an id gets one.
func (s *Service) PutSite(ctx context.Context, site ims.OCloudSite, create bool) (map[string]any, error) {
	if create && site.OCloudSiteID == "" {
		site.OCloudSiteID = uuid.NewString()
	}
	if err := ValidateSite(site); err != nil {
		return nil, err
	}
	err := s.put(ctx, OCloudSiteSchema, site.OCloudSiteID, site, create, func(tx *sqlstore.ObjectTx) error {
		if _, err := tx.Get(ctx, LocationSchema, site.GlobalLocationID); ims.ErrorCode(err) == ims.ENOTFOUND {
			return ims.Errorf(ims.EINVALID, "globalLocationId: no location %q exists; create it first", site.GlobalLocationID)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, OCloudSiteSchema, site.OCloudSiteID)
}

func (s *Service) put(ctx context.Context, sc *query.Schema, id string, v any, create bool, check func(*sqlstore.ObjectTx) error) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return ims.Internal(err, "storing failed")
	}
	err = s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		src, err := tx.Source(ctx, sc, id)
		switch {
		case ims.ErrorCode(err) == ims.ENOTFOUND:
			if !create {
				return err
			}
		case err != nil:
			return err
		case create:
			return ims.Errorf(ims.ECONFLICT, "%s %q exists already", sc.Object, id)
		case src != SourceAPI:
			return ims.Errorf(ims.ECONFLICT, "%s %q is defined by %s, not through this API", sc.Object, id, sourceName(src))
		}
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		return tx.Put(ctx, sc, id, doc)
	})
	if err == nil && s.placesChanged != nil {
		s.placesChanged()
	}
	return err
}

// DeleteLocation deletes a location the operator owns; one that sites are
// in is refused.
func (s *Service) DeleteLocation(ctx context.Context, id string) error {
	return s.remove(ctx, LocationSchema, id, "SELECT COUNT(*) FROM ocloud_sites WHERE global_location_id = ?", "O-Cloud sites are at location %q; move or delete them first")
}

// DeleteSite deletes a site the operator owns; one that pools are in is
// refused.
func (s *Service) DeleteSite(ctx context.Context, id string) error {
	return s.remove(ctx, OCloudSiteSchema, id, "SELECT COUNT(*) FROM resource_pools WHERE ocloud_site_id = ?", "resource pools are in O-Cloud site %q; it cannot be deleted while they are")
}

func (s *Service) remove(ctx context.Context, sc *query.Schema, id, inUse, inUseMsg string) error {
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		src, err := tx.Source(ctx, sc, id)
		if err != nil {
			return err
		}
		if src != SourceAPI {
			return ims.Errorf(ims.ECONFLICT, "%s %q is defined by %s, not through this API", sc.Object, id, sourceName(src))
		}
		n, err := tx.Count(ctx, inUse, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return ims.Errorf(ims.ECONFLICT, inUseMsg, id)
		}
		return tx.Delete(ctx, sc, id)
	})
	if err == nil && s.placesChanged != nil {
		s.placesChanged()
	}
	return err
}

func sourceName(src string) string {
	switch src {
	case SourceConfig:
		return "the configuration file"
	case builtinSource:
		return "the server's own configuration (--global-location-id, --location)"
	}
	return "provider " + src
}
