package recovery

import (
	"context"
	"encoding/json"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// IDVCallback is what the provider sent back to Latchkey's callback.
type IDVCallback struct {
	State, Code string
	// Error is the provider's error parameter (access_denied when the person cancelled).
	Error string
}

// CompleteIDV takes the pending verification named by cb.State (once: a replayed callback finds
// nothing), exchanges the code with its PKCE verifier, verifies the ID token (issuer, audience,
// signature, expiry, nonce), reads verified_claims from it or else from userinfo, and matches
// them against the account the person named. On a match it issues a recovery pass through the
// directory (audited, the recovery mail queued in the same transaction) and signs the person in
// with it. Refusals say what to do next and never which attribute failed; the log has the reason.
func (s *Service) CompleteIDV(ctx context.Context, cb IDVCallback, client signin.Client, redirectURI string) (*signin.SignIn, error) {
	si, name, err := s.completeIDV(ctx, cb, client, redirectURI)
	if err != nil {
		s.recordIDVFailure(ctx, name, err, client)
	}
	return si, err
}

// MethodIDV names identity verification in the sign-in log.
const MethodIDV = "identityVerification"

// recordIDVFailure puts a refused verification in the sign-in log, for the admin: the user name
// typed, the code and the reason (which attribute or check, never a claim's value).
func (s *Service) recordIDVFailure(ctx context.Context, name string, err error, c signin.Client) {
	e := &latchkey.SignInEvent{Method: MethodIDV, Result: latchkey.SignInFailure, ErrorCode: latchkey.ErrorCode(err),
		UPN: name, IP: c.IP, UserAgent: c.UserAgent, CorrelationID: c.CorrelationID, Platform: c.Platform, PlatformVersion: c.PlatformVersion}
	if le, ok := err.(*latchkey.Error); ok {
		e.Detail = le.Detail
	}
	if u, ferr := s.Store.FindUserByUPN(ctx, name); ferr == nil {
		e.UserID, e.UPN = u.ID, u.UserPrincipalName
	}
	if rerr := s.Store.RecordSignIn(ctx, e); rerr != nil {
		s.Signin.Logger.WarnContext(ctx, "record identity verification failure", "err", rerr)
	}
}

func (s *Service) completeIDV(ctx context.Context, cb IDVCallback, client signin.Client, redirectURI string) (*signin.SignIn, string, error) {
	ch, err := s.Store.TakeChallenge(ctx, cb.State, s.now())
	if latchkey.IsKind(err, latchkey.ENOTFOUND) || (err == nil && ch.Ceremony != CeremonyIDV) {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, CodeIDVFailed,
			"This identity check has expired or was already used. Start again from the beginning.", "no pending verification for this state")
	}
	if err != nil {
		return nil, "", err
	}
	var p pendingIDV
	if err := json.Unmarshal(ch.Data, &p); err != nil {
		return nil, "", idvFailed("decode pending verification: %v", err)
	}
	if cb.Error != "" {
		return nil, p.Name, idvFailed("the provider answered %q", cb.Error)
	}
	c, err := s.idvConfig(ctx)
	if err != nil {
		return nil, p.Name, err
	}
	if !c.Enabled {
		return nil, p.Name, idvFailed("identity verification was turned off meanwhile")
	}
	vcs, err := s.exchange(ctx, c, p, cb.Code, redirectURI)
	if err != nil {
		return nil, p.Name, err
	}
	u, err := s.Store.FindUserByUPN(ctx, p.Name)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) || (err == nil && !u.Enabled) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, p.Name, err
	}
	m := matchVerified(c, u, vcs, s.now())
	if !m.ok {
		s.Signin.Logger.WarnContext(ctx, "identity verification refused", "user", p.Name, "reason", m.reason,
			"trustFramework", m.verified.TrustFramework, "assuranceLevel", m.verified.AssuranceLevel, "ip", client.IP)
		return nil, p.Name, latchkey.Errorf(latchkey.EFORBIDDEN, CodeIDVNoMatch,
			"The identity check could not confirm that you are the owner of this account, so we cannot let you in this way."+nextPath,
			"%s (trust framework %q, assurance level %q)", m.reason, m.verified.TrustFramework, m.verified.AssuranceLevel)
	}
	si, err := s.recoverVerified(ctx, c, u, m.verified, client)
	return si, p.Name, err
}

// exchange redeems the code and returns the verified claims the provider vouched for.
func (s *Service) exchange(ctx context.Context, c IDVConfig, p pendingIDV, code, redirectURI string) ([]Verified, error) {
	party, err := relyingParty(ctx, c, redirectURI, []string{oidc.ScopeOpenID})
	if err != nil {
		return nil, idvFailed("discover the provider %s: %v", c.Issuer, err)
	}
	ctx = context.WithValue(ctx, nonceKey{}, p.Nonce)
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier(p.Verifier))
	if err != nil {
		return nil, idvFailed("exchange the code or verify the ID token from %s: %v", c.Issuer, err)
	}
	raw := tokens.IDTokenClaims.Claims["verified_claims"]
	if raw == nil && tokens.AccessToken != "" {
		info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, party)
		if err != nil {
			return nil, idvFailed("read userinfo from %s: %v", c.Issuer, err)
		}
		raw = info.Claims["verified_claims"]
	}
	vcs, err := parseVerifiedClaims(raw)
	if err != nil {
		return nil, idvFailed("read verified_claims from %s: %v", c.Issuer, err)
	}
	return vcs, nil
}

// recoverVerified issues u's recovery pass as Latchkey itself, with the notification and an
// audit event that names the provider, trust framework and assurance level (no claim values),
// then signs u in with it.
func (s *Service) recoverVerified(ctx context.Context, c IDVConfig, u *latchkey.User, v Verified, client signin.Client) (*signin.SignIn, error) {
	now := s.now()
	wctx := Notify(ctx, Notice{UserID: u.ID, Path: PathIDV, By: "the identity check at " + c.DisplayName(), At: now})
	wctx = latchkey.Audit(wctx, latchkey.SystemActor, "recovery.identityVerification", "user", u.ID, u.UserPrincipalName, map[string]any{
		"provider": c.Issuer, "trustFramework": v.TrustFramework, "assuranceLevel": v.AssuranceLevel,
		"verificationProcess": v.VerificationProcess, "matched": c.Match, "ip": client.IP})
	pass, _, err := s.Dir.IssueAccessPass(wctx, latchkey.SystemActor, u.ID,
		signin.IssueOptions{Recovery: true, OneTime: true, LifetimeMinutes: IDVPassMinutes})
	if err != nil {
		return nil, err
	}
	si, err := s.Signin.SignInWithTAP(ctx, u.UserPrincipalName, pass, client)
	if err != nil {
		return nil, err
	}
	if err := s.Store.ResetThrottle(ctx, idvUserKey(u.UserPrincipalName)); err != nil {
		s.Signin.Logger.WarnContext(ctx, "reset identity verification throttle", "err", err)
	}
	return si, nil
}
