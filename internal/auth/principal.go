package auth

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/nephoran/o2ims/internal/ims"
)

// Permission names a class of operations on the O2 IMS API. Tokens grant
// permissions either directly, through a scope of the same name, or through
// roles that Options.RoleMapping translates.
type Permission string

const (
	// PermissionRead allows the safe methods: GET, HEAD and OPTIONS.
	PermissionRead Permission = "o2ims:read"
	// PermissionWrite allows the methods that change state: POST, PUT,
	// PATCH and DELETE. It does not imply PermissionRead, so that a
	// write-only integration cannot read the inventory unless granted.
	PermissionWrite Permission = "o2ims:write"
	// PermissionDMSCredentials allows reading the credentials of a
	// deployment manager's O2dms profile, where the server exposes them.
	PermissionDMSCredentials Permission = "o2ims:dms-credentials"
)

// knownPermissions is the closed set of permissions; role mappings naming
// anything else are rejected at configuration time to catch typos that would
// otherwise silently grant nothing.
var knownPermissions = map[Permission]bool{
	PermissionRead:           true,
	PermissionWrite:          true,
	PermissionDMSCredentials: true,
}

// Principal is the authenticated caller of a request.
type Principal struct {
	// Subject is the token's "sub" claim.
	Subject string
	// ClientID is the OAuth client that obtained the token, from the
	// "client_id" claim (RFC 9068) or else "azp"; it may be empty.
	ClientID string
	// Permissions holds every permission the token grants, each mapped to true.
	Permissions map[Permission]bool
}

// Has reports whether the principal holds permission perm. A nil principal
// holds none.
func (p *Principal) Has(perm Permission) bool {
	return p != nil && p.Permissions[perm]
}

// PermissionList returns the principal's permissions sorted, for logs and
// audit records.
func (p *Principal) PermissionList() []Permission {
	if p == nil {
		return nil
	}
	out := make([]Permission, 0, len(p.Permissions))
	for perm, ok := range p.Permissions {
		if ok {
			out = append(out, perm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// PermissionFor returns the permission an HTTP method needs. Methods other
// than the safe GET, HEAD and OPTIONS need PermissionWrite, so that an
// unexpected or misspelt method fails closed.
func PermissionFor(method string) Permission {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return PermissionRead
	default:
		return PermissionWrite
	}
}

// Require returns nil when p may use the HTTP method, an EUNAUTHENTICATED
// *ims.Error when p is nil, and an EFORBIDDEN *ims.Error naming the missing
// permission otherwise.
func Require(p *Principal, method string) error {
	perm := PermissionFor(method)
	if p == nil {
		return missingToken()
	}
	if p.Has(perm) {
		return nil
	}
	return &ims.Error{
		Code:    ims.EFORBIDDEN,
		Message: fmt.Sprintf("The access token does not grant the %s permission.", perm),
		Err:     &failure{kind: kindInsufficientScope, scope: perm, description: "insufficient permission"},
	}
}

type principalKey struct{}

// WithPrincipal returns a context carrying p, for handlers and audit logging
// further down the chain.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx and whether there was one.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
