package oidc

import (
	"context"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User info and introspection claims.

func (s *storage) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := s.store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if !u.Enabled {
		return errUserDisabled
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

var errUserDisabled = errors.New("user is disabled")

var allScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills an ID token's claims. An ID token issued on a refresh token keeps
// the original's acr (OpenID Connect Core §12.2), which op takes only from authorization
// requests; auth_time and amr op takes from the refresh token's record.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.setUserinfo(ctx, info, req.GetSubject(), scopes); isNotFound(err) || errors.Is(err, errUserDisabled) {
		return oidc.ErrInvalidGrant().WithDescription(descUserGone)
	} else if err != nil {
		return s.internal(ctx, "find user", err)
	}
	if r, ok := req.(*refreshRequest); ok && r.t.ACR != "" {
		info.AppendClaims("acr", r.t.ACR)
	}
	return nil
}

// SetUserinfoFromToken and SetIntrospectionFromToken are op's way to answer /userinfo and
// introspection, which the Provider answers itself (endpoints.go), checking what op cannot see:
// that the token is an access token, its grant is not revoked, and the caller is entitled to it.
// Should op ever call them, they refuse.
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return oidc.ErrInvalidRequest().WithDescription("not served here")
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return oidc.ErrInvalidRequest().WithDescription("not served here")
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
