package recovery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// Identity verification (issue 13, path 4): the person names their account, Latchkey sends them
// to the provider the admin configured as a relying party (discovery, code flow with PKCE,
// state and nonce, the ID token verified by zitadel/oidc), asking for verified_claims through
// the claims parameter (OpenID Connect for Identity Assurance). On the way back the verified
// claims (from the ID token, else from userinfo) are matched against the directory record
// (matchVerified); on a match a recovery pass is issued and the person signed in with it.

// CeremonyIDV is the ceremony of the challenge that holds a pending verification.
const CeremonyIDV = "identityVerification"

// IDVWindow is how long a person has at the provider before the verification lapses.
const IDVWindow = 15 * time.Minute

// IDVPassMinutes is the lifetime of the recovery pass a match gives: the person is signed in
// with it at once, so it is only a bridge to registering a passkey.
const IDVPassMinutes = 15

// IDVHTTPClient is the client used to reach providers.
var IDVHTTPClient = &http.Client{Timeout: 15 * time.Second}

// Throttles: each verification begun counts against the name as typed and the address.
var (
	idvUserRule = latchkey.AttemptRule{Free: 5, MaxDelay: time.Hour, Drain: time.Hour}
	idvIPRule   = latchkey.AttemptRule{Free: 20, MaxDelay: time.Hour, Drain: 10 * time.Minute}
)

func idvUserKey(name string) string { return "idv:user:" + latchkey.NormalizeUPN(name) }
func idvIPKey(ip string) string     { return "idv:ip:" + ip }

// pendingIDV is what the challenge keeps between the redirect and the callback.
type pendingIDV struct {
	Name     string `json:"name"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// Refusal codes of identity verification.
const (
	CodeIDVOff      = "identity_verification_off"
	CodeIDVNoMatch  = "identity_not_matched"
	CodeIDVFailed   = "identity_verification_failed"
	CodeIDVTooMany  = "too_many_attempts"
	CodeIDVNoPerson = "invalid_user_name"
)

// nextPath is the sentence that tells a refused person where to go instead.
const nextPath = " Ask your manager for a temporary access pass, or call your helpdesk."

func idvFailed(detail string, args ...any) *latchkey.Error {
	return latchkey.Errorf(latchkey.EFORBIDDEN, CodeIDVFailed,
		"The identity check did not complete, so we could not let you in."+nextPath, detail, args...)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type nonceKey struct{}

// relyingParty discovers c's provider and returns Latchkey as its client.
func relyingParty(ctx context.Context, c IDVConfig, redirectURI string, scopes []string) (rp.RelyingParty, error) {
	return rp.NewRelyingPartyOIDC(ctx, c.Issuer, c.ClientID, c.ClientSecret, redirectURI, scopes,
		rp.WithHTTPClient(IDVHTTPClient),
		rp.WithVerifierOpts(
			rp.WithNonce(func(ctx context.Context) string { n, _ := ctx.Value(nonceKey{}).(string); return n }),
			rp.WithIssuedAtOffset(5*time.Second),
			rp.WithSupportedSigningAlgorithms("RS256", "ES256", "EdDSA", "PS256"),
		))
}

// IDVEnabled reports whether identity verification is on, and names the provider.
func (s *Service) IDVEnabled(ctx context.Context) (bool, string, error) {
	c, err := s.idvConfig(ctx)
	return c.Enabled, c.DisplayName(), err
}

// BeginIDV counts an attempt by the person who typed name from client, stores the pending
// verification and returns the provider's authorization URL to send them to; redirectURI is
// Latchkey's callback. Nothing tells whether name exists.
func (s *Service) BeginIDV(ctx context.Context, name string, client signin.Client, redirectURI string) (string, error) {
	c, err := s.idvConfig(ctx)
	if err != nil {
		return "", err
	}
	if !c.Enabled {
		return "", latchkey.Errorf(latchkey.EFORBIDDEN, CodeIDVOff, "Identity verification is not set up here."+nextPath,
			"identity verification is turned off (latchkey recovery idv set, or /admin/recovery)")
	}
	if err := latchkey.ValidateUserPrincipalName(name); err != nil {
		return "", latchkey.Errorf(latchkey.EINVALID, CodeIDVNoPerson, "Type your user name, like ada@example.com.", "user name %q", name)
	}
	if err := s.reserveIDV(ctx, name, client); err != nil {
		s.recordIDVFailure(ctx, name, err, client)
		return "", err
	}
	claims, scopes := s.claimsRequest(c)
	party, err := relyingParty(ctx, c, redirectURI, scopes)
	if err != nil {
		return "", idvFailed("discover the provider %s: %v", c.Issuer, err)
	}
	p := pendingIDV{Name: name, Nonce: randomToken(), Verifier: randomToken()}
	data, _ := json.Marshal(p)
	state := randomToken()
	if err := s.Store.CreateChallenge(ctx, &latchkey.Challenge{ID: state, Ceremony: CeremonyIDV, Data: data,
		ExpiresAt: s.now().Add(IDVWindow)}); err != nil {
		return "", fmt.Errorf("store pending verification: %w", err)
	}
	return rp.AuthURL(state, party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(p.Verifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", p.Nonce)), rp.AuthURLOpt(rp.WithURLParam("claims", claims))), nil
}

// reserveIDV counts one verification against the person and the address, or refuses it.
func (s *Service) reserveIDV(ctx context.Context, name string, client signin.Client) error {
	now := s.now()
	for _, k := range []struct {
		key  string
		rule latchkey.AttemptRule
	}{{idvUserKey(name), idvUserRule}, {idvIPKey(client.IP), idvIPRule}} {
		th, ok, err := s.Store.ReserveAttempt(ctx, k.key, now, k.rule)
		if err != nil {
			return err
		}
		if !ok {
			_, next := k.rule.Admits(th, now)
			wait := max(time.Minute, next.Sub(now).Round(time.Minute))
			e := latchkey.Errorf(latchkey.ETOOMANYREQUEST, CodeIDVTooMany,
				fmt.Sprintf("Too many identity checks. Wait %d minutes, then try again.%s", int(wait/time.Minute), nextPath),
				"%d identity verifications counted on %s", th.FailuresAt(now, k.rule.Drain), k.key)
			e.RetryAfter = wait
			return e
		}
	}
	return nil
}

// claimsRequest returns the claims parameter and scopes. For a "bring your own IDV" provider
// (trust framework IDV-DELEGATED) it asks for that framework and level VERIFIED, essential, and
// the identity_assurance scope. It never sends the directory's values: without pushed
// authorization requests (which zitadel/oidc's client lacks) they would travel in the address
// the browser is sent to, shown to whoever typed the user name; so the provider must return
// the values it verified, and Latchkey compares them.
func (s *Service) claimsRequest(c IDVConfig) (string, []string) {
	names := map[string]any{}
	for _, attr := range c.Match {
		names[claimOf[attr]] = map[string]any{"essential": true, "purpose": "Account recovery"}
	}
	verification := map[string]any{"trust_framework": nil, "assurance_level": nil, "time": nil}
	scopes := []string{oidc.ScopeOpenID}
	if len(c.TrustFrameworks) == 1 && c.TrustFrameworks[0] == DefaultIDVTrustFramework {
		verification = map[string]any{"trust_framework": map[string]any{"value": DefaultIDVTrustFramework, "essential": true},
			"assurance_level": map[string]any{"value": "VERIFIED", "essential": true}, "time": nil}
		scopes = append(scopes, "identity_assurance")
	}
	vc := map[string]any{"verification": verification, "claims": names}
	b, _ := json.Marshal(map[string]any{"id_token": map[string]any{"verified_claims": vc}, "userinfo": map[string]any{"verified_claims": vc}})
	return string(b), scopes
}
