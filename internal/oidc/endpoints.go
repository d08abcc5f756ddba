package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey/internal/policy"
)

// The endpoints the Provider answers itself, in front of op (inside op's router, so with its
// CORS headers and the issuer in the context): discovery, because op's document advertises what
// Latchkey does not do; /userinfo and introspection, because op accepts any token the issuer
// signed there (an ID token too) and tells one application about another's tokens.

// intercept is the op interceptor that gives every request its correlation id (the
// X-Correlation-Id header the server set) for the log, and serves the endpoints above.
func (p *Provider) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(withCorrelationID(r.Context(), w.Header().Get("X-Correlation-Id")))
		switch r.URL.Path {
		case oidc.DiscoveryEndpoint:
			p.serveDiscovery(w, r)
		case p.op.UserinfoEndpoint().Relative():
			p.serveUserinfo(w, r)
		case p.op.IntrospectionEndpoint().Relative():
			p.serveIntrospection(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// Scopes and claims Latchkey issues, for discovery.
var (
	supportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}
	supportedClaims = []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "c_hash", "at_hash",
		"azp", "client_id", "preferred_username", "name", "given_name", "family_name", "email", "email_verified"}
)

// discoveryDocument is op's discovery document with acr_values_supported, which op's type lacks.
type discoveryDocument struct {
	*oidc.DiscoveryConfiguration
	ACRValuesSupported []string `json:"acr_values_supported"`
}

// serveDiscovery serves op's discovery document corrected to what Latchkey does: the code flow
// only (no implicit or hybrid response types, no JWT-bearer grant, no device authorization
// endpoint, no form_post), no private_key_jwt, and the acr values applications may ask for.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acrs, err := p.acrValuesSupported(ctx)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, p.storage.internal(ctx, "discovery: strengths", err))
		return
	}
	cfg := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
	cfg.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	cfg.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFragment)}
	cfg.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	cfg.DeviceAuthorizationEndpoint = ""
	cfg.CheckSessionIframe = ""
	cfg.RevocationEndpointAuthSigningAlgValuesSupported = nil
	cfg.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	httphelper.MarshalJSON(w, discoveryDocument{cfg, acrs})
}

// acrValuesSupported returns the acr values an application may name in acr_values: the
// assurance values, then the built-in strengths' ids and the custom strengths' ids, each sorted.
func (p *Provider) acrValuesSupported(ctx context.Context) ([]string, error) {
	strengths, err := p.strengths(ctx)
	if err != nil {
		return nil, err
	}
	var builtIn, custom []string
	for id, st := range strengths {
		if st.BuiltIn {
			builtIn = append(builtIn, id)
		} else {
			custom = append(custom, id)
		}
	}
	sort.Strings(builtIn)
	sort.Strings(custom)
	out := []string{policy.ACRPhishingResistantHardware, policy.ACRPhishingResistant, policy.ACRAAL2, policy.ACRAAL1}
	return append(append(out, builtIn...), custom...), nil
}

// accessToken verifies a bearer token as one of Latchkey's access tokens: signed by the
// issuer's keys, unexpired, with a jti naming a grant (an ID token has none) that is not revoked.
// A refusal is an *oidc.Error: invalid_token, or server_error when the store fails.
func (p *Provider) accessToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, *oidc.Error) {
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, p.op.AccessTokenVerifier(ctx))
	if err != nil {
		p.storage.log().InfoContext(ctx, "openid connect: access token refused", "reason", err.Error(), "correlationId", correlationID(ctx))
		return nil, errInvalidToken("The access token is not valid or has expired.")
	}
	grant, ok := grantOf(claims.JWTID)
	if !ok {
		p.storage.log().InfoContext(ctx, "openid connect: a token that is not an access token was presented as one",
			"client", claims.ClientID, "correlationId", correlationID(ctx))
		return nil, errInvalidToken("This is not an access token. Send the access_token of the token response, not the ID token.")
	}
	revoked, err := p.store.GrantRevoked(ctx, grant, p.storage.now())
	if err != nil {
		return nil, p.storage.internal(ctx, "grant revoked", err)
	}
	if revoked {
		return nil, errInvalidToken("This access token has been revoked.")
	}
	return claims, nil
}

// invalidToken is RFC 6750's error code for a bearer token that is not valid.
const invalidToken = "invalid_token"

func errInvalidToken(desc string) *oidc.Error {
	return &oidc.Error{ErrorType: invalidToken, Description: desc}
}

// writeOAuthError answers with the error's JSON: its code and plain description.
func writeOAuthError(w http.ResponseWriter, status int, e *oidc.Error) {
	w.Header().Set("Cache-Control", "no-store")
	httphelper.MarshalJSONWithStatus(w, e, status)
}

// serveUserinfo answers /userinfo for an access token only (RFC 6750): anything else, an ID
// token included, is a 401 invalid_token.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	refuse := func(e *oidc.Error) {
		if e.ErrorType == oidc.ServerError {
			writeOAuthError(w, http.StatusInternalServerError, e)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, e)
	}
	token, err := op.ParseUserinfoRequest(r, p.op.Decoder())
	if err != nil || token == "" {
		refuse(errInvalidToken("Send an access token: Authorization: Bearer followed by the access_token of the token response."))
		return
	}
	claims, e := p.accessToken(ctx, token)
	if e != nil {
		refuse(e)
		return
	}
	info := new(oidc.UserInfo)
	if err := p.storage.setUserinfo(ctx, info, claims.Subject, allScopes); isNotFound(err) || errors.Is(err, errUserDisabled) {
		refuse(errInvalidToken(descUserGone))
		return
	} else if err != nil {
		refuse(p.storage.internal(ctx, "userinfo: find user", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httphelper.MarshalJSON(w, info)
}

// serveIntrospection answers token introspection (RFC 7662) to an application that
// authenticates with its client id and secret. A token is active only when it is a live access
// token and the caller is entitled to it (§4): it was issued to the caller, or names the caller
// in its audience. The answer reports the token's own client_id and aud.
func (p *Provider) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller, authenticated, err := op.ClientIDFromRequest(r, p.op)
	if err != nil || !authenticated {
		reason := "no client credentials"
		if err != nil {
			reason = err.Error()
		}
		p.storage.log().InfoContext(ctx, "openid connect: introspection refused", "reason", reason, "correlationId", correlationID(ctx))
		w.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
		writeOAuthError(w, http.StatusUnauthorized, oidc.ErrInvalidClient().WithDescription(
			"Introspection needs the application's client id and secret, with HTTP Basic authentication."))
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, oidc.ErrInvalidRequest().WithDescription("Send the token to introspect in the token parameter."))
		return
	}
	inactive := func(reason string) {
		p.storage.log().InfoContext(ctx, "openid connect: introspection: token inactive", "reason", reason, "caller", caller,
			"correlationId", correlationID(ctx))
		w.Header().Set("Cache-Control", "no-store")
		httphelper.MarshalJSON(w, &oidc.IntrospectionResponse{})
	}
	claims, e := p.accessToken(ctx, token)
	if e != nil && e.ErrorType == oidc.ServerError {
		writeOAuthError(w, http.StatusInternalServerError, e)
		return
	} else if e != nil {
		inactive(e.Description)
		return
	}
	if claims.ClientID != caller && !slices.Contains(claims.Audience, caller) {
		inactive("the token was issued to application " + claims.ClientID + ", not to the caller")
		return
	}
	info := new(oidc.UserInfo)
	if err := p.storage.setUserinfo(ctx, info, claims.Subject, allScopes); isNotFound(err) || errors.Is(err, errUserDisabled) {
		inactive("the user is disabled or gone")
		return
	} else if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, p.storage.internal(ctx, "introspection: find user", err))
		return
	}
	resp := &oidc.IntrospectionResponse{Active: true, Scope: claims.Scopes, TokenType: oidc.BearerToken,
		Expiration: claims.Expiration, IssuedAt: claims.IssuedAt, NotBefore: claims.NotBefore, Issuer: claims.Issuer,
		JWTID: claims.JWTID}
	resp.SetUserInfo(info)
	resp.ClientID, resp.Audience, resp.Subject = claims.ClientID, claims.Audience, claims.Subject
	w.Header().Set("Cache-Control", "no-store")
	httphelper.MarshalJSON(w, resp)
}
