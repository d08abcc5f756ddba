package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passwordrules"
	"github.com/latchkey/latchkey/internal/policy"
)

// Passwords are a legacy method, for migration only (DESIGN §2): off unless the methods policy
// turns them on for a group. A password alone is a weak sign-in; with an authenticator app code
// (totp.go) it is MFA.

// strongSignIn reports whether sess counts as strong authentication (DESIGN §5, MFA): a
// temporary access pass, a passkey, or a password with an authenticator app code.
func strongSignIn(sess *latchkey.Session) bool {
	return sess.HasMethod(latchkey.MethodTAP) || sess.HasMethod(latchkey.MethodPasskey) ||
		sess.HasMethod(latchkey.MethodPassword) && sess.HasMethod(latchkey.MethodTOTP)
}

// errStrongSignInRequired refuses a password-alone session what needs strong authentication.
var errStrongSignInRequired = latchkey.Errorf(latchkey.EUNAUTHORIZED, "strong_signin_required",
	"To change your security info, sign in with your password and a code from your authenticator app, or with a passkey. If you have neither, ask IT for a temporary access pass.",
	"this session signed in with a password alone, which is not strong authentication (DESIGN §5); registering security info needs a TAP, a passkey, or password + TOTP")

// SetPassword sets or changes the password of the session's user. The password method must be
// enabled for them, the session must be a recent strong sign-in (as for registering a passkey),
// and the password must meet the rules of passwordrules.Check. The password is never logged.
func (s *Service) SetPassword(ctx context.Context, sess *latchkey.Session, user *latchkey.User, password string) error {
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return err
	}
	if ok, refusal := policy.MethodEnabledForUser(pol, latchkey.MethodPassword, pu); !ok {
		return refusal
	}
	if err := s.MayRegister(sess); err != nil {
		return err
	}
	if err := passwordrules.Check(password, pol.Password.MinimumLength, user); err != nil {
		return err
	}
	hash, err := s.hashPass(ctx, passwordrules.Normalize(password))
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, user.ID, hash, s.now()); err != nil {
		return err
	}
	// A new password starts with a clean slate of wrong guesses.
	if err := s.Store.ResetThrottle(ctx, passwordUserKey(user.ID)); err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "password set", "user", user.UserPrincipalName)
	return nil
}

// RemovePassword removes the session's user's password; it needs the same recent strong sign-in.
func (s *Service) RemovePassword(ctx context.Context, sess *latchkey.Session, user *latchkey.User) error {
	if err := s.MayRegister(sess); err != nil {
		return err
	}
	if err := s.Store.DeletePassword(ctx, user.ID); err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "password removed", "user", user.UserPrincipalName)
	return nil
}

// PasswordSignIn is the outcome of a correct password: either a finished sign-in (the person has
// no authenticator app) or the token of the second step, which SignInWithTOTP takes with a code.
type PasswordSignIn struct {
	Done *SignIn
	// TOTPToken is set when an authenticator app code must follow; no session exists yet.
	TOTPToken string
	User      *latchkey.User
}

// errPasswordInvalid does not say, even in the admin detail it returns, whether the user exists or
// has a password; the precise reason goes to the sign-in log and the server log only.
func errPasswordInvalid(reason string) error {
	e := latchkey.Errorf(latchkey.EUNAUTHORIZED, "password_invalid",
		"That user name and password don't match. Check both and try again. If you forgot your password, ask IT for a temporary access pass.",
		"the user name and password do not match a password sign-in; the sign-in log has the precise reason")
	e.Err = errors.New(reason)
	return e
}

// SignInWithPassword checks a user's password. When it is right and the method is enabled for
// them, it finishes the sign-in with a session (Methods ["password"]) when they have no
// authenticator app the policy lets them use, and otherwise returns the token of the TOTP step.
// Guessing is throttled like temporary access passes, before any hashing (throttle.go); a wrong
// user name and a wrong password get the same answer. Every attempt is logged.
func (s *Service) SignInWithPassword(ctx context.Context, upn, password string, c Client) (*PasswordSignIn, error) {
	upn = strings.TrimSpace(upn)
	if upn == "" || password == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "missing_field", "Enter your user name and your password.", "username and password are required")
	}
	if len(upn) > 254 || utf8.RuneCountInString(password) > passwordrules.MaxLength {
		err := errPasswordInvalid("username or password longer than allowed")
		s.recordFailure(ctx, latchkey.MethodPassword, nil, nil, err, c)
		return nil, err
	}
	gs, err := s.reserveGuess(ctx, passwordGuessed, upn, c)
	if err != nil {
		return nil, err
	}
	password = passwordrules.Normalize(password)
	user, err := s.Store.FindUserByUPN(ctx, upn)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		// Spend the same time as a real check so that timing tells nothing.
		if _, err := s.hashPass(ctx, password); err != nil {
			return nil, err
		}
		err = errPasswordInvalid(fmt.Sprintf("no user %q", upn))
		gs.wrong(ctx, err)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if err := gs.forUser(ctx, user); err != nil {
		return nil, err
	}
	creds, err := s.Store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if !creds.HasPassword() {
		if _, err := s.hashPass(ctx, password); err != nil {
			return nil, err
		}
		err = errPasswordInvalid(fmt.Sprintf("user %s has no password", user.UserPrincipalName))
		gs.wrong(ctx, err)
		return nil, err
	}
	if ok, err := s.checkPass(ctx, creds.PasswordHash, password); err != nil {
		return nil, err
	} else if !ok {
		err = errPasswordInvalid(fmt.Sprintf("wrong password for %s", user.UserPrincipalName))
		gs.wrong(ctx, err)
		return nil, err
	}
	if err := gs.right(ctx); err != nil {
		return nil, err
	}
	// The password is right: from here on the person may be told precisely what is wrong.
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	if ok, refusal := policy.MethodEnabledForUser(pol, latchkey.MethodPassword, pu); !ok {
		gs.refused(ctx, refusal)
		return nil, refusal
	}
	if !user.Enabled {
		err := errAccountDisabled(user)
		gs.refused(ctx, err)
		return nil, err
	}
	if err := gs.succeeded(ctx); err != nil {
		return nil, err
	}
	if totpOn, _ := policy.MethodEnabledForUser(pol, latchkey.MethodTOTP, pu); totpOn && creds.HasTOTP() {
		token, err := s.newSecondStepToken(ctx, user.ID)
		if err != nil {
			return nil, err
		}
		return &PasswordSignIn{TOTPToken: token, User: user}, nil
	}
	si, err := s.finishLegacySignIn(ctx, user, []string{latchkey.MethodPassword}, c)
	if err != nil {
		return nil, err
	}
	return &PasswordSignIn{Done: si, User: user}, nil
}

// finishLegacySignIn starts a session with the normal lifetime and logs the sign-in, under the
// method "password" (the amr says whether a code followed).
func (s *Service) finishLegacySignIn(ctx context.Context, user *latchkey.User, methods []string, c Client) (*SignIn, error) {
	si, err := s.startSession(ctx, user, methods, s.now().Add(SessionLifetime), c, nil)
	if err != nil {
		return nil, err
	}
	acr, amr := policy.AssuranceOf(policy.AuthenticationContext{Methods: methods})
	s.recordSignIn(ctx, &latchkey.SignInEvent{UserID: user.ID, UPN: user.UserPrincipalName,
		Method: latchkey.MethodPassword, Result: latchkey.SignInSuccess, ACR: acr, AMR: amr}, c)
	return si, nil
}
