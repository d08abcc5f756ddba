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
