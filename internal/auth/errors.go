package auth

import (
	"errors"

	"github.com/nephoran/o2ims/internal/ims"
)

// Realm is the protection space named in WWW-Authenticate challenges.
const Realm = "o2ims"

type failureKind int

const (
	// kindMissing: the request carried no bearer credentials at all. RFC 6750
	// section 3.1 says such a challenge carries no error attribute.
	kindMissing failureKind = iota
	// kindInvalidToken: a token was presented but is unusable.
	kindInvalidToken
	// kindInsufficientScope: the token is valid but lacks a permission.
	kindInsufficientScope
)

// failure is the cause attached to every *ims.Error this package returns. It
// lets ChallengeHeader build the right challenge without parsing messages,
// and its texts are fixed strings, so neither clients nor logs ever see any
// part of a presented token.
type failure struct {
	kind failureKind
	// description is a short fixed text, safe for error_description.
	description string
	// scope is the missing permission of an insufficient_scope failure.
	scope Permission
	// cause is the library error, kept for logs. Libraries describe what
	// failed, not the token's content.
	cause error
}

func (f *failure) Error() string {
	if f.cause != nil {
		return f.description + ": " + f.cause.Error()
	}
	return f.description
}

func (f *failure) Unwrap() error { return f.cause }

func missingToken() *ims.Error {
	return &ims.Error{
		Code:    ims.EUNAUTHENTICATED,
		Message: "A bearer access token is required.",
		Err:     &failure{kind: kindMissing, description: "missing bearer token"},
	}
}

// invalidToken builds the error for a rejected token. message is shown to the
// client; description goes into the challenge and the log.
func invalidToken(message, description string, cause error) *ims.Error {
	return &ims.Error{
		Code:    ims.EUNAUTHENTICATED,
		Message: message,
		Err:     &failure{kind: kindInvalidToken, description: description, cause: cause},
	}
}

// Client-facing messages. They are deliberately coarse: a client learns that
// its token is expired or not yet valid, which it can act on, but not which
// other check failed, which would help an attacker more than a client.
const (
	msgInvalid  = "The access token is invalid."
	msgExpired  = "The access token has expired."
	msgNotYet   = "The access token is not valid yet."
	msgMismatch = "The access token is not bound to the presented client certificate."
)

// ChallengeHeader returns the WWW-Authenticate value for a response to err,
// following RFC 6750 section 3: a bare realm challenge when no token was
// presented, error="invalid_token" with a short fixed description for a
// rejected token, and error="insufficient_scope" with the needed scope for a
// 403. It returns "" for errors that are neither EUNAUTHENTICATED nor
// EFORBIDDEN.
func ChallengeHeader(err error) string {
	var f *failure
	if errors.As(err, &f) {
		switch f.kind {
		case kindMissing:
			return `Bearer realm="` + Realm + `"`
		case kindInvalidToken:
			return `Bearer realm="` + Realm + `", error="invalid_token", error_description="` + f.description + `"`
		case kindInsufficientScope:
			return `Bearer realm="` + Realm + `", error="insufficient_scope", scope="` + string(f.scope) + `"`
		}
	}
	// Errors from elsewhere carry no detail; answer with the least specific
	// challenge that is still correct for the status.
	switch ims.ErrorCode(err) {
	case ims.EUNAUTHENTICATED:
		return `Bearer realm="` + Realm + `"`
	case ims.EFORBIDDEN:
		return `Bearer realm="` + Realm + `", error="insufficient_scope"`
	}
	return ""
}
