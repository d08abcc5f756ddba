package signin

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// APITokenPrefix starts every API token's secret, so that a leaked one is recognisable (by
// secret scanners, and by a person reading a log or a script).
const APITokenPrefix = "lk_"

// maxAPITokenLen bounds the bearer value looked up: a token is the prefix and 43 characters.
const maxAPITokenLen = 128

// NewAPIToken returns a fresh API token secret: the prefix and 32 random bytes, base64url.
func NewAPIToken() string { return APITokenPrefix + NewToken() }

// APITokenHash returns the store key of an API token's secret: its SHA-256, as for sessions (a
// fast hash is right for a 256-bit random secret; the store never holds a usable token).
func APITokenHash(secret string) string { return SessionID(secret) }

// CodeInvalidToken refuses a request whose API token is missing, unknown, expired or revoked.
const CodeInvalidToken = "invalid_token"

// invalidToken is the refusal of a bearer token that does not work: one plain message whatever
// the reason, and the reason in the admin detail (never the secret itself).
func invalidToken(format string, args ...any) error {
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, CodeInvalidToken,
		"This API token does not work: it is unknown, expired or revoked. Ask an administrator for a new one.", format, args...)
}

// TokenActor returns the actor of the API token whose secret is bearer: its id, name and
// scopes. A missing, unknown, expired or revoked token is refused with EUNAUTHORIZED. It records
// the token's last use at most once a minute.
func (s *Service) TokenActor(ctx context.Context, bearer string) (latchkey.Actor, error) {
	switch {
	case bearer == "":
		return latchkey.Actor{}, invalidToken("the Authorization header carries no bearer token")
	case !strings.HasPrefix(bearer, APITokenPrefix) || len(bearer) > maxAPITokenLen:
		return latchkey.Actor{}, invalidToken("the bearer token is not a Latchkey API token (they start with %s)", APITokenPrefix)
	}
	t, err := s.Store.FindAPITokenByHash(ctx, APITokenHash(bearer))
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Actor{}, invalidToken("no API token has this secret")
	} else if err != nil {
		return latchkey.Actor{}, err
	}
	now := s.now()
	switch {
	case t.RevokedAt != nil:
		return latchkey.Actor{}, invalidToken("API token %q (id %s) was revoked at %s", t.Name, t.ID, t.RevokedAt.UTC().Format(time.RFC3339))
	case !t.Usable(now):
		return latchkey.Actor{}, invalidToken("API token %q (id %s) expired at %s", t.Name, t.ID, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute {
		if err := s.Store.TouchAPIToken(ctx, t.ID, now); err != nil {
			return latchkey.Actor{}, err
		}
	}
	return latchkey.Actor{Kind: latchkey.ActorToken, TokenID: t.ID, TokenName: t.Name, Scopes: t.Scopes}, nil
}
