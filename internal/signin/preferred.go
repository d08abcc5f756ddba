package signin

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// PreferredMethods returns the ways to offer someone who typed upn to sign in, in the
// system-preferred order of DESIGN §5: a temporary access pass when they have an active one,
// then a passkey, then a password (an authenticator app code follows the password when they have
// one: TOTP is never a sign-in on its own).
//
// So that the answer tells a stranger as little as possible, it depends on the person only where
// DESIGN demands it: a passkey is always offered, first when they have one and last otherwise;
// a password is offered whenever the password method is on for anyone, whether or not this
// person exists or has one (a wrong user name and a wrong password get the same answer); an
// unknown user name gets exactly what a known person without a passkey or pass gets. What
// remains visible is whether a person has a passkey (its place) or an active pass (the pass page).
func (s *Service) PreferredMethods(ctx context.Context, upn string) ([]string, error) {
	pol, err := s.MethodsPolicy(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	hasPasskey := false
	upn = strings.TrimSpace(upn)
	user, err := s.Store.FindUserByUPN(ctx, upn)
	if err == nil && upn != "" && user.Enabled {
		pu, err := s.policyUser(ctx, user)
		if err != nil {
			return nil, err
		}
		if ok, _ := policy.MethodEnabledForUser(pol, latchkey.MethodTAP, pu); ok {
			ap, err := s.Store.FindAccessPassByUser(ctx, user.ID)
			if err == nil && ap.State(s.now()) == latchkey.TAPUsable {
				out = append(out, latchkey.MethodTAP)
			} else if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return nil, err
			}
		}
		if ok, _ := policy.MethodEnabledForUser(pol, latchkey.MethodPasskey, pu); ok {
			pks, err := s.Store.ListPasskeysByUser(ctx, user.ID)
			if err != nil {
				return nil, err
			}
			hasPasskey = len(pks) > 0
		}
	} else if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, err
	}
	if hasPasskey {
		out = append(out, latchkey.MethodPasskey)
	}
	if pol.Password.State == policy.StateEnabled {
		out = append(out, latchkey.MethodPassword)
	}
	if !hasPasskey {
		out = append(out, latchkey.MethodPasskey)
	}
	return out, nil
}

// Nudge is the offer, after a sign-in without a passkey, to create one (the registration
// campaign of the methods policy).
type Nudge struct {
	// CanRegister reports whether this session may create a passkey now (a strong sign-in:
	// password + TOTP). A password-alone session may not.
	CanRegister bool
	// CanSetUpTOTP reports, for a password-alone session, whether the person may set up an
	// authenticator app now, the step that lets them create a passkey next time.
	CanSetUpTOTP bool
	// SnoozesLeft is how many more times the person may say "Not now"; CanSnooze whether they
	// may now. A session that cannot create a passkey may always go on: nothing was offered.
	SnoozesLeft int
	CanSnooze   bool
}

// RegistrationNudge returns the nudge to show after sess's sign-in, or nil: it is shown after a
// sign-in with a password (with or without TOTP) by someone who has no passkey, when the
// campaign is on and they may register a passkey themselves.
func (s *Service) RegistrationNudge(ctx context.Context, sess *latchkey.Session, user *latchkey.User) (*Nudge, error) {
	if !sess.HasMethod(latchkey.MethodPassword) || sess.HasMethod(latchkey.MethodPasskey) || sess.HasMethod(latchkey.MethodTAP) {
		return nil, nil
	}
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	if pol.RegistrationCampaign.State != policy.StateEnabled || policy.MayRegister(pol, pu) != nil {
		return nil, nil
	}
	pks, err := s.Store.ListPasskeysByUser(ctx, user.ID)
	if err != nil || len(pks) > 0 {
		return nil, err
	}
	creds, err := s.Store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	n := &Nudge{CanRegister: s.MayRegister(sess) == nil}
	n.SnoozesLeft = max(0, pol.RegistrationCampaign.SnoozesAllowed-creds.NudgeSnoozes)
	n.CanSnooze = n.SnoozesLeft > 0 || !n.CanRegister
	if !n.CanRegister {
		totpOn, _ := policy.MethodEnabledForUser(pol, latchkey.MethodTOTP, pu)
		n.CanSetUpTOTP = totpOn && s.mayEnrolTOTP(sess, creds) == nil
	}
	return n, nil
}

// SnoozeRegistrationNudge records a "Not now". It is refused once the snoozes are used up, and
// not counted for a session that could not have created a passkey.
func (s *Service) SnoozeRegistrationNudge(ctx context.Context, sess *latchkey.Session, user *latchkey.User) error {
	n, err := s.RegistrationNudge(ctx, sess, user)
	if err != nil || n == nil || !n.CanRegister {
		return err
	}
	if !n.CanSnooze {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "passkey_required",
			"Your organisation asks you to create a passkey now. It takes a minute: select Create a passkey and follow the steps on your device.",
			"the user has used every snooze the registration campaign allows")
	}
	count, err := s.Store.SnoozeNudge(ctx, user.ID)
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "passkey registration snoozed", "user", user.UserPrincipalName, "snoozes", count)
	return nil
}
