package latchkey

import (
	"context"
	"time"
)

// API token scopes: Microsoft Graph's application permission names, so that automation written
// for Graph maps one to one (DESIGN §4). ReadWrite includes Read.
const (
	ScopeUserReadAll                      = "User.Read.All"
	ScopeUserReadWriteAll                 = "User.ReadWrite.All"
	ScopeGroupReadWriteAll                = "Group.ReadWrite.All"
	ScopeUserAuthenticationMethodRWAll    = "UserAuthenticationMethod.ReadWrite.All"
	ScopePolicyReadAll                    = "Policy.Read.All"
	ScopePolicyReadWriteAuthMethod        = "Policy.ReadWrite.AuthenticationMethod"
	ScopePolicyReadWriteConditionalAccess = "Policy.ReadWrite.ConditionalAccess"
	ScopeAuditLogReadAll                  = "AuditLog.Read.All"
	ScopeReportsReadAll                   = "Reports.Read.All"
)

// Scopes lists every scope an API token may carry.
var Scopes = []string{ScopeUserReadAll, ScopeUserReadWriteAll, ScopeGroupReadWriteAll,
	ScopeUserAuthenticationMethodRWAll, ScopePolicyReadAll, ScopePolicyReadWriteAuthMethod,
	ScopePolicyReadWriteConditionalAccess, ScopeAuditLogReadAll, ScopeReportsReadAll}

// IsScope reports whether name is one of Scopes.
func IsScope(name string) bool {
	for _, s := range Scopes {
		if s == name {
			return true
		}
	}
	return false
}

// APIToken is a credential for automation on /api/v1 (and SCIM): a secret shown once when it is
// created, of which the store keeps only the SHA-256 (Hash).
type APIToken struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Hash   string   `json:"-"`
	Scopes []string `json:"scopes"`
	// CreatedBy is the id of the person who created it ("" when created on the server's CLI).
	CreatedBy string    `json:"createdBy,omitempty"`
	CreatedAt time.Time `json:"createdDateTime"`
	// ExpiresAt is when it stops working; nil only for a token created to never expire.
	ExpiresAt  *time.Time `json:"expiresDateTime"`
	LastUsedAt *time.Time `json:"lastUsedDateTime"`
	RevokedAt  *time.Time `json:"revokedDateTime,omitempty"`
}

// Usable reports whether the token works at now: not revoked and not expired.
func (t *APIToken) Usable(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// APITokenStore persists API tokens.
type APITokenStore interface {
	// CreateAPIToken stores t; ErrConflict when its id or hash exists.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// FindAPITokenByHash returns the token whose secret hashes to hash, revoked and expired
	// ones included (the caller decides); ErrNotFound when there is none.
	FindAPITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// ListAPITokens returns every token, newest first.
	ListAPITokens(ctx context.Context) ([]*APIToken, error)
	// RevokeAPIToken records the token as revoked at at; ErrNotFound when there is no such
	// token, and revoking a revoked token keeps its first RevokedAt.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) error
	// TouchAPIToken sets LastUsedAt to at when it is unset or older than at minus a minute, so
	// that busy automation writes at most once a minute per token.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// Refusal codes of API tokens.
const (
	// CodeInvalidScope refuses a token without scopes, with a scope that does not exist, or with
	// one scope twice.
	CodeInvalidScope = "invalid_scope"
	// CodeInvalidExpiry refuses a token that would expire before it was created.
	CodeInvalidExpiry = "invalid_expiry"
)

// Validate checks a token before it is stored: a name as ValidateName has it, at least one
// scope, each one of Scopes and none twice, and an expiry after its creation. Hash, ID and
// times are the service's to set and are not checked here beyond that.
func (t *APIToken) Validate() error {
	if err := ValidateName("token name", t.Name); err != nil {
		return err
	}
	if len(t.Scopes) == 0 {
		return Errorf(EINVALID, CodeInvalidScope, "Choose at least one permission for the token.", "the token has no scopes")
	}
	seen := make(map[string]bool, len(t.Scopes))
	for _, s := range t.Scopes {
		if !IsScope(s) {
			return Errorf(EINVALID, CodeInvalidScope, "That permission does not exist.", "unknown scope %s (scopes: %v)", shorten(s), Scopes)
		}
		if seen[s] {
			return Errorf(EINVALID, CodeInvalidScope, "Each permission may be given once.", "scope %s is listed twice", s)
		}
		seen[s] = true
	}
	if t.ExpiresAt != nil && !t.CreatedAt.IsZero() && !t.ExpiresAt.After(t.CreatedAt) {
		return Errorf(EINVALID, CodeInvalidExpiry, "A token must expire after it is created.",
			"expiresDateTime %s is not after createdDateTime %s", t.ExpiresAt.UTC().Format(time.RFC3339), t.CreatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}
