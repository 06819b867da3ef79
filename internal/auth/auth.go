// Package auth authenticates O2 IMS API requests carrying OAuth 2.0 bearer
// access tokens in JWT form (RFC 6750, RFC 9068) issued by an OpenID Connect
// provider, and authorizes them by permission.
//
// Tokens are verified against the issuer's JSON Web Key Set, found by OIDC
// discovery or configured directly. Only asymmetric algorithms from an
// allow-list are accepted, so "alg":"none" and HMAC tokens forged with a
// public key as the secret are refused before any key is used. Certificate
// bound tokens (RFC 8705) are checked against the TLS client certificate.
//
// Every failure is an *ims.Error: EUNAUTHENTICATED for a missing or rejected
// token, EFORBIDDEN for a token lacking a permission. Messages never repeat
// any part of a token. ChallengeHeader gives the matching WWW-Authenticate
// value.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Defaults for Options fields left zero.
const (
	// DefaultClockSkew is the tolerance on exp, nbf and iat: enough for
	// ordinary NTP drift between issuer and server, short enough not to
	// matter for token lifetimes of minutes.
	DefaultClockSkew = 30 * time.Second
	// DefaultJWKSMinRefreshInterval spaces JWKS fetches caused by unknown
	// key IDs: short enough that a key rotated in is picked up promptly,
	// long enough that forged kids cannot hammer the issuer.
	DefaultJWKSMinRefreshInterval = 10 * time.Second
)

// DefaultAlgorithms are the signature algorithms accepted when
// Options.Algorithms is empty.
var DefaultAlgorithms = []string{"RS256", "ES256"}

// maxTokenBytes bounds the token parsed per request; real access tokens are a
// few kilobytes even with many groups, and parsing is work an attacker could
// otherwise inflate.
const maxTokenBytes = 16 << 10

// allowedAlgorithms is every algorithm Options.Algorithms may name: the
// asymmetric JWS algorithms. HMAC and "none" are absent on purpose; with a
// public key set, an HMAC "key" is public knowledge.
var allowedAlgorithms = map[string]jose.SignatureAlgorithm{
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "PS384": jose.PS384, "PS512": jose.PS512,
	"ES256": jose.ES256, "ES384": jose.ES384, "ES512": jose.ES512,
	"EdDSA": jose.EdDSA,
}

// Options configures an Authenticator.
type Options struct {
	// IssuerURL is the OIDC issuer; its discovery document at
	// IssuerURL/.well-known/openid-configuration gives the JWKS URL, and its
	// "issuer" must equal IssuerURL exactly (OpenID Connect Discovery 4.3).
	// Exactly one of IssuerURL and JWKSURL must be set.
	IssuerURL string
	// JWKSURL is the issuer's JWKS, used without discovery.
	JWKSURL string
	// Issuer is the expected "iss" claim in JWKSURL mode. When it is empty
	// the issuer is not checked, which is only safe if the JWKS belongs to a
	// single issuer; New logs a warning. With IssuerURL it must be empty or
	// equal to IssuerURL.
	Issuer string
	// Audience is the required "aud" value (string or array claim). Required,
	// because without it a token minted for any other service of the same
	// issuer would be accepted here.
	Audience string
	// Algorithms is the allow-list of JWS algorithms, DefaultAlgorithms when
	// empty. "none" and the HS* algorithms are rejected.
	Algorithms []string
	// ClockSkew is the tolerance applied to exp, nbf and iat,
	// DefaultClockSkew when zero.
	ClockSkew time.Duration
	// RoleClaims are dotted paths to claims holding role or group names, such
	// as "realm_access.roles", "groups" or "resource_access.o2ims.roles". A
	// claim may be a string or an array of strings.
	RoleClaims []string
	// RoleMapping maps a role or group name to the permissions it grants.
	// Scopes named like a permission ("o2ims:read") grant it without mapping.
	RoleMapping map[string][]Permission
	// JWKSMinRefreshInterval is the least time between two JWKS fetches that
	// tokens with unknown key IDs trigger, DefaultJWKSMinRefreshInterval when
	// zero. It keeps made-up key IDs from turning into load on the issuer.
	JWKSMinRefreshInterval time.Duration
	// HTTPClient fetches discovery and JWKS documents; a client with a
	// 10-second timeout when nil.
	HTTPClient *http.Client
	// RequireCertificateBinding makes every token need a cnf "x5t#S256"
	// confirmation matching the TLS client certificate (RFC 8705). Tokens
	// that carry the confirmation are checked even when this is false, as
	// RFC 8705 section 3 requires.
	RequireCertificateBinding bool
}

// Authenticator verifies bearer tokens. It is safe for concurrent use.
type Authenticator struct {
	issuer         string
	audience       string
	algorithms     []jose.SignatureAlgorithm
	skew           time.Duration
	roleClaims     [][]string
	roleMapping    map[string][]Permission
	requireBinding bool
	keys           *keySet
	logger         *slog.Logger
	now            func() time.Time
}

// New validates opts, runs OIDC discovery when IssuerURL is set and fetches
// the key set once, so that a misconfigured or unreachable issuer stops
// startup with a clear error rather than failing every request later.
func New(ctx context.Context, opts Options, logger *slog.Logger) (*Authenticator, error) {
	return newAuthenticator(ctx, opts, logger, time.Now)
}

// newAuthenticator is New with a clock, so tests can step over the refresh
// interval without sleeping.
func newAuthenticator(ctx context.Context, opts Options, logger *slog.Logger, now func() time.Time) (*Authenticator, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{
		audience:       opts.Audience,
		skew:           opts.ClockSkew,
		requireBinding: opts.RequireCertificateBinding,
		logger:         logger,
		now:            now,
	}
	if err := a.configure(opts); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}

	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	jwksURL := opts.JWKSURL
	if opts.IssuerURL != "" {
		var err error
		jwksURL, err = discover(ctx, client, opts.IssuerURL)
		if err != nil {
			return nil, fmt.Errorf("auth: OIDC discovery for issuer %s: %w", opts.IssuerURL, err)
		}
	}
	minRefresh := opts.JWKSMinRefreshInterval
	if minRefresh == 0 {
		minRefresh = DefaultJWKSMinRefreshInterval
	}
	a.keys = &keySet{url: jwksURL, client: client, logger: logger, now: now, minRefresh: minRefresh}
	if err := a.keys.load(ctx); err != nil {
		return nil, fmt.Errorf("auth: load JWKS %s: %w", jwksURL, err)
	}
	if a.issuer == "" {
		logger.LogAttrs(ctx, slog.LevelWarn, "auth: no issuer configured, tokens' iss claim is not checked",
			slog.String("jwks_url", jwksURL))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "auth: bearer token verification ready",
		slog.String("issuer", a.issuer), slog.String("jwks_url", jwksURL), slog.String("audience", a.audience))
	return a, nil
}

// configure validates the options that need no network.
func (a *Authenticator) configure(opts Options) error {
	switch {
	case opts.IssuerURL != "" && opts.JWKSURL != "":
		return errors.New("set either IssuerURL (discovery) or JWKSURL, not both")
	case opts.IssuerURL != "":
		if err := checkFetchURL(opts.IssuerURL); err != nil {
			return fmt.Errorf("IssuerURL: %w", err)
		}
		if opts.Issuer != "" && opts.Issuer != opts.IssuerURL {
			return errors.New("Issuer must be empty or equal to IssuerURL")
		}
		a.issuer = opts.IssuerURL
	case opts.JWKSURL != "":
		if err := checkFetchURL(opts.JWKSURL); err != nil {
			return fmt.Errorf("JWKSURL: %w", err)
		}
		a.issuer = opts.Issuer
	default:
		return errors.New("IssuerURL or JWKSURL is required")
	}
	if opts.Audience == "" {
		return errors.New("Audience is required")
	}
	if a.skew == 0 {
		a.skew = DefaultClockSkew
	}
	if a.skew < 0 {
		return errors.New("ClockSkew must not be negative")
	}
	if opts.JWKSMinRefreshInterval < 0 {
		return errors.New("JWKSMinRefreshInterval must not be negative")
	}

	names := opts.Algorithms
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	for _, name := range names {
		alg, ok := allowedAlgorithms[name]
		if !ok {
			return fmt.Errorf("algorithm %q is not allowed: use asymmetric algorithms such as RS256 or ES256 (never none or HS*)", name)
		}
		if !slices.Contains(a.algorithms, alg) {
			a.algorithms = append(a.algorithms, alg)
		}
	}

	for _, path := range opts.RoleClaims {
		parts := strings.Split(path, ".")
		if slices.Contains(parts, "") {
			return fmt.Errorf("role claim path %q has an empty segment", path)
		}
		a.roleClaims = append(a.roleClaims, parts)
	}
	a.roleMapping = make(map[string][]Permission, len(opts.RoleMapping))
	for role, perms := range opts.RoleMapping {
		for _, p := range perms {
			if !knownPermissions[p] {
				return fmt.Errorf("role %q maps to unknown permission %q", role, p)
			}
		}
		a.roleMapping[role] = slices.Clone(perms)
	}
	if len(a.roleMapping) > 0 && len(a.roleClaims) == 0 {
		return errors.New("RoleMapping is set but RoleClaims names no claim to read roles from")
	}
	return nil
}

// checkFetchURL insists on HTTPS for anything keys are fetched from, since a
// tampered JWKS is a forged-token licence. Plain HTTP is allowed only to a
// loopback host, for local development issuers.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return errors.New("must be an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("must use https (http only for loopback hosts)")
	}
	return errors.New("must use https")
}

// discover reads the OIDC discovery document and returns its jwks_uri.
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := getDocument(ctx, client, wellKnown)
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("decode %s: %w", wellKnown, err)
	}
	// An issuer mismatch means either a misconfiguration or a discovery
	// document impersonating another issuer; both must stop startup.
	if doc.Issuer != issuer {
		return "", fmt.Errorf("discovery document names issuer %q, want %q", doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return "", errors.New("discovery document has no jwks_uri")
	}
	if err := checkFetchURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("jwks_uri %q: %w", doc.JWKSURI, err)
	}
	return doc.JWKSURI, nil
}

// Authenticate verifies the bearer token of r and returns its principal. It
// returns an EUNAUTHENTICATED *ims.Error when the token is missing,
// malformed, signed with a disallowed algorithm or an unknown or wrong key,
// expired, not yet valid, issued for another issuer or audience, or bound to
// a different client certificate. Permissions are not checked here; see
// Require.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	p, err := a.authenticate(r)
	if err != nil {
		var f *failure
		if errors.As(err, &f) && f.kind != kindMissing {
			a.logger.LogAttrs(r.Context(), slog.LevelDebug, "bearer token rejected", slog.Any("err", err))
		}
		return nil, err
	}
	return p, nil
}

func (a *Authenticator) authenticate(r *http.Request) (*Principal, error) {
	raw, err := bearerToken(r.Header)
	if err != nil {
		return nil, err
	}
	tok, err := jwt.ParseSigned(raw, a.algorithms)
	if err != nil {
		// Covers malformed input and every algorithm off the allow-list,
		// "none" and HS256 included.
		return nil, invalidToken(msgInvalid, "malformed token or disallowed algorithm", err)
	}
	if len(tok.Headers) != 1 {
		return nil, invalidToken(msgInvalid, "token must carry exactly one signature", nil)
	}
	header := tok.Headers[0]

	key, err := a.keys.key(r.Context(), header.KeyID, header.Algorithm)
	if err != nil {
		return nil, invalidToken(msgInvalid, "unknown signing key", err)
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(key, &std, &all); err != nil {
		return nil, invalidToken(msgInvalid, "signature verification failed", err)
	}

	if std.Expiry == nil {
		// A token without exp would be valid forever.
		return nil, invalidToken(msgInvalid, "token has no expiry", nil)
	}
	expected := jwt.Expected{Issuer: a.issuer, AnyAudience: jwt.Audience{a.audience}, Time: a.now()}
	if err := std.ValidateWithLeeway(expected, a.skew); err != nil {
		switch {
		case errors.Is(err, jwt.ErrExpired):
			return nil, invalidToken(msgExpired, "token expired", err)
		case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
			return nil, invalidToken(msgNotYet, "token not valid yet", err)
		case errors.Is(err, jwt.ErrInvalidIssuer):
			return nil, invalidToken(msgInvalid, "wrong issuer", err)
		case errors.Is(err, jwt.ErrInvalidAudience):
			return nil, invalidToken(msgInvalid, "wrong audience", err)
		default:
			return nil, invalidToken(msgInvalid, "invalid claims", err)
		}
	}
	if std.Subject == "" {
		// Audit logs and per-client rate limits key on the subject.
		return nil, invalidToken(msgInvalid, "token has no subject", nil)
	}
	if err := a.checkBinding(r, all); err != nil {
		return nil, err
	}

	return &Principal{
		Subject:     std.Subject,
		ClientID:    clientID(all),
		Permissions: a.permissions(all),
	}, nil
}

// bearerToken extracts the token of an "Authorization: Bearer" header. Other
// schemes count as no token, so the client gets the plain Bearer challenge.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) == 0 {
		return "", missingToken()
	}
	if len(values) > 1 {
		return "", invalidToken(msgInvalid, "more than one Authorization header", nil)
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", missingToken()
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", invalidToken(msgInvalid, "empty bearer token", nil)
	}
	if len(token) > maxTokenBytes {
		return "", invalidToken(msgInvalid, "token too large", nil)
	}
	// A compact JWS is three base64url segments; anything else (spaces,
	// quotes, control bytes) is rejected before the parser sees it.
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", invalidToken(msgInvalid, "malformed token", nil)
		}
	}
	return token, nil
}

// checkBinding enforces RFC 8705 certificate binding: the token's
// cnf["x5t#S256"] must be the base64url SHA-256 thumbprint of the DER client
// certificate of this TLS connection, so a stolen token is useless without
// the client's private key.
func (a *Authenticator) checkBinding(r *http.Request, claims map[string]any) error {
	var want string
	var bound bool
	if cnf, ok := claims["cnf"].(map[string]any); ok {
		if v, present := cnf["x5t#S256"]; present {
			bound = true
			want, _ = v.(string)
		}
	}
	if !bound {
		if a.requireBinding {
			return invalidToken(msgMismatch, "token is not certificate-bound", nil)
		}
		return nil
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return invalidToken(msgMismatch, "certificate-bound token without client certificate", nil)
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return invalidToken(msgMismatch, "client certificate does not match token binding", nil)
	}
	return nil
}

// permissions collects what the token grants: scopes named like a
// permission, and permissions mapped from the roles found at RoleClaims.
func (a *Authenticator) permissions(claims map[string]any) map[Permission]bool {
	perms := make(map[Permission]bool)
	for _, s := range scopes(claims) {
		if p := Permission(s); knownPermissions[p] {
			perms[p] = true
		}
	}
	for _, path := range a.roleClaims {
		for _, role := range stringsAt(claims, path) {
			for _, p := range a.roleMapping[role] {
				perms[p] = true
			}
		}
	}
	return perms
}

// scopes returns the token's scopes from "scope" (a space-separated string,
// RFC 8693/9068) and "scp" (a string or an array, as some issuers emit).
func scopes(claims map[string]any) []string {
	var out []string
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			out = append(out, strings.Fields(v)...)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// stringsAt follows path through nested objects and returns the string or
// strings found there; anything else yields nothing.
func stringsAt(claims map[string]any, path []string) []string {
	var cur any = claims
	for _, part := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	switch v := cur.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func clientID(claims map[string]any) string {
	if s, ok := claims["client_id"].(string); ok && s != "" {
		return s
	}
	s, _ := claims["azp"].(string)
	return s
}
