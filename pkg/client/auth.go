package o2

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// AuthType names an authentication method of AuthConfig.
type AuthType string

// The authentication methods a Client supports.
const (
	// AuthNone sends no credentials; the empty AuthType means the same.
	AuthNone AuthType = "none"
	// AuthBearer sends AuthConfig.Token as a bearer token.
	AuthBearer AuthType = "bearer"
	// AuthOAuth2 obtains bearer tokens with the OAuth 2.0 client
	// credentials grant described by AuthConfig.OAuth2.
	AuthOAuth2 AuthType = "oauth2"
)

// The OAuth 2.0 scopes the O2 IMS defines.
const (
	// ScopeRead allows reading the inventory and the monitoring data.
	ScopeRead = "o2ims:read"
	// ScopeWrite allows creating, changing and deleting subscriptions and
	// acknowledging alarms.
	ScopeWrite = "o2ims:write"
)

// AuthConfig selects how a Client authenticates its requests.
type AuthConfig struct {
	// Type is the method: AuthNone (or empty), AuthBearer or AuthOAuth2.
	Type AuthType
	// Token is the bearer token sent when Type is AuthBearer.
	Token string
	// OAuth2 configures the client credentials grant when Type is
	// AuthOAuth2.
	OAuth2 *OAuth2Config
}

// OAuth2Config describes an OAuth 2.0 client credentials grant (RFC 6749
// section 4.4). The access token is requested on first use, cached, and
// requested again shortly before it expires.
type OAuth2Config struct {
	// TokenURL is the token endpoint of the authorization server.
	TokenURL string
	// ClientID identifies the client at the authorization server.
	ClientID string
	// ClientSecret authenticates the client at the authorization server.
	ClientSecret string
	// Scopes are requested with each token, such as ScopeRead.
	Scopes []string
	// EndpointParams are additional form parameters of the token request,
	// such as "audience".
	EndpointParams url.Values
}

// TLSConfig configures TLS for https endpoints.
type TLSConfig struct {
	// CAFile is a PEM file of certificate authorities trusted in addition
	// to the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key,
	// presented when the server asks for one; both or neither are set.
	CertFile string
	// KeyFile is the PEM private key of CertFile.
	KeyFile string
	// InsecureSkipVerify disables verification of the server certificate.
	// It is meant for tests only: it makes the connection open to
	// interception.
	InsecureSkipVerify bool
	// ServerName overrides the host name the server certificate is
	// verified against.
	ServerName string
}

// newHTTPClient returns the HTTP client a Client sends with: a transport
// built from cfg.TLS (or cfg.HTTPClient's), wrapped to authenticate the
// requests to the endpoint's origin.
func newHTTPClient(cfg *Config, ep *url.URL) (*http.Client, error) {
	var base http.RoundTripper
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
		base = hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
	} else {
		tc, err := buildTLS(cfg.TLS)
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tc
		base = t
	}
	switch {
	case cfg.Timeout > 0:
		hc.Timeout = cfg.Timeout
	case cfg.Timeout == 0 && cfg.HTTPClient == nil:
		hc.Timeout = DefaultTimeout
	case cfg.Timeout < 0:
		hc.Timeout = 0
	}
	authed, err := authTransport(cfg.Authentication, base, hc.Timeout)
	if err != nil {
		return nil, err
	}
	hc.Transport = &originScoped{origin: origin(ep), authed: authed, plain: base}
	return hc, nil
}

// authTransport returns base wrapped to add the credentials of a.
func authTransport(a *AuthConfig, base http.RoundTripper, timeout time.Duration) (http.RoundTripper, error) {
	if a == nil {
		return base, nil
	}
	switch a.Type {
	case "", AuthNone:
		return base, nil
	case AuthBearer:
		if a.Token == "" {
			return nil, errors.New("o2: bearer authentication needs AuthConfig.Token")
		}
		return &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: a.Token, TokenType: "Bearer"}), Base: base}, nil
	case AuthOAuth2:
		o := a.OAuth2
		if o == nil || o.TokenURL == "" || o.ClientID == "" {
			return nil, errors.New("o2: oauth2 authentication needs OAuth2.TokenURL and OAuth2.ClientID")
		}
		if _, err := url.ParseRequestURI(o.TokenURL); err != nil {
			return nil, fmt.Errorf("o2: invalid OAuth2.TokenURL: %w", err)
		}
		cc := &clientcredentials.Config{
			ClientID:       o.ClientID,
			ClientSecret:   o.ClientSecret,
			TokenURL:       o.TokenURL,
			Scopes:         append([]string(nil), o.Scopes...),
			EndpointParams: cloneValues(o.EndpointParams),
		}
		// The token source outlives any one call, so it gets its own
		// context; it carries the HTTP client used for token requests.
		tokenHTTP := &http.Client{Transport: base, Timeout: timeout}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenHTTP)
		// TokenSource caches the token and fetches a new one when the
		// cached one is about to expire.
		return &oauth2.Transport{Source: cc.TokenSource(ctx), Base: base}, nil
	default:
		return nil, fmt.Errorf("o2: unknown authentication type %q (want %q, %q or %q)", a.Type, AuthNone, AuthBearer, AuthOAuth2)
	}
}

// originScoped sends requests to one origin (scheme and host) through an
// authenticating transport and every other request, such as a redirect to
// another host, without credentials.
type originScoped struct {
	origin string
	authed http.RoundTripper
	plain  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (o *originScoped) RoundTrip(r *http.Request) (*http.Response, error) {
	if origin(r.URL) == o.origin {
		return o.authed.RoundTrip(r)
	}
	return o.plain.RoundTrip(r)
}

// origin returns the scheme and host of u, in lower case.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// buildTLS returns the TLS configuration described by t, or nil for the
// transport's default when t is nil.
func buildTLS(t *TLSConfig) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // documented as test-only, opt-in
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("o2: reading TLS CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("o2: TLS CA file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("o2: TLS CertFile and KeyFile must be set together")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("o2: loading TLS client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// cloneValues returns a deep copy of v, or nil.
func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
