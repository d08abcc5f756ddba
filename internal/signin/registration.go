package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// MethodPasskeyRegistration marks refused registrations in the sign-in log, where the admin's
// view of a user shows them with their precise reason.
const MethodPasskeyRegistration = "passkeyRegistration"

// policyFor returns the methods policy and what it needs to know about user.
func (s *Service) policyFor(ctx context.Context, user *latchkey.User) (policy.MethodsPolicy, policy.User, error) {
	pol, err := s.MethodsPolicy(ctx)
	if err != nil {
		return pol, policy.User{}, err
	}
	pu, err := s.policyUser(ctx, user)
	return pol, pu, err
}

// MayRegister reports, as an error, whether the session may register security info: a session
// made with a pass may (it exists for that); another strong sign-in (a passkey, or password +
// TOTP) only within RecentSignIn; a password alone never (DESIGN §5).
func (s *Service) MayRegister(sess *latchkey.Session) error {
	if sess.HasMethod(latchkey.MethodTAP) {
		return nil
	}
	if !strongSignIn(sess) {
		return errStrongSignInRequired
	}
	if s.now().Sub(sess.AuthenticatedAt) <= RecentSignIn {
		return nil
	}
	if !sess.HasMethod(latchkey.MethodPasskey) {
		return latchkey.Errorf(latchkey.EUNAUTHORIZED, "signin_again_required",
			"For your safety, sign out and sign in again with your password and authenticator app code, then do this within 5 minutes.",
			"registration needs a sign-in within the last %s; this password + TOTP session signed in at %s", RecentSignIn, sess.AuthenticatedAt.Format(timeFormat))
	}
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, "reauthentication_required",
		"For your safety, confirm it's you with an existing passkey before adding another.",
		"registration needs a sign-in within the last %s; this session signed in at %s", RecentSignIn, sess.AuthenticatedAt.Format(timeFormat))
}

// BeginRegistration starts registering a passkey for the session's user. The options exclude the
// user's existing passkeys, so the same authenticator cannot be registered twice.
func (s *Service) BeginRegistration(ctx context.Context, sess *latchkey.Session, user *latchkey.User) (*protocol.CredentialCreation, error) {
	if err := s.MayRegister(sess); err != nil {
		return nil, err
	}
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	if refusal := policy.MayRegister(pol, pu); refusal != nil {
		return nil, refusal
	}
	pks, err := s.Store.ListPasskeysByUser(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	wu := passkey.User{User: user, Passkeys: pks}
	creation, sd, err := s.WebAuthn.BeginRegistration(wu, webauthn.WithExclusions(wu.Descriptors()))
	if err != nil {
		return nil, fmt.Errorf("begin registration: %w", err)
	}
	if err := s.saveChallenge(ctx, sd, latchkey.CeremonyRegistration, user.ID, sess.ID); err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishRegistration verifies a RegistrationResponseJSON against the challenge it answers and
// stores the new passkey.
func (s *Service) FinishRegistration(ctx context.Context, sess *latchkey.Session, user *latchkey.User, body []byte, c Client) (*latchkey.Passkey, error) {
	defer s.Metrics.ObserveCeremony(metrics.Registration, time.Now())
	if err := s.MayRegister(sess); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, refusal(err, "registration_invalid")
	}
	ch, sd, err := s.takeChallenge(ctx, parsed.Response.CollectedClientData.Challenge, latchkey.CeremonyRegistration)
	if err != nil {
		return nil, err
	}
	if ch.SessionID != sess.ID || ch.UserID != user.ID {
		return nil, latchkey.Errorf(latchkey.EINVALID, "challenge_mismatch",
			"This request was started in another sign-in. Please start again.", "registration challenge belongs to another session")
	}
	pks, err := s.Store.ListPasskeysByUser(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	cred, err := s.WebAuthn.CreateCredential(passkey.User{User: user, Passkeys: pks}, *sd, parsed)
	if err != nil {
		return nil, refusal(err, "registration_invalid")
	}
	pk := passkey.NewPasskey(user.ID, cred)
	pk.CreatedAt = s.now()
	md, err := s.metadata(ctx)
	if err != nil {
		return nil, err
	}
	trustDetail := ""
	pk.AttestationTrust, trustDetail = passkey.Trust(cred, md)
	if name := md.Name(pk.AAGUID); name != "" {
		pk.Provider = name
		pk.Nickname = passkey.DefaultNickname(pk)
	}
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	if v := policy.EvaluatePasskey(pol, pu, policy.PasskeyOf(pk, pk.UserVerified), policy.Registration); !v.Allowed {
		v.Refusal.Detail += "; attestation: " + trustDetail
		s.recordFailure(ctx, MethodPasskeyRegistration, user, pk, v.Refusal, c)
		return nil, v.Refusal
	}
	ctx = latchkey.Audit(ctx, selfActor(user), "passkey.register", "user", user.ID, user.UserPrincipalName, map[string]any{
		"passkeyId": pk.ID, "nickname": pk.Nickname, "aaguid": pk.AAGUID, "provider": pk.Provider, "kind": pk.Kind})
	ctx = PasskeyMail(ctx, MailKindPasskeyAdded, user.ID, pk, registrant(sess), pk.CreatedAt)
	if err := s.Store.CreatePasskey(ctx, pk); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "passkey_already_registered",
			"This passkey is already registered. You can use it to sign in.", "credential id already stored")
	} else if err != nil {
		return nil, err
	}
	s.Logger.InfoContext(ctx, "passkey registered", "user", user.UserPrincipalName, "passkeyId", pk.ID,
		"aaguid", pk.AAGUID, "provider", pk.Provider, "kind", pk.Kind, "format", pk.AttestationFormat)
	return pk, nil
}

func (s *Service) saveChallenge(ctx context.Context, sd *webauthn.SessionData, ceremony, userID, sessionID string) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("encode session data: %w", err)
	}
	// The store checks expiry against the service clock, so the deadline is counted on it too;
	// go-webauthn sets sd.Expires on the wall clock.
	timeout := passkey.CeremonyTimeout
	if !sd.Expires.IsZero() {
		timeout = time.Until(sd.Expires)
	}
	expires := s.now().Add(timeout)
	return s.Store.CreateChallenge(ctx, &latchkey.Challenge{ID: sd.Challenge, Ceremony: ceremony,
		UserID: userID, SessionID: sessionID, Data: data, ExpiresAt: expires.UTC()})
}

// takeChallenge consumes the challenge a response answers: each challenge works once.
func (s *Service) takeChallenge(ctx context.Context, id, ceremony string) (*latchkey.Challenge, *webauthn.SessionData, error) {
	if id == "" || len(id) > 256 {
		return nil, nil, errChallengeNotFound
	}
	ch, err := s.Store.TakeChallenge(ctx, id, s.now())
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil, errChallengeNotFound
	} else if err != nil {
		return nil, nil, err
	}
	if ch.Ceremony != ceremony {
		return nil, nil, latchkey.Errorf(latchkey.EINVALID, "challenge_mismatch",
			"This request does not match what was started. Please start again.", "challenge was issued for %s, used for %s", ch.Ceremony, ceremony)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(ch.Data, &sd); err != nil {
		return nil, nil, fmt.Errorf("decode session data: %w", err)
	}
	return ch, &sd, nil
}

// refusal turns a go-webauthn verification error into a refusal with a plain message.
func refusal(err error, fallback string) error {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return latchkey.Errorf(latchkey.EINVALID, fallback, "Your device's answer could not be checked. Please try again.", "%v", err)
	}
	detail := pe.Details
	if pe.DevInfo != "" {
		detail += ": " + pe.DevInfo
	}
	text := pe.Details + " " + pe.DevInfo
	switch {
	case strings.Contains(text, "User verification required"):
		return latchkey.Errorf(latchkey.EINVALID, "user_verification_required",
			"Your device did not confirm it's you (with your fingerprint, face or PIN). Try again and unlock it when asked.", "%s", detail)
	case strings.Contains(text, "validating origin"), strings.Contains(text, "cross origin"), strings.Contains(text, "RP Hash"), strings.Contains(text, "rpIdHash"):
		return latchkey.Errorf(latchkey.EINVALID, "origin_mismatch",
			"This sign-in page's address does not match your organisation's. Use the address IT gave you.", "%s", detail)
	case strings.Contains(text, "validating challenge"):
		return errChallengeNotFound
	case strings.Contains(text, "ceremony type"):
		return latchkey.Errorf(latchkey.EINVALID, "challenge_mismatch", "This request does not match what was started. Please start again.", "%s", detail)
	}
	return latchkey.Errorf(latchkey.EINVALID, fallback, "Your device's answer could not be checked. Please try again.", "%s", detail)
}
