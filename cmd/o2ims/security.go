package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/nephoran/o2ims/internal/auth"
	"github.com/nephoran/o2ims/internal/ratelimit"
	"github.com/nephoran/o2ims/internal/tlsconfig"
)

// securityFlags are the serve flags for authentication, TLS, limits and
// outgoing notification credentials.
type securityFlags struct {
	oidcIssuerURL, oidcJWKSURL, oidcIssuer, oidcAudience, oidcCAFile string
	oidcRoleClaims, oidcRoleMapping                                  string
	oidcRequireCertBinding                                           bool
	insecureAllowUnauthenticated                                     bool
	publicPaths                                                      string
	tlsCert, tlsKey, tlsClientCA                                     string
	tlsRequireClientCert                                             bool
	rateLimit                                                        float64
	rateBurst                                                        int
	maxBodyBytes                                                     int64
	notifyTokenURL, notifyClientID, notifyClientSecret, notifyScopes string
	notifyCert, notifyKey, notifyCA                                  string
}

func (f *securityFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.oidcIssuerURL, "oidc-issuer-url", "", "OIDC issuer; its discovery document names the JWKS (enables authentication)")
	fs.StringVar(&f.oidcJWKSURL, "oidc-jwks-url", "", "JWKS URL, instead of discovery (enables authentication)")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "expected iss claim when --oidc-jwks-url is used")
	fs.StringVar(&f.oidcAudience, "oidc-audience", "", "required aud claim")
	fs.StringVar(&f.oidcCAFile, "oidc-ca-file", "", "PEM roots trusted for the issuer and JWKS endpoints (default: system roots)")
	fs.StringVar(&f.oidcRoleClaims, "oidc-role-claims", "", "comma-separated claim paths holding roles or groups, e.g. realm_access.roles,groups")
	fs.StringVar(&f.oidcRoleMapping, "oidc-role-mapping", "", "role to permissions, e.g. 'o2-admin=o2ims:read+o2ims:write;o2-viewer=o2ims:read'")
	fs.BoolVar(&f.oidcRequireCertBinding, "oidc-require-cert-binding", false, "require certificate-bound tokens (RFC 8705 cnf.x5t#S256) over mTLS")
	fs.BoolVar(&f.insecureAllowUnauthenticated, "insecure-allow-unauthenticated", false, "serve without authentication on a non-loopback address")
	fs.StringVar(&f.publicPaths, "public-paths", "/healthz,/readyz,/metrics,/o2ims/v1/providers/metrics,/o2ims/v1/resources/metrics", "comma-separated paths served without authentication")
	fs.StringVar(&f.tlsCert, "tls-cert-file", "", "serve HTTPS with this certificate (reloaded when the file changes)")
	fs.StringVar(&f.tlsKey, "tls-key-file", "", "private key of --tls-cert-file")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca-file", "", "verify client certificates against these CAs (mTLS)")
	fs.BoolVar(&f.tlsRequireClientCert, "tls-require-client-cert", true, "with --tls-client-ca-file: refuse clients without a certificate")
	fs.Float64Var(&f.rateLimit, "rate-limit", 100, "requests per second per client (0 disables)")
	fs.IntVar(&f.rateBurst, "rate-burst", 200, "burst of requests per client")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted")
	fs.StringVar(&f.notifyTokenURL, "notify-oauth2-token-url", "", "authenticate notifications with OAuth2 client credentials from this token endpoint")
	fs.StringVar(&f.notifyClientID, "notify-oauth2-client-id", "", "client id for notification tokens")
	fs.StringVar(&f.notifyClientSecret, "notify-oauth2-client-secret", "", "client secret for notification tokens (prefer O2IMS_NOTIFY_OAUTH2_CLIENT_SECRET)")
	fs.StringVar(&f.notifyScopes, "notify-oauth2-scopes", "", "comma-separated scopes for notification tokens")
	fs.StringVar(&f.notifyCert, "notify-client-cert-file", "", "client certificate presented to https callbacks")
	fs.StringVar(&f.notifyKey, "notify-client-key-file", "", "key of --notify-client-cert-file")
	fs.StringVar(&f.notifyCA, "notify-ca-file", "", "PEM roots trusted for https callbacks (default: system roots)")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func certPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

func (f *securityFlags) authOptions() (*auth.Options, error) {
	if f.oidcIssuerURL == "" && f.oidcJWKSURL == "" {
		return nil, nil
	}
	o := &auth.Options{
		IssuerURL:                 f.oidcIssuerURL,
		JWKSURL:                   f.oidcJWKSURL,
		Issuer:                    f.oidcIssuer,
		Audience:                  f.oidcAudience,
		RoleClaims:                splitList(f.oidcRoleClaims),
		RequireCertificateBinding: f.oidcRequireCertBinding,
	}
	if f.oidcCAFile != "" {
		pool, err := certPool(f.oidcCAFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-ca-file: %w", err)
		}
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	}
	if f.oidcRoleMapping != "" {
		o.RoleMapping = map[string][]auth.Permission{}
		for _, entry := range strings.Split(f.oidcRoleMapping, ";") {
			role, perms, ok := strings.Cut(strings.TrimSpace(entry), "=")
			if !ok || role == "" || perms == "" {
				return nil, fmt.Errorf("--oidc-role-mapping: %q is not role=permission[+permission]", entry)
			}
			for _, p := range strings.Split(perms, "+") {
				o.RoleMapping[role] = append(o.RoleMapping[role], auth.Permission(strings.TrimSpace(p)))
			}
		}
	}
	return o, nil
}

func (f *securityFlags) tlsOptions() (*tlsconfig.Options, error) {
	if f.tlsCert == "" && f.tlsKey == "" {
		if f.tlsClientCA != "" {
			return nil, fmt.Errorf("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
		}
		return nil, nil
	}
	if f.tlsCert == "" || f.tlsKey == "" {
		return nil, fmt.Errorf("--tls-cert-file and --tls-key-file go together")
	}
	return &tlsconfig.Options{CertFile: f.tlsCert, KeyFile: f.tlsKey, ClientCAFile: f.tlsClientCA, RequireClientCert: f.tlsClientCA != "" && f.tlsRequireClientCert}, nil
}

func (f *securityFlags) rateLimitOptions() ratelimit.Options {
	return ratelimit.Options{RequestsPerSecond: f.rateLimit, Burst: f.rateBurst}
}

func (f *securityFlags) notifyTLS() (*tls.Config, error) {
	if f.notifyCert == "" && f.notifyKey == "" && f.notifyCA == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.notifyCert != "" || f.notifyKey != "" {
		cert, err := tls.LoadX509KeyPair(f.notifyCert, f.notifyKey)
		if err != nil {
			return nil, fmt.Errorf("--notify-client-cert-file/--notify-client-key-file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	if f.notifyCA != "" {
		pool, err := certPool(f.notifyCA)
		if err != nil {
			return nil, fmt.Errorf("--notify-ca-file: %w", err)
		}
		c.RootCAs = pool
	}
	return c, nil
}

func (f *securityFlags) notifyOAuth2() (*clientcredentials.Config, error) {
	if f.notifyTokenURL == "" {
		return nil, nil
	}
	if f.notifyClientID == "" {
		return nil, fmt.Errorf("--notify-oauth2-client-id is required with --notify-oauth2-token-url")
	}
	return &clientcredentials.Config{TokenURL: f.notifyTokenURL, ClientID: f.notifyClientID, ClientSecret: f.notifyClientSecret, Scopes: splitList(f.notifyScopes)}, nil
}
