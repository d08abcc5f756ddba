// Package oidc is Latchkey's OpenID Connect provider: github.com/zitadel/oidc/v3's op package
// over latchkey.Store, so that every node shares clients, authorization requests, codes, refresh
// tokens and signing keys.
//
// Secrets and tokens never reach the store in the clear: a confidential client's secret is a
// 256-bit random value of which the store keeps the SHA-256 (hex); authorization codes and
// refresh tokens are likewise kept as SHA-256 hashes. Access tokens are JWTs signed with the
// store's keys, so any node can verify them; their jti names the grant they were issued on
// (grantID.tokenID), so that /userinfo and introspection refuse them once the grant is revoked.
//
// Errors reach applications as OAuth error codes with plain descriptions; what went wrong inside
// goes to the log with the request's correlation id.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Lifetimes.
const (
	AuthRequestLifetime  = 10 * time.Minute
	AccessTokenLifetime  = 15 * time.Minute
	IDTokenLifetime      = time.Hour
	RefreshTokenLifetime = 30 * 24 * time.Hour
)

// LoginPath is where the provider sends a person to sign in for an authorization request.
const LoginPath = "/oidc/login"

// Hash returns the hex SHA-256 of a secret, code or token: what the store keeps.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a 256-bit random secret, base64url.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("oidc: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// storage implements op.Storage over latchkey.Store.
type storage struct {
	store   latchkey.Store
	devMode bool
	now     func() time.Time
	logger  *slog.Logger

	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey // parsed signing keys by id
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)

func isNotFound(err error) bool { return latchkey.IsKind(err, latchkey.ENOTFOUND) }

// correlationKey keys the request's correlation id (the X-Correlation-Id the server gave it) in
// contexts.
type correlationKey struct{}

func withCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

func correlationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// log returns the logger, the slog default when none was given.
func (s *storage) log() *slog.Logger {
	if s.logger == nil {
		return slog.Default()
	}
	return s.logger
}

// internal answers a failure the application cannot fix (the store, a key): server_error in
// plain words with the request's correlation id; the detail goes to the log with that id.
func (s *storage) internal(ctx context.Context, doing string, err error) *oidc.Error {
	cid := correlationID(ctx)
	s.log().ErrorContext(ctx, "openid connect: "+doing, "err", err, "correlationId", cid)
	return oidc.ErrServerError().WithDescription(
		"Something went wrong on our side. Please try again in a moment; if it keeps happening, give IT this reference: %s.", cid)
}

// Plain descriptions of refusals.
const (
	descRequestGone = "This sign-in request has expired or was already used. Go back to the application and start again."
	descUserGone    = "The account these tokens were issued for is disabled or no longer exists."
)

// ---- clients ----

type client struct {
	c       *latchkey.Client
	devMode bool
}

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string            { return LoginPath + "?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return IDTokenLifetime }
func (c *client) DevMode() bool                        { return c.devMode }
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.store.FindClient(ctx, clientID)
	if isNotFound(err) {
		return nil, oidc.ErrInvalidClient().WithDescription("There is no application with this client_id.")
	} else if err != nil {
		return nil, s.internal(ctx, "find client", err)
	}
	return &client{c: c, devMode: s.devMode}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	c, err := s.store.FindClient(ctx, clientID)
	if isNotFound(err) {
		return oidc.ErrInvalidClient().WithDescription("There is no application with this client_id.")
	} else if err != nil {
		return s.internal(ctx, "find client", err)
	}
	if c.Public || c.SecretHash == "" {
		return oidc.ErrInvalidClient().WithDescription("This application has no secret: it is a public client.")
	}
	if subtle.ConstantTimeCompare([]byte(Hash(clientSecret)), []byte(c.SecretHash)) != 1 {
		return oidc.ErrInvalidClient().WithDescription("The client secret is wrong.")
	}
	return nil
}

// ---- authorization requests ----

type authRequest struct{ r *latchkey.AuthRequest }

func (a *authRequest) GetID() string                      { return a.r.ID }
func (a *authRequest) GetACR() string                     { return a.r.ACR }
func (a *authRequest) GetAMR() []string                   { return a.r.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.r.AuthTime }
func (a *authRequest) GetClientID() string                { return a.r.ClientID }
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.r.UserID }
func (a *authRequest) Done() bool                         { return a.r.Done }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.r.ResponseMode) }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.store.FindClient(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("this application must use PKCE (code_challenge with S256)")
	}
	// form_post's page submits itself with an inline script, which Latchkey's Content Security
	// Policy forbids: it would leave the person on a blank page.
	if req.ResponseMode == oidc.ResponseModeFormPost {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode=form_post is not supported: use query (the default) or fragment")
	}
	// The browser binding (Provider.ServeHTTP puts it in the request's context, which op passes
	// on): without it no browser could ever be given the code.
	browser := browserHashFrom(ctx)
	if browser == "" {
		return nil, oidc.ErrServerError().WithDescription("the authorization request is not bound to a browser")
	}
	now := s.now()
	r := &latchkey.AuthRequest{
		ID: latchkey.NewID(), ClientID: req.ClientID, RedirectURI: req.RedirectURI, Scopes: req.Scopes,
		State: req.State, Nonce: req.Nonce, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod),
		ACRValues: req.ACRValues, Prompt: req.Prompt, LoginHint: req.LoginHint, BrowserHash: browser,
		CreatedAt: now, ExpiresAt: now.Add(AuthRequestLifetime),
	}
	if req.MaxAge != nil {
		m := int(*req.MaxAge)
		r.MaxAgeSeconds = &m
	}
	if err := s.store.CreateAuthRequest(ctx, r); err != nil {
		return nil, s.internal(ctx, "create auth request", err)
	}
	return &authRequest{r}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.store.FindAuthRequest(ctx, id, s.now())
	if isNotFound(err) {
		return nil, oidc.ErrInvalidRequest().WithDescription(descRequestGone)
	} else if err != nil {
		return nil, s.internal(ctx, "find auth request", err)
	}
	return &authRequest{r}, nil
}

// redeemable is the request a code was issued for, as the token endpoint found it: the code is
// used up only when tokens are issued for it (redeem), after op has checked the client, its
// secret, the redirect URI and the PKCE verifier, so that a failed exchange does not burn a code
// its rightful client still holds.
type redeemable struct {
	*authRequest
	codeHash string
}

// AuthRequestByCode finds the request a code was issued for without using the code up. A code
// that was used already revokes what was issued with it (refuseSpent).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	h := Hash(code)
	r, err := s.store.FindAuthRequestByCode(ctx, h, s.now())
	if isNotFound(err) {
		return nil, s.refuseSpent(ctx, h, "authorization code")
	} else if err != nil {
		return nil, s.internal(ctx, "find auth request by code", err)
	}
	return &redeemable{authRequest: &authRequest{r}, codeHash: h}, nil
}

// redeem uses the code of r up for a new grant, storing refresh (when not nil) as its first
// refresh token. Of racing exchanges one wins; the others are reuses.
func (s *storage) redeem(ctx context.Context, r *redeemable, grantID string, refresh *latchkey.RefreshToken) error {
	_, err := s.store.RedeemAuthCode(ctx, r.codeHash, grantID, refresh, s.now())
	if isNotFound(err) {
		return s.refuseSpent(ctx, r.codeHash, "authorization code")
	} else if err != nil {
		return s.internal(ctx, "redeem auth code", err)
	}
	return nil
}

// refuseSpent refuses a code or refresh token (its hash) that is not live. When it was used
// already, the grant it was used on is revoked: its refresh tokens are deleted and its access
// tokens refused from now until they expire (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14.2).
func (s *storage) refuseSpent(ctx context.Context, hash, what string) error {
	now := s.now()
	grantID, err := s.store.RevokeSpentGrant(ctx, hash, now, now.Add(AccessTokenLifetime))
	if isNotFound(err) {
		return oidc.ErrInvalidGrant().WithDescription("This %s is not valid: it has expired or was never issued.", what)
	} else if err != nil {
		return s.internal(ctx, "revoke spent grant", err)
	}
	s.log().WarnContext(ctx, "openid connect: a used "+what+" came back; its grant is revoked", "grant", grantID,
		"correlationId", correlationID(ctx))
	return oidc.ErrInvalidGrant().WithDescription("This %s was already used, so everything issued with it has been revoked. Sign in again.", what)
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	err := s.store.SaveAuthCode(ctx, id, Hash(code))
	switch {
	case err == nil:
		return nil
	case latchkey.IsKind(err, latchkey.ECONFLICT):
		return oidc.ErrInvalidRequest().WithDescription(
			"This sign-in already gave the application its code. Go back to the application and sign in again.")
	case isNotFound(err):
		return oidc.ErrInvalidRequest().WithDescription(descRequestGone)
	}
	return s.internal(ctx, "save auth code", err)
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if err := s.store.DeleteAuthRequest(ctx, id); err != nil && !isNotFound(err) {
		return s.internal(ctx, "delete auth request", err)
	}
	return nil
}
