// Package oidc is Latchkey's OpenID Connect provider: github.com/zitadel/oidc/v3's op package
// over latchkey.Store, so that every node shares clients, authorization requests, codes, refresh
// tokens and signing keys.
//
// Secrets and tokens never reach the store in the clear: a confidential client's secret is a
// 256-bit random value of which the store keeps the SHA-256 (hex); authorization codes and
// refresh tokens are likewise kept as SHA-256 hashes. Access tokens are JWTs signed with the
// store's keys, so any node can verify them.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
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

	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey // parsed signing keys by id
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)

func isNotFound(err error) bool { return latchkey.IsKind(err, latchkey.ENOTFOUND) }

// serverError wraps a store failure so that op answers server_error.
func serverError(err error) error { return oidc.ErrServerError().WithParent(err) }

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
		return nil, fmt.Errorf("unknown client %q", clientID)
	} else if err != nil {
		return nil, serverError(err)
	}
	return &client{c: c, devMode: s.devMode}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	c, err := s.store.FindClient(ctx, clientID)
	if isNotFound(err) {
		return fmt.Errorf("unknown client %q", clientID)
	} else if err != nil {
		return serverError(err)
	}
	if c.Public || c.SecretHash == "" {
		return errors.New("public client has no secret")
	}
	if subtle.ConstantTimeCompare([]byte(Hash(clientSecret)), []byte(c.SecretHash)) != 1 {
		return errors.New("wrong client secret")
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
		return nil, serverError(err)
	}
	return &authRequest{r}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.store.FindAuthRequest(ctx, id, s.now())
	if err != nil {
		return nil, fmt.Errorf("auth request %q: %w", id, err)
	}
	return &authRequest{r}, nil
}

// AuthRequestByCode takes the request out of the store: a code works once.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.store.TakeAuthRequestByCode(ctx, Hash(code), s.now())
	if err != nil {
		return nil, fmt.Errorf("code: %w", err)
	}
	return &authRequest{r}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.store.SaveAuthCode(ctx, id, Hash(code))
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if err := s.store.DeleteAuthRequest(ctx, id); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// ---- tokens ----

func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return latchkey.NewID(), s.now().Add(AccessTokenLifetime), nil
}

// refreshRequest is a stored refresh token seen as the request for new tokens.
type refreshRequest struct {
	t      *latchkey.RefreshToken
	scopes []string
}

func (r *refreshRequest) GetAMR() []string             { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string        { return []string{r.t.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string          { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string          { return r.scopes }
func (r *refreshRequest) GetSubject() string           { return r.t.UserID }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	now := s.now()
	next := &latchkey.RefreshToken{UserID: req.GetSubject(), Scopes: req.GetScopes(), CreatedAt: now, ExpiresAt: now.Add(RefreshTokenLifetime)}
	switch r := req.(type) {
	case *authRequest:
		next.ClientID, next.AMR, next.ACR, next.AuthTime = r.r.ClientID, r.r.AMR, r.r.ACR, r.r.AuthTime
	case *refreshRequest:
		next.ClientID, next.AMR, next.ACR, next.AuthTime = r.t.ClientID, r.t.AMR, r.t.ACR, r.t.AuthTime
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	token := NewSecret()
	next.ID = Hash(token)
	if current == "" {
		if err := s.store.CreateRefreshToken(ctx, next); err != nil {
			return "", "", time.Time{}, serverError(err)
		}
	} else if _, err := s.store.RotateRefreshToken(ctx, Hash(current), next, now); isNotFound(err) {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used or expired")
	} else if err != nil {
		return "", "", time.Time{}, serverError(err)
	}
	return latchkey.NewID(), token, now.Add(AccessTokenLifetime), nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.store.FindRefreshToken(ctx, Hash(token), s.now())
	if err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	_, err := s.store.DeleteRefreshTokens(ctx, userID, clientID)
	return err
}

// RevokeToken revokes a refresh token by removing all of that user's refresh tokens for the
// client (the store deletes by user and client). JWT access tokens cannot be revoked; they
// expire after AccessTokenLifetime.
func (s *storage) RevokeToken(ctx context.Context, token, userID, clientID string) *oidc.Error {
	if userID != "" {
		return nil // an access token
	}
	t, err := s.store.FindRefreshToken(ctx, Hash(token), s.now())
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	if _, err := s.store.DeleteRefreshTokens(ctx, t.UserID, t.ClientID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, _ string, token string) (string, string, error) {
	t, err := s.store.FindRefreshToken(ctx, Hash(token), s.now())
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, t.ID, nil
}

// ---- keys ----

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

func (s *storage) parse(k *latchkey.SigningKey) (*rsa.PrivateKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pk, ok := s.keys[k.ID]; ok {
		return pk, nil
	}
	if k.Algorithm != string(jose.RS256) {
		return nil, fmt.Errorf("signing key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	pk, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an RSA key", k.ID)
	}
	s.keys[k.ID] = pk
	return pk, nil
}

// SigningKey returns the newest key that is not retired, creating an RS256 key on first use and
// rotating when the newest is older than KeyRotationInterval.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.RetiredAt == nil && k.Algorithm == string(jose.RS256) {
			if s.now().Sub(k.CreatedAt) > KeyRotationInterval {
				break
			}
			pk, err := s.parse(k)
			if err != nil {
				return nil, err
			}
			return &signingKey{k.ID, pk}, nil
		}
	}
	k, pk, err := rotateSigningKey(ctx, s.store, s.now())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.keys[k.ID] = pk
	s.mu.Unlock()
	return &signingKey{k.ID, pk}, nil
}

// Key rotation. A retired key stays in the JWKS for RetiredKeyPublished, longer than any token
// it signed lives, and then leaves it.
const (
	KeyRotationInterval = 90 * 24 * time.Hour
	RetiredKeyPublished = IDTokenLifetime + 24*time.Hour
)

// RotateSigningKey creates a new RS256 signing key and retires every other key, so that tokens
// are signed with the new key from now on, on every node; tokens the old keys signed still
// verify while the old keys stay published (RetiredKeyPublished).
func RotateSigningKey(ctx context.Context, store latchkey.Store, now time.Time) (*latchkey.SigningKey, error) {
	k, _, err := rotateSigningKey(ctx, store, now)
	return k, err
}

func rotateSigningKey(ctx context.Context, store latchkey.Store, now time.Time) (*latchkey.SigningKey, *rsa.PrivateKey, error) {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		return nil, nil, err
	}
	k := &latchkey.SigningKey{ID: latchkey.NewID(), Algorithm: string(jose.RS256), PrivateKey: der, CreatedAt: now}
	if err := store.CreateSigningKey(ctx, k); err != nil {
		return nil, nil, err
	}
	keys, err := store.ListSigningKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, old := range keys {
		if old.ID == k.ID || old.RetiredAt != nil {
			continue
		}
		// Another node may retire it at the same moment: that is the same outcome.
		if err := store.RetireSigningKey(ctx, old.ID, now); err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, nil, err
		}
	}
	return k, pk, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet returns the public half of every key that signs or retired recently enough that tokens
// it signed may still be in use.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []op.Key
	for _, k := range keys {
		if k.RetiredAt != nil && s.now().Sub(*k.RetiredAt) > RetiredKeyPublished {
			continue
		}
		pk, err := s.parse(k)
		if err != nil {
			continue
		}
		out = append(out, &publicKey{k.ID, &pk.PublicKey})
	}
	return out, nil
}

// ---- user info ----

func (s *storage) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := s.store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if !u.Enabled {
		return errors.New("user is disabled")
	}
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.UserPrincipalName
			info.Name = u.DisplayName
			info.GivenName = u.GivenName
			info.FamilyName = u.Surname
		case oidc.ScopeEmail:
			if strings.Contains(u.UserPrincipalName, "@") {
				info.Email = u.UserPrincipalName
				info.EmailVerified = false
			}
		}
	}
	return nil
}

var allScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(ctx, info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers /userinfo. The JWT access token carries no scopes here, so the
// profile and email claims are returned.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, _, subject, _ string) error {
	return s.setUserinfo(ctx, info, subject, allScopes)
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, _, subject, clientID string) error {
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(ctx, info, subject, allScopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.ClientID = clientID
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(ctx context.Context) error { return s.store.Ping(ctx) }
