package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Paths the provider serves (zitadel's defaults), relative to the issuer. Requests to them come
// from applications, across origins, so the server exempts them from its cross-origin checks.
var Paths = []string{"/.well-known/openid-configuration", "/authorize", "/authorize/", "/oauth/", "/userinfo",
	"/revoke", "/end_session", "/keys"}

// CrossOriginPaths are those of Paths that take cross-origin POSTs from applications.
var CrossOriginPaths = []string{"/authorize", "/oauth/", "/userinfo", "/revoke", "/end_session"}

// Provider is the OpenID Connect provider.
type Provider struct {
	store   latchkey.Store
	issuer  string
	op      *op.Provider
	storage *storage
	// Strengths returns every authentication strength by id, custom ones included, so that
	// applications may name any of them in acr_values. Nil: the built-in strengths only.
	Strengths func(ctx context.Context) (map[string]policy.Strength, error)
}

// strengths returns every strength by id.
func (p *Provider) strengths(ctx context.Context) (map[string]policy.Strength, error) {
	if p.Strengths == nil {
		return policy.BuiltInStrengths(), nil
	}
	return p.Strengths(ctx)
}

// AuthRequest returns a pending authorization request; ENOTFOUND when it has expired or is
// unknown.
func (p *Provider) AuthRequest(ctx context.Context, id string) (*latchkey.AuthRequest, error) {
	return p.store.FindAuthRequest(ctx, id, time.Now())
}

// LoginRequired answers an authorization request with prompt=none that would need the person to
// sign in: the browser goes back to the application with error=login_required, as OpenID
// Connect Core 3.1.2.6 says.
func (p *Provider) LoginRequired(w http.ResponseWriter, r *http.Request, req *latchkey.AuthRequest) {
	op.AuthRequestError(w, r, &authRequest{req}, oidc.ErrLoginRequired(), p.op)
}

// UnmetAuthenticationRequirements is the OpenID Connect error code (Core 1.0 §3.1.2.6, "Unmet
// Authentication Requirements") for a person who cannot sign in as the application's acr_values ask.
const UnmetAuthenticationRequirements = "unmet_authentication_requirements"

// GiveUp answers req, which the person has given up on, by sending the browser back to the
// application's registered redirect URI with the request's state and
// error=unmet_authentication_requirements when the application asked for acr_values, or
// error=access_denied otherwise. The request is deleted first, so it cannot be completed later.
func (p *Provider) GiveUp(w http.ResponseWriter, r *http.Request, req *latchkey.AuthRequest) error {
	if err := p.store.DeleteAuthRequest(r.Context(), req.ID); err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return err
	}
	e := oidc.ErrAccessDenied().WithDescription("The person went back to the application without signing in.")
	if len(req.ACRValues) > 0 {
		e = &oidc.Error{ErrorType: UnmetAuthenticationRequirements,
			Description: "The person cannot sign in with what the requested acr_values ask for."}
	}
	op.AuthRequestError(w, r, &authRequest{req}, e, p.op)
	return nil
}

// New returns a provider whose issuer is the public URL. An http:// issuer is allowed only for
// localhost, for development.
func New(store latchkey.Store, issuer string, logger *slog.Logger) (*Provider, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", issuer, err)
	}
	insecure := u.Scheme == "http" && u.Hostname() == "localhost"
	st := &storage{store: store, devMode: insecure, now: time.Now, logger: logger, keys: map[string]*rsa.PrivateKey{}}
	// The JWKS publishes a key from the first start, before any token is signed.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.ensureSigningKey(ctx); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	cfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		SupportedScopes:       supportedScopes,
		SupportedClaims:       supportedClaims,
	}
	if _, err := rand.Read(cfg.CryptoKey[:]); err != nil {
		return nil, err
	}
	prov := &Provider{store: store, issuer: issuer, storage: st}
	opts := []op.Option{op.WithLogger(logger), op.WithHttpInterceptors(prov.intercept)}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	if prov.op, err = op.NewProvider(cfg, st, op.StaticIssuer(issuer), opts...); err != nil {
		return nil, err
	}
	return prov, nil
}

// CompleteLogin records that the session's person signed in for the authorization request, with
// acr and amr from how they signed in (ac, with used the passkey it used, if any; DESIGN §5),
// and that sess completed it, and returns where to send the browser next: the provider's
// callback, which redirects to the application with a code (ReleaseCode). When the request's acr_values are not met it returns a *StepUpError
// and leaves the request open.
func (p *Provider) CompleteLogin(ctx context.Context, authRequestID string, sess *latchkey.Session, ac policy.AuthenticationContext, used *latchkey.Passkey) (string, error) {
	req, err := p.store.FindAuthRequest(ctx, authRequestID, time.Now())
	if err != nil {
		return "", err
	}
	// The application's acr_values: met by any one of them, or a *StepUpError.
	if err := p.checkACRValues(ctx, req.ACRValues, sess.UserID, ac, used); err != nil {
		return "", err
	}
	acr, amr := policy.AssuranceOf(ac)
	if err := p.store.CompleteAuthRequest(ctx, authRequestID, sess.ID, sess.UserID, sess.AuthenticatedAt, amr, acr); err != nil {
		return "", err
	}
	return op.AuthCallbackURL(p.op)(op.ContextWithIssuer(ctx, p.issuer), authRequestID), nil
}

// Issuer is the provider's issuer URL: what applications configure, with the discovery document
// at Issuer + "/.well-known/openid-configuration".
func (p *Provider) Issuer() string { return p.issuer }
