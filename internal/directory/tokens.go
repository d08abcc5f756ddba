package directory

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// DefaultTokenLifetime is how long an API token works when its creator names no expiry.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// TokenExpiry says when a new API token stops working: the zero value for DefaultTokenLifetime,
// Lifetime after its creation, At for a given time, or Never for a token that does not expire.
type TokenExpiry struct {
	Lifetime time.Duration
	At       time.Time
	Never    bool
}

var tokenTarget = authz.Target{Kind: authz.TargetToken}

// CreateToken creates an API token named name with scopes for a, who must be allowed to manage
// tokens, and returns its secret (shown only this once: the store keeps its hash) with its
// record. An unknown scope is refused with the list of valid ones.
func (s *Service) CreateToken(ctx context.Context, a latchkey.Actor, name string, scopes []string, expires TokenExpiry) (string, *latchkey.APIToken, error) {
	if err := authz.Decide(a, authz.ActionManageTokens, tokenTarget); err != nil {
		return "", nil, err
	}
	for _, sc := range scopes {
		if !latchkey.IsScope(sc) {
			return "", nil, latchkey.Errorf(latchkey.EINVALID, latchkey.CodeInvalidScope,
				"That permission does not exist. Choose from: "+strings.Join(latchkey.Scopes, ", ")+".",
				"unknown scope %q (scopes: %s)", shortText(sc), strings.Join(latchkey.Scopes, ", "))
		}
	}
	now := s.Signin.Now().UTC()
	secret := signin.NewAPIToken()
	t := &latchkey.APIToken{ID: latchkey.NewID(), Name: strings.TrimSpace(name), Hash: signin.APITokenHash(secret),
		Scopes: scopes, CreatedAt: now}
	if a.Kind == latchkey.ActorPerson {
		t.CreatedBy = a.UserID
	}
	switch {
	case expires.Never:
	case expires.Lifetime != 0:
		at := now.Add(expires.Lifetime)
		t.ExpiresAt = &at
	case expires.At.IsZero():
		at := now.Add(DefaultTokenLifetime)
		t.ExpiresAt = &at
	default:
		at := expires.At.UTC()
		t.ExpiresAt = &at
	}
	if err := t.Validate(); err != nil {
		return "", nil, err
	}
	ctx = latchkey.Audit(ctx, a, "token.create", "apiToken", t.ID, t.Name, map[string]any{
		"scopes": t.Scopes, "expiresDateTime": t.ExpiresAt})
	if err := s.Store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// ListTokens returns every API token, newest first, for a, who must be allowed to manage them.
func (s *Service) ListTokens(ctx context.Context, a latchkey.Actor) ([]*latchkey.APIToken, error) {
	if err := authz.Decide(a, authz.ActionManageTokens, tokenTarget); err != nil {
		return nil, err
	}
	return s.Store.ListAPITokens(ctx)
}

// RevokeToken revokes the API token id for a, who must be allowed to manage tokens; it stops
// working at once. An unknown id is refused with token_not_found.
func (s *Service) RevokeToken(ctx context.Context, a latchkey.Actor, id string) error {
	if err := authz.Decide(a, authz.ActionManageTokens, tokenTarget); err != nil {
		return err
	}
	name := ""
	if list, err := s.Store.ListAPITokens(ctx); err == nil {
		for _, t := range list {
			if t.ID == id {
				name = t.Name
			}
		}
	}
	ctx = latchkey.Audit(ctx, a, "token.revoke", "apiToken", id, name, nil)
	err := s.Store.RevokeAPIToken(ctx, id, s.Signin.Now().UTC())
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "token_not_found", "That API token does not exist.", "no API token with id %q", shortText(id))
	}
	return err
}

// shortText cuts s to at most 64 bytes for an error detail.
func shortText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
