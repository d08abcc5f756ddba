package oidc

import (
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Logout checks an application's RP-initiated logout request (OpenID Connect RP-Initiated
// Logout 1.0: id_token_hint, client_id, post_logout_redirect_uri, state; GET or POST) with
// zitadel's parser and validators. An id_token_hint Latchkey did not sign is ignored, so the
// person is asked (LogoutRequest.EndsSessionWithoutAsking); an expired one is still valid, as
// the specification allows. Refusals (EINVALID): an unknown application, a client_id that is not
// the hint's, and a post_logout_redirect_uri the application has not registered, which is never
// followed.
func (p *Provider) Logout(r *http.Request) (*latchkey.LogoutRequest, error) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	req, err := op.ParseEndSessionRequest(r, p.op.Decoder())
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "invalid_logout_request",
			"The application's sign-out request could not be read. Sign out from the application again.", "parse end_session request: %v", err)
	}
	out := &latchkey.LogoutRequest{PostLogoutRedirectURI: req.PostLogoutRedirectURI, State: req.State}
	clientID := req.ClientID
	if req.IdTokenHint != "" {
		claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, req.IdTokenHint, p.op.IDTokenHintVerifier(ctx))
		if err == nil || errors.As(err, &op.IDTokenHintExpiredError{}) {
			out.UserID = claims.GetSubject()
			if clientID == "" {
				clientID = claims.GetAuthorizedParty()
			}
		} else {
			req.IdTokenHint = "" // not ours: as if there were none
		}
	}
	if clientID != "" {
		c, err := p.store.FindClient(ctx, clientID)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, latchkey.Errorf(latchkey.EINVALID, "unknown_application",
				"The application that sent you here to sign out is not registered with Latchkey. Close this page, or go to the start page.",
				"end_session: no application with client_id %q", clientID)
		} else if err != nil {
			return nil, err
		}
		out.ClientID, out.ClientName = c.ID, c.Name
	}
	session, err := op.ValidateEndSessionRequest(ctx, req, p.op)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "invalid_logout_request",
			"The application's sign-out request is not valid: it may send you to an address it has not registered. You have not been sent there. Close this page, or go to the start page.",
			"end_session for application %q: %v", clientID, err)
	}
	// op falls back to its default redirect (none is configured) when the application gave none
	// or could not be told apart; only a registered one is followed.
	if req.PostLogoutRedirectURI != "" && session.ClientID != "" {
		out.RedirectURI = session.RedirectURI
	}
	return out, nil
}

// EndApplicationSession ends what a person holds at an application: its refresh tokens.
func (p *Provider) EndApplicationSession(r *http.Request, userID, clientID string) error {
	if userID == "" || clientID == "" {
		return nil
	}
	_, err := p.store.DeleteRefreshTokens(r.Context(), userID, clientID)
	return err
}
