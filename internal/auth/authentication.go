package auth

import (
	"bytes"
	"context"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
)

// BeginSignIn starts a passkey sign-in. Without a username it is usernameless (and usable for
// autofill); with one it lists that user's passkeys. An unknown username gets usernameless
// options, so the answer does not tell who has an account.
func (s *Service) BeginSignIn(ctx context.Context, username string) (*protocol.CredentialAssertion, error) {
	var (
		assertion *protocol.CredentialAssertion
		sd        *webauthn.SessionData
		userID    string
		err       error
	)
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	if username != "" {
		user, ferr := s.Store.FindUserByUPN(ctx, username)
		if ferr != nil && !latchkey.IsKind(ferr, latchkey.ENOTFOUND) {
			return nil, ferr
		}
		if user != nil {
			pks, perr := s.Store.ListPasskeysByUser(ctx, user.ID)
			if perr != nil {
				return nil, perr
			}
			if len(pks) > 0 {
				assertion, sd, err = s.WebAuthn.BeginLogin(passkey.User{User: user, Passkeys: pks}, uv)
				userID = user.ID
			}
		}
	}
	if assertion == nil && err == nil {
		assertion, sd, err = s.WebAuthn.BeginDiscoverableLogin(uv)
	}
	if err != nil {
		return nil, fmt.Errorf("begin sign-in: %w", err)
	}
	if err := s.saveChallenge(ctx, sd, latchkey.CeremonyAuthentication, userID, ""); err != nil {
		return nil, err
	}
	return assertion, nil
}

// FinishSignIn verifies an AuthenticationResponseJSON, advances the passkey's sign count
// (refusing and flagging a counter that went backwards) and starts a session.
func (s *Service) FinishSignIn(ctx context.Context, body []byte, c Client) (*SignIn, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, refusal(err, "assertion_invalid")
	}
	ch, sd, err := s.takeChallenge(ctx, parsed.Response.CollectedClientData.Challenge, latchkey.CeremonyAuthentication)
	if err != nil {
		s.recordFailure(ctx, latchkey.MethodPasskey, nil, nil, err, c)
		return nil, err
	}
	pk, err := s.Store.FindPasskeyByCredentialID(ctx, parsed.RawID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		err = latchkey.Errorf(latchkey.EUNAUTHORIZED, "passkey_not_registered",
			"This passkey isn't registered here. It may have been removed. Choose another passkey, or ask IT for a temporary access pass to add a new one.",
			"no passkey with credential id %x", parsed.RawID)
		s.recordFailure(ctx, latchkey.MethodPasskey, nil, nil, err, c)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	user, err := s.Store.FindUserByID(ctx, pk.UserID)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*SignIn, error) {
		s.recordFailure(ctx, latchkey.MethodPasskey, user, pk, err, c)
		return nil, err
	}
	if len(parsed.Response.UserHandle) > 0 && !bytes.Equal(parsed.Response.UserHandle, passkey.UserHandle(user.ID)) {
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
	wu := passkey.User{User: user, Passkeys: []*latchkey.Passkey{pk}}
	var cred *webauthn.Credential
	if ch.UserID != "" {
		// go-webauthn refuses a username-first answer unless the user owns every credential the
		// options allowed, so it needs all of the user's passkeys, not just the one used.
		if wu.Passkeys, err = s.Store.ListPasskeysByUser(ctx, user.ID); err != nil {
			return nil, err
		}
		cred, err = s.WebAuthn.ValidateLogin(wu, *sd, parsed)
	} else {
		_, cred, err = s.WebAuthn.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return wu, nil }, *sd, parsed)
	}
	if err != nil {
		return fail(refusal(err, "assertion_invalid"))
	}
	if !user.Enabled {
		return fail(errAccountDisabled(user))
	}
	if cred.Authenticator.CloneWarning {
		if ferr := s.Store.FlagPasskeyPossibleClone(ctx, pk.ID); ferr != nil {
			return nil, ferr
		}
		s.Logger.WarnContext(ctx, "passkey sign count went backwards; flagged as possibly cloned", "user", user.UserPrincipalName,
			"passkeyId", pk.ID, "stored", pk.SignCount, "received", parsed.Response.AuthenticatorData.Counter)
		return fail(errPossibleClone(pk))
	}
	now := s.now()
	if err := s.Store.RecordPasskeyUse(ctx, pk.ID, cred.Authenticator.SignCount, now, platformOf(c.UserAgent)); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return fail(latchkey.Errorf(latchkey.ECONFLICT, "assertion_replayed",
			"This sign-in was already used. Please sign in again.", "sign count %d for passkey %s was already used by a concurrent sign-in", cred.Authenticator.SignCount, pk.ID))
	} else if err != nil {
		return nil, err
	}
	pk.SignCount, pk.LastUsedAt = cred.Authenticator.SignCount, &now
	si, err := s.startSession(ctx, user, []string{latchkey.MethodPasskey}, now.Add(SessionLifetime), c, func(sess *latchkey.Session) {
		sess.PasskeyID = pk.ID
	})
	if err != nil {
		return nil, err
	}
	si.Passkey = pk
	s.recordSignIn(ctx, &latchkey.SignInEvent{UserID: user.ID, UPN: user.UserPrincipalName, Method: latchkey.MethodPasskey,
		PasskeyID: pk.ID, PasskeyKind: pk.Kind, AAGUID: pk.AAGUID, Result: latchkey.SignInSuccess}, c)
	return si, nil
}

func errPossibleClone(pk *latchkey.Passkey) error {
	return latchkey.Errorf(latchkey.EFORBIDDEN, "possible_clone",
		"This passkey has been blocked because it may have been copied. Sign in with another passkey, or ask IT for a temporary access pass, and remove this one.",
		"passkey %s (%s) reported a sign count that did not advance past %d; flagged as possibly cloned", pk.ID, pk.Nickname, pk.SignCount)
}
