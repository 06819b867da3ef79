package o2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// The API roots the services of this package address, relative to
// Config.Endpoint.
const (
	// InventoryAPIPrefix is the root of the O2ims_InfrastructureInventory
	// API, version 1.
	InventoryAPIPrefix = "/o2ims-infrastructureInventory/v1"
	// InventoryV2APIPrefix is the root of the O2ims_InfrastructureInventory
	// API, version 2 (O2ims v11: locations, O-Cloud sites, pools in sites).
	InventoryV2APIPrefix = "/o2ims-infrastructureInventory/v2"
	// MonitoringAPIPrefix is the root of the
	// O2ims_InfrastructureMonitoring API, version 1: alarms, alarm
	// subscriptions, the alarm service configuration and probable causes.
	MonitoringAPIPrefix = "/o2ims-infrastructureMonitoring/v1"
	// NephoranAPIPrefix is the root of the Nephoran extensions, version 1.
	NephoranAPIPrefix = "/o2ims/v1"
)

// Defaults applied by NewClient to the zero values of Config.
const (
	// DefaultTimeout bounds each HTTP attempt when Config.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxRetries is the number of retries when Config.MaxRetries is
	// zero.
	DefaultMaxRetries = 3
)

// modulePath is the import path of this package's module, used to find the
// module version for the default User-Agent.
const modulePath = "github.com/nephoran/o2ims"

// Config describes how a Client reaches an O2 IMS. Only Endpoint is
// required; NewClient does not retain the Config, so it may be reused.
type Config struct {
	// Endpoint is the base URL of the IMS, such as
	// "https://ims.example.net" or "http://127.0.0.1:8080". It may carry a
	// path prefix when the IMS is served behind a gateway.
	Endpoint string
	// Authentication selects how requests are authenticated; nil means no
	// authentication.
	Authentication *AuthConfig
	// TLS configures server verification and client certificates for
	// https endpoints and the OAuth 2.0 token endpoint. It is ignored when
	// HTTPClient is set.
	TLS *TLSConfig
	// Timeout bounds each HTTP attempt, including reading the body; zero
	// selects DefaultTimeout and a negative value disables the bound. The
	// context passed to each method bounds the whole call, retries
	// included.
	Timeout time.Duration
	// MaxRetries is the number of times an idempotent request is retried
	// after a connection error or a 429 or 503 answer; zero selects
	// DefaultMaxRetries and a negative value disables retries.
	MaxRetries int
	// HTTPClient, when set, is used instead of a client built from TLS. Its
	// transport is wrapped to add authentication; Timeout, when non-zero,
	// overrides its own timeout.
	HTTPClient *http.Client
	// UserAgent is sent in the User-Agent header; empty selects
	// "o2ims-go-client/<module version>".
	UserAgent string
	// InventoryVersion is the major version of the
	// O2ims_InfrastructureInventory API the inventory services address:
	// 1 (the default when zero) or 2. Version 2 fills ResourcePool's
	// OCloudSiteID and ResourceType's AlarmDictionaryID where version 1
	// fills OCloudID, GlobalLocationID, Location and ParentID. Locations
	// and OCloudSites exist in version 2 only and always address it.
	InventoryVersion int
}

// Client is a connection to one O2 IMS. It is safe for concurrent use by
// multiple goroutines; create it once with NewClient and reuse it.
type Client struct {
	endpoint  *url.URL
	inventory string // the inventory API's root
	http      *http.Client
	userAgent string
	retry     retryPolicy
	poll      pollPolicy
}

// NewClient validates cfg and returns a Client for cfg.Endpoint. It makes
// no request; an unreachable endpoint or a wrong credential surfaces on the
// first call.
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("o2: nil Config")
	}
	ep, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(cfg, ep)
	if err != nil {
		return nil, err
	}
	inventory := InventoryAPIPrefix
	switch cfg.InventoryVersion {
	case 0, 1:
	case 2:
		inventory = InventoryV2APIPrefix
	default:
		return nil, fmt.Errorf("o2: InventoryVersion %d: the inventory API has versions 1 and 2", cfg.InventoryVersion)
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "o2ims-go-client/" + moduleVersion()
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	return &Client{
		endpoint:  ep,
		inventory: inventory,
		http:      hc,
		userAgent: ua,
		retry:     newRetryPolicy(retries),
		poll:      defaultPollPolicy(),
	}, nil
}

// Endpoint returns the base URL the client addresses.
func (c *Client) Endpoint() string {
	return c.endpoint.String()
}

// CloudInfo returns the description of the O-Cloud the IMS manages.
func (c *Client) CloudInfo(ctx context.Context) (*CloudInfo, error) {
	var info CloudInfo
	if err := c.getJSON(ctx, c.resolve(c.inventory), &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// APIVersions returns the versions of the O2ims_InfrastructureInventory API
// the IMS supports, every major version of it (1.x and 2.x).
func (c *Client) APIVersions(ctx context.Context) (*APIVersions, error) {
	var v APIVersions
	u := c.resolve(strings.TrimSuffix(InventoryAPIPrefix, "/v1"), "api_versions")
	if err := c.getJSON(ctx, u, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// parseEndpoint checks that raw is an absolute http or https URL and
// returns it without query, fragment or trailing slash.
func parseEndpoint(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("o2: Config.Endpoint is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("o2: invalid endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("o2: endpoint %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("o2: endpoint %q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("o2: endpoint %q: credentials belong in Config.Authentication, not in the URL", u.Redacted())
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// resolve returns the URL of a path below the endpoint. prefix is an
// API root written with its slashes (such as InventoryAPIPrefix); each of
// segments is one path segment and is escaped.
func (c *Client) resolve(prefix string, segments ...string) *url.URL {
	u := *c.endpoint
	u.RawPath = c.endpoint.EscapedPath() + prefix
	u.Path = c.endpoint.Path + prefix
	return appendPath(&u, segments...)
}

// moduleVersion returns the version of this module in the running binary,
// or "devel" when it is unknown.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			return d.Version
		}
	}
	return "devel"
}
