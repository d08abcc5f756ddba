package oidc

import (
	"context"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Access and refresh tokens: op.Storage's token methods over the store.

// accessTokenID returns the jti of a new access token on grant grantID: grantID.tokenID.
func accessTokenID(grantID string) string { return grantID + "." + latchkey.NewID() }

// grantOf returns the grant an access token's jti names; false when it names none (an ID token
// has no jti).
func grantOf(jti string) (string, bool) {
	grant, id, ok := strings.Cut(jti, ".")
	return grant, ok && grant != "" && id != ""
}

// CreateAccessToken issues an access token without a refresh token: only for a code (without
// offline_access), which it uses up for a new grant.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	r, ok := req.(*redeemable)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	grantID := latchkey.NewID()
	if err := s.redeem(ctx, r, grantID, nil); err != nil {
		return "", time.Time{}, err
	}
	return accessTokenID(grantID), s.now().Add(AccessTokenLifetime), nil
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

// CreateAccessAndRefreshTokens issues an access token and a refresh token: for a code, which it
// uses up for a new grant; for a refresh token, which it rotates within its grant. A refresh
// token that was rotated already revokes its grant (refuseSpent).
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	now := s.now()
	next := &latchkey.RefreshToken{UserID: req.GetSubject(), Scopes: req.GetScopes(), CreatedAt: now, ExpiresAt: now.Add(RefreshTokenLifetime)}
	token := NewSecret()
	next.ID = Hash(token)
	switch r := req.(type) {
	case *redeemable:
		next.GrantID = latchkey.NewID()
		next.ClientID, next.AMR, next.ACR, next.AuthTime = r.r.ClientID, r.r.AMR, r.r.ACR, r.r.AuthTime
		if err := s.redeem(ctx, r, next.GrantID, next); err != nil {
			return "", "", time.Time{}, err
		}
	case *refreshRequest:
		// A turned-off account's refresh tokens are deleted with it; one that is left is refused.
		if u, err := s.store.FindUserByID(ctx, r.t.UserID); isNotFound(err) || err == nil && !u.Enabled {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("Your account is turned off. Contact your IT admin.")
		} else if err != nil {
			return "", "", time.Time{}, s.internal(ctx, "find user", err)
		}
		next.GrantID = r.t.GrantID
		next.ClientID, next.AMR, next.ACR, next.AuthTime = r.t.ClientID, r.t.AMR, r.t.ACR, r.t.AuthTime
		if _, err := s.store.RotateRefreshToken(ctx, Hash(current), next, now); isNotFound(err) {
			return "", "", time.Time{}, s.refuseSpent(ctx, Hash(current), "refresh token")
		} else if err != nil {
			return "", "", time.Time{}, s.internal(ctx, "rotate refresh token", err)
		}
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	return accessTokenID(next.GrantID), token, now.Add(AccessTokenLifetime), nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.store.FindRefreshToken(ctx, Hash(token), s.now())
	if isNotFound(err) {
		return nil, s.refuseSpent(ctx, Hash(token), "refresh token")
	} else if err != nil {
		return nil, s.internal(ctx, "find refresh token", err)
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
