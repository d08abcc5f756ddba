package signin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// BeginSignIn starts a passkey sign-in. Without a username it is usernameless (and usable for
// autofill); with one it lists that user's passkeys. An unknown username gets usernameless
// options, so the answer does not tell who has an account. It writes nothing: the challenge
// is self-contained (challenge.go).
func (s *Service) BeginSignIn(ctx context.Context, username string) (*protocol.CredentialAssertion, error) {
	var (
		user *latchkey.User
		pks  []*latchkey.Passkey
		err  error
	)
	if username != "" {
		user, err = s.Store.FindUserByUPN(ctx, username)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			user = nil
		} else if err != nil {
			return nil, err
		}
		if user != nil {
			if pks, err = s.Store.ListPasskeysByUser(ctx, user.ID); err != nil {
				return nil, err
			}
		}
	}
	userID := ""
	if len(pks) > 0 {
		userID = user.ID
	}
	challenge, _, err := s.newSignInChallenge(ctx, userID)
	if err != nil {
		return nil, err
	}
	opts := []webauthn.LoginOption{webauthn.WithUserVerification(protocol.VerificationRequired), webauthn.WithChallenge(challenge)}
	var assertion *protocol.CredentialAssertion
	if userID != "" {
		assertion, _, err = s.WebAuthn.BeginLogin(passkey.User{User: user, Passkeys: pks}, opts...)
	} else {
		assertion, _, err = s.WebAuthn.BeginDiscoverableLogin(opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("begin sign-in: %w", err)
	}
	return assertion, nil
}

// FinishSignIn verifies an AuthenticationResponseJSON and, in one store transaction, records
// the challenge's use, advances the passkey's sign count (refusing and flagging a counter that
// went backwards), and writes the session and the sign-in event.
func (s *Service) FinishSignIn(ctx context.Context, body []byte, c Client) (*SignIn, error) {
	defer s.Metrics.ObserveCeremony(metrics.Authentication, time.Now())
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, refusal(err, "assertion_invalid")
	}
	ch, err := s.openSignInChallenge(ctx, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		s.recordFailure(ctx, latchkey.MethodPasskey, nil, nil, err, c)
		return nil, err
	}
	// One query reads the passkey, its owner and their groups, and the policy and metadata
	// versions: the policy applies as stored now, on every node.
	subject, err := s.Store.FindPasskeyForSignIn(ctx, parsed.RawID, MethodsPolicyKey, passkey.MDSVersionKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		err = latchkey.Errorf(latchkey.EUNAUTHORIZED, "passkey_not_registered",
			"This passkey isn't registered here. It may have been removed. Choose another passkey, or ask IT for a temporary access pass to add a new one.",
			"no passkey with credential id %x", parsed.RawID)
		s.recordFailure(ctx, latchkey.MethodPasskey, nil, nil, err, c)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	pk, user := subject.Passkey, subject.User
	fail := func(err error) (*SignIn, error) {
		s.recordFailure(ctx, latchkey.MethodPasskey, user, pk, err, c)
		return nil, err
	}
	handle := passkey.UserHandle(user.ID)
	if len(parsed.Response.UserHandle) > 0 && !bytes.Equal(parsed.Response.UserHandle, handle) {
		return fail(latchkey.Errorf(latchkey.EUNAUTHORIZED, "user_handle_mismatch",
			"This passkey belongs to a different account. Choose another passkey.", "user handle does not match the owner of passkey %s", pk.ID))
	}
	if ch.UserID != "" && ch.UserID != user.ID {
		return fail(latchkey.Errorf(latchkey.EUNAUTHORIZED, "passkey_not_for_user",
			"This passkey belongs to a different account than the one you typed. Choose another passkey.", "challenge was for user %s, passkey %s belongs to %s", ch.UserID, pk.ID, user.ID))
	}
	if pk.PossibleClone {
		return fail(errPossibleClone(pk))
	}
	// The challenge was checked above (and is known to belong to this user when it names one),
	// so go-webauthn gets the session data the options stood for.
	sd := webauthn.SessionData{Challenge: parsed.Response.CollectedClientData.Challenge, Expires: ch.Expires,
		UserVerification: protocol.VerificationRequired}
	wu := passkey.User{User: user, Passkeys: []*latchkey.Passkey{pk}}
	var cred *webauthn.Credential
	if ch.UserID != "" {
		sd.UserID = handle
		cred, err = s.WebAuthn.ValidateLogin(wu, sd, parsed)
	} else {
		_, cred, err = s.WebAuthn.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return wu, nil }, sd, parsed)
	}
	if err != nil {
		return fail(refusal(err, "assertion_invalid"))
	}
	if !user.Enabled {
		return fail(errAccountDisabled(user))
	}
	// Kinds and key restrictions apply at every sign-in, so that a change of policy stops the
	// passkeys it no longer allows. Checked after the signature, so that only the passkey's
	// holder learns the reason.
	pol, err := s.MethodsPolicyFrom(subject.Settings[MethodsPolicyKey])
	if err != nil {
		return nil, err
	}
	pu := policy.UserOf(user, subject.GroupIDs)
	facts := policy.PasskeyOf(pk, parsed.Response.AuthenticatorData.Flags.HasUserVerified())
	// A model revoked in metadata imported since the registration is refused now too.
	if revoked, err := s.revokedNow(ctx, pk, subject.Settings[passkey.MDSVersionKey]); err != nil {
		return nil, err
	} else if revoked {
		facts.Attestation = policy.AttestationRevoked
	}
	if v := policy.EvaluatePasskey(pol, pu, facts, policy.SignIn); !v.Allowed {
		return fail(v.Refusal)
	}
	if cred.Authenticator.CloneWarning {
		// A counter that did not advance is either a replay of an answer already accepted (its
		// challenge is used: refuse, flag nothing) or a second copy of the key (flag it).
		if err := s.Store.MarkChallengeUsed(ctx, sd.Challenge, ch.Expires); errors.Is(err, latchkey.ErrChallengeUsed) {
			return fail(errChallengeNotFound)
		} else if err != nil {
			return nil, err
		}
		if ferr := s.Store.FlagPasskeyPossibleClone(ctx, pk.ID); ferr != nil {
			return nil, ferr
		}
		s.Logger.WarnContext(ctx, "passkey sign count went backwards; flagged as possibly cloned", "user", user.UserPrincipalName,
			"passkeyId", pk.ID, "stored", pk.SignCount, "received", parsed.Response.AuthenticatorData.Counter)
		return fail(errPossibleClone(pk))
	}
	now := s.now()
	acr, amr := policy.AssuranceOf(policy.AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
		Passkey: &policy.PresentedPasskey{Kind: pk.Kind, AAGUID: pk.AAGUID, Attestation: pk.AttestationTrust, UserVerified: facts.UserVerified}})
	si := s.newSession(user, []string{latchkey.MethodPasskey}, now.Add(SessionLifetime), c, func(sess *latchkey.Session) {
		sess.PasskeyID = pk.ID
	})
	err = s.Store.CompletePasskeySignIn(ctx, &latchkey.PasskeySignIn{
		ChallengeID: sd.Challenge, ChallengeExpiresAt: ch.Expires,
		PasskeyID: pk.ID, SignCount: cred.Authenticator.SignCount, UsedAt: now, Platform: c.platformName(),
		Session: si.Session,
		Event: s.signInEvent(&latchkey.SignInEvent{UserID: user.ID, UPN: user.UserPrincipalName, Method: latchkey.MethodPasskey,
			PasskeyID: pk.ID, PasskeyKind: pk.Kind, AAGUID: pk.AAGUID, Result: latchkey.SignInSuccess, ACR: acr, AMR: amr}, c),
	})
	switch {
	case errors.Is(err, latchkey.ErrChallengeUsed):
		return fail(errChallengeNotFound)
	case latchkey.IsKind(err, latchkey.ECONFLICT):
		return fail(latchkey.Errorf(latchkey.ECONFLICT, "assertion_replayed",
			"This sign-in was already used. Please sign in again.", "sign count %d for passkey %s was already used by a concurrent sign-in", cred.Authenticator.SignCount, pk.ID))
	case err != nil:
		return nil, err
	}
	s.Metrics.SignIn(latchkey.MethodPasskey, latchkey.SignInSuccess) // recorded by CompletePasskeySignIn
	pk.SignCount, pk.LastUsedAt = cred.Authenticator.SignCount, &now
	si.Passkey = pk
	return si, nil
}

// revokedNow reports whether the imported metadata (if any) now gives pk's authenticator model an
// undesired status, such as REVOKED. The AAGUID is what the stored registration claimed.
func (s *Service) revokedNow(ctx context.Context, pk *latchkey.Passkey, mdsVersion []byte) (bool, error) {
	md, err := s.metadataAt(ctx, mdsVersion)
	if err != nil || md == nil {
		return false, err
	}
	id, err := uuid.Parse(pk.AAGUID)
	if err != nil || id == uuid.Nil {
		return false, nil
	}
	entry, err := md.Provider().GetEntry(ctx, id)
	if err != nil || entry == nil {
		return false, nil
	}
	return md.Provider().ValidateStatusReports(ctx, entry.StatusReports) != nil, nil
}

func errPossibleClone(pk *latchkey.Passkey) error {
	return latchkey.Errorf(latchkey.EFORBIDDEN, "possible_clone",
		"This passkey has been blocked because it may have been copied. Sign in with another passkey, or ask IT for a temporary access pass, and remove this one.",
		"passkey %s (%s) reported a sign count that did not advance past %d; flagged as possibly cloned", pk.ID, pk.Nickname, pk.SignCount)
}
