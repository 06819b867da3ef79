package edge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

// Token limits.
const (
	// MaxTokenUses bounds the uses of one token: a token good for more
	// enrolments than a site has nodes is a standing credential.
	MaxTokenUses = 10000
	// MaxTokenTTL bounds a token's life for the same reason.
	MaxTokenTTL = 30 * 24 * time.Hour
)

// tokenPattern is kubeadm's bootstrap token format: a 6-character public
// id and a 16-character secret.
var tokenPattern = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)

// poolPattern is what pool names may look like: a DNS label.
var poolPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// The refusals of a bootstrap token. The token's id alone proves nothing,
// so an unknown id and a wrong secret read the same; only a token whose
// secret matched learns that it expired or was used up.
var (
	errTokenInvalid = ims.Errorf(ims.EUNAUTHENTICATED, "the bootstrap token is not valid")
	errTokenExpired = ims.Errorf(ims.EUNAUTHENTICATED, "the bootstrap token has expired")
	errTokenUsedUp  = ims.Errorf(ims.EUNAUTHENTICATED, "the bootstrap token has been used as often as it allows")
)

// NewToken is a token just created: the only time its secret is known.
type NewToken struct {
	// Token is "<id>.<secret>", what the agent is given.
	Token     string
	ID        string
	Pool      string
	ExpiresAt time.Time
	MaxUses   int
	// CAHash pins the CA the agent must find on first contact
	// ("sha256:<hex of the CA certificate's SubjectPublicKeyInfo>").
	CAHash string
}

// CreateToken mints a bootstrap token that enrols up to uses nodes into
// pool until ttl has passed. It is scoped to enrolment: the agent protocol
// accepts it nowhere else, and the rest of the API never accepts it.
func (s *Service) CreateToken(ctx context.Context, pool string, ttl time.Duration, uses int, description string) (NewToken, error) {
	switch {
	case !poolPattern.MatchString(pool):
		return NewToken{}, ims.Errorf(ims.EINVALID, "pool %q is not a valid pool name (lower-case letters, digits and '-', at most 63)", pool)
	case ttl <= 0 || ttl > MaxTokenTTL:
		return NewToken{}, ims.Errorf(ims.EINVALID, "ttl must be positive and at most %s", MaxTokenTTL)
	case uses < 1 || uses > MaxTokenUses:
		return NewToken{}, ims.Errorf(ims.EINVALID, "uses must be between 1 and %d", MaxTokenUses)
	case len(description) > 1024:
		return NewToken{}, ims.Errorf(ims.EINVALID, "description must be at most 1024 characters")
	}
	now := s.now()
	for range 5 {
		id, secret := randomString(6), randomString(16)
		sum := sha256.Sum256([]byte(secret))
		t := Token{ID: id, SecretSHA256: sum[:], Pool: pool, Description: description,
			CreatedAt: now, ExpiresAt: now.Add(ttl), MaxUses: uses}
		err := s.store.CreateToken(ctx, t)
		if ims.ErrorCode(err) == ims.ECONFLICT {
			continue // 36^6 ids: a collision is rare but possible
		}
		if err != nil {
			return NewToken{}, err
		}
		s.log.InfoContext(ctx, "bootstrap token created", "token_id", id, "pool", pool, "expires", t.ExpiresAt, "uses", uses)
		return NewToken{Token: id + "." + secret, ID: id, Pool: pool, ExpiresAt: t.ExpiresAt, MaxUses: uses, CAHash: s.ca.Hash()}, nil
	}
	return NewToken{}, ims.Internal(errors.New("no free token id after 5 attempts"), "the token could not be created")
}

// AgentCommand is the command that enrols a node with t through the agent
// listener at serverURL (https://host:port).
func (t NewToken) AgentCommand(serverURL string) string {
	return fmt.Sprintf("o2ims agent --server %s --bootstrap-token %s --ca-hash %s --pool %s", serverURL, t.Token, t.CAHash, t.Pool)
}

// UsesLeft is how many more enrolments t allows.
func (t Token) UsesLeft() int { return max(t.MaxUses-t.Uses, 0) }

// Expired reports whether t has expired at now.
func (t Token) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// Tokens lists the bootstrap tokens, expired ones included.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) {
	return s.store.Tokens(ctx)
}

// Token returns the bootstrap token with the given id.
func (s *Service) Token(ctx context.Context, id string) (Token, error) {
	t, err := s.store.Token(ctx, id)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		return Token{}, ims.Errorf(ims.ENOTFOUND, "bootstrap token %s not found", id)
	}
	return t, err
}

// RevokeToken deletes a token: it enrols nothing from then on, and
// enrolments waiting for approval under it cannot collect their
// certificate. Nodes already enrolled with it are unaffected.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	if err := s.store.DeleteToken(ctx, id); err != nil {
		if ims.ErrorCode(err) == ims.ENOTFOUND {
			return ims.Errorf(ims.ENOTFOUND, "bootstrap token %s not found", id)
		}
		return err
	}
	s.log.InfoContext(ctx, "bootstrap token revoked", "token_id", id)
	return nil
}

// authenticateToken checks a bearer token's secret against the stored
// hash, in constant time, and returns the stored token. It does not check
// expiry or uses: a repeated enrolment from the same key may proceed with
// a token since used up.
func (s *Service) authenticateToken(ctx context.Context, bearer string) (Token, error) {
	m := tokenPattern.FindStringSubmatch(bearer)
	if m == nil {
		return Token{}, ims.Errorf(ims.EUNAUTHENTICATED, "a bootstrap token is required: Authorization: Bearer <id>.<secret>, with a 6- and a 16-character part of lower-case letters and digits")
	}
	t, err := s.store.Token(ctx, m[1])
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		// Spend the same work as a wrong secret.
		sum := sha256.Sum256([]byte(m[2]))
		subtle.ConstantTimeCompare(sum[:], sum[:])
		return Token{}, errTokenInvalid
	}
	if err != nil {
		return Token{}, err
	}
	sum := sha256.Sum256([]byte(m[2]))
	if subtle.ConstantTimeCompare(sum[:], t.SecretSHA256) != 1 {
		return Token{}, errTokenInvalid
	}
	return t, nil
}

// bearerToken reads the token of an Authorization: Bearer header.
func bearerToken(header string) string {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(value)
}

func randomString(n int) string {
	b := make([]byte, n)
	// rand.Text is base32; draw from our own alphabet instead, rejecting
	// bytes past the largest multiple of its size to stay unbiased.
	limit := byte(256 - 256%len(tokenAlphabet))
	buf := make([]byte, 1)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		if buf[0] >= limit {
			continue
		}
		b[i] = tokenAlphabet[int(buf[0])%len(tokenAlphabet)]
		i++
	}
	return string(b)
}
