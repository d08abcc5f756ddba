package signin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/totpcode"
)

// Authenticator apps (TOTP, RFC 6238) are a legacy method, for migration only (DESIGN §2): a
// second factor after a password, never a sign-in on its own (DESIGN §5 counts "TOTP alone" as
// neither MFA nor passwordless). Codes and secrets are internal/totpcode's.

// SecondStepLifetime is how long a person has, after a correct password, to enter their code.
const SecondStepLifetime = 5 * time.Minute

// Throttle keys of the legacy methods: per user and authenticator, and per address for both.
func passwordUserKey(userID string) string { return "password:user:" + userID }
func totpUserKey(userID string) string     { return "totp:user:" + userID }
func passwordIPKey(ip string) string       { return "legacy:ip:" + ip }

var (
	passwordGuessed = guessed{method: latchkey.MethodPassword,
		pairKey: func(name, ip string) string { return "password:name-ip:" + latchkey.NormalizeUPN(name) + "|" + ip },
		ipKey:   passwordIPKey,
		userKey: passwordUserKey,
		locked: func(n int) error {
			return latchkey.Errorf(latchkey.EFORBIDDEN, "password_locked",
				"Your password is blocked after too many wrong tries. Ask IT for a temporary access pass, then set a new password.",
				"the password reached %d consecutive wrong guesses; setting a new password resets it", n)
		}}
	// The second step's user is known from its token (which only a right password gives), so
	// its pair is the user and the address.
	totpGuessed = guessed{method: latchkey.MethodTOTP,
		pairKey: func(userID, ip string) string { return "totp:user-ip:" + userID + "|" + ip },
		ipKey:   passwordIPKey,
		userKey: totpUserKey,
		locked: func(n int) error {
			return latchkey.Errorf(latchkey.EFORBIDDEN, "totp_locked",
				"Your authenticator app is blocked after too many wrong codes. Ask IT for a temporary access pass, then set up your authenticator app again.",
				"the authenticator app reached %d consecutive wrong codes; setting up the authenticator app again resets it", n)
		}}
)

// The second step's token is self-contained, like sign-in challenges (challenge.go), so that
// any node can finish a sign-in another began: version (1) | expiry, Unix ms (8) | random (16) |
// user UUID (16) | HMAC-SHA256 truncated (16), base64url. Its use is recorded once the sign-in
// finishes (ChallengeStore.MarkChallengeUsed), so it finishes one sign-in only.
const (
	stepVersion = 1
	stepLen     = 1 + 8 + 16 + 16 + 16
)

func stepTag(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("latchkey second step\x00"))
	m.Write(body)
	return m.Sum(nil)[:16]
}

// newSecondStepToken returns a token saying that userID's password was right just now.
func (s *Service) newSecondStepToken(ctx context.Context, userID string) (string, error) {
	key, err := s.challengeKey(ctx)
	if err != nil {
		return "", err
	}
	id, err := uuid.Parse(userID)
	if err != nil {
		return "", fmt.Errorf("second step: user id %q: %w", userID, err)
	}
	b := make([]byte, stepLen)
	b[0] = stepVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(s.now().Add(SecondStepLifetime).UnixMilli()))
	if _, err := rand.Read(b[9:25]); err != nil {
		return "", fmt.Errorf("second step: %w", err)
	}
	copy(b[25:41], id[:])
	copy(b[41:], stepTag(key, b[:41]))
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var errSecondStepExpired = latchkey.Errorf(latchkey.EUNAUTHORIZED, "signin_expired",
	"This sign-in took too long or was already finished. Enter your user name and password again.",
	"the second-step token is unknown, altered, expired or already used")

// openSecondStepToken checks a token and returns its user id, random id and expiry.
func (s *Service) openSecondStepToken(ctx context.Context, token string) (userID, id string, expires time.Time, err error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != stepLen || b[0] != stepVersion {
		return "", "", time.Time{}, errSecondStepExpired
	}
	key, err := s.challengeKey(ctx)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if !hmac.Equal(b[41:], stepTag(key, b[:41])) {
		return "", "", time.Time{}, errSecondStepExpired
	}
	expires = time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:9]))).UTC()
	if !s.now().Before(expires) {
		return "", "", time.Time{}, errSecondStepExpired
	}
	return uuid.UUID(b[25:41]).String(), "second-step:" + hex.EncodeToString(b[9:25]), expires, nil
}

// SignInWithTOTP finishes a password sign-in with a code from the person's authenticator app.
// The session's Methods are ["password", "totp"], which counts as MFA (DESIGN §5).
func (s *Service) SignInWithTOTP(ctx context.Context, token, code string, c Client) (*SignIn, error) {
	userID, stepID, expires, err := s.openSecondStepToken(ctx, token)
	if err != nil {
		s.recordFailure(ctx, latchkey.MethodTOTP, nil, nil, err, c)
		return nil, err
	}
	user, err := s.Store.FindUserByID(ctx, userID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, errSecondStepExpired
	} else if err != nil {
		return nil, err
	}
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, m := range []string{latchkey.MethodPassword, latchkey.MethodTOTP} {
		if ok, refusal := policy.MethodEnabledForUser(pol, m, pu); !ok {
			s.recordFailure(ctx, latchkey.MethodTOTP, user, nil, refusal, c)
			return nil, refusal
		}
	}
	if !user.Enabled {
		err := errAccountDisabled(user)
		s.recordFailure(ctx, latchkey.MethodTOTP, user, nil, err, c)
		return nil, err
	}
	creds, err := s.Store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if !creds.HasTOTP() {
		s.recordFailure(ctx, latchkey.MethodTOTP, user, nil, errSecondStepExpired, c)
		return nil, errSecondStepExpired
	}
	// Counted before the code is checked; the checks above are no guesses.
	gs, err := s.reserveGuess(ctx, totpGuessed, user.ID, c)
	if err != nil {
		return nil, err
	}
	if err := gs.forUser(ctx, user); err != nil {
		return nil, err
	}
	step, err := s.checkCode(creds.TOTPSecret, code, creds.TOTPLastStep)
	if err != nil {
		gs.wrong(ctx, err)
		return nil, err
	}
	if err := gs.right(ctx); err != nil {
		return nil, err
	}
	if err := s.Store.AdvanceTOTPStep(ctx, user.ID, step); latchkey.IsKind(err, latchkey.ECONFLICT) {
		// A racing request took this code first.
		err := totpcode.ErrReused(step)
		gs.refused(ctx, err)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if err := s.Store.MarkChallengeUsed(ctx, stepID, expires); latchkey.IsKind(err, latchkey.ECONFLICT) {
		gs.refused(ctx, errSecondStepExpired)
		return nil, errSecondStepExpired
	} else if err != nil {
		return nil, err
	}
	if err := gs.succeeded(ctx); err != nil {
		return nil, err
	}
	return s.finishLegacySignIn(ctx, user, []string{latchkey.MethodPassword, latchkey.MethodTOTP}, c)
}

// TOTPEnrollment is what a person needs to add Latchkey to their authenticator app.
type TOTPEnrollment = totpcode.Enrollment

// checkCode returns the time step whose code code is, within one step of now, and refuses a
// code for lastStep or earlier as a replay (totpcode.Check).
func (s *Service) checkCode(secret, code string, lastStep int64) (int64, error) {
	return totpcode.Check(secret, code, lastStep, s.now())
}

// mayEnrolTOTP reports, as an error, whether the session may set up an authenticator app: as
// for registering a passkey (a strong sign-in, recent unless a pass), or, for someone who has
// no second factor yet, a password sign-in within RecentSignIn: that is how people who have only
// a password move on to MFA and from there to a passkey.
func (s *Service) mayEnrolTOTP(sess *latchkey.Session, creds *latchkey.LegacyCredentials) error {
	err := s.MayRegister(sess)
	if err == nil || creds.HasTOTP() || !sess.HasMethod(latchkey.MethodPassword) || s.now().Sub(sess.AuthenticatedAt) > RecentSignIn {
		return err
	}
	return nil
}

// BeginTOTPEnrollment creates a new authenticator secret for the session's user, unusable until
// ConfirmTOTPEnrollment, and returns what their app needs.
func (s *Service) BeginTOTPEnrollment(ctx context.Context, sess *latchkey.Session, user *latchkey.User) (*TOTPEnrollment, error) {
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	if ok, refusal := policy.MethodEnabledForUser(pol, latchkey.MethodTOTP, pu); !ok {
		return nil, refusal
	}
	creds, err := s.Store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if err := s.mayEnrolTOTP(sess, creds); err != nil {
		return nil, err
	}
	if creds.HasTOTP() {
		return nil, errTOTPAlreadySetUp
	}
	secret, err := totpcode.NewSecret(user.UserPrincipalName)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetPendingTOTP(ctx, user.ID, secret); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return nil, errTOTPAlreadySetUp
	} else if err != nil {
		return nil, err
	}
	return totpcode.EnrollmentOf(user.UserPrincipalName, secret)
}

var errTOTPAlreadySetUp = latchkey.Errorf(latchkey.ECONFLICT, "totp_already_set_up",
	"You already have an authenticator app set up. Remove it first if you want to set up another one.",
	"the user has a confirmed TOTP secret; remove it before enrolling a new one")

var errTOTPNotStarted = latchkey.Errorf(latchkey.ECONFLICT, "totp_not_started",
	"Setting up your authenticator app was not started, or was replaced. Start again.",
	"no pending (unconfirmed) TOTP secret matches")

// PendingTOTPEnrollment returns the enrolment that was begun and not yet confirmed, to show it
// again (after a wrong code, for example).
func (s *Service) PendingTOTPEnrollment(ctx context.Context, user *latchkey.User) (*TOTPEnrollment, error) {
	creds, err := s.Store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if creds.TOTPSecret == "" || creds.TOTPConfirmed {
		return nil, errTOTPNotStarted
	}
	return totpcode.EnrollmentOf(user.UserPrincipalName, creds.TOTPSecret)
}

// ConfirmTOTPEnrollment makes the pending authenticator secret usable once the person typed a
// valid code from their app.
func (s *Service) ConfirmTOTPEnrollment(ctx context.Context, sess *latchkey.Session, user *latchkey.User, code string) error {
	creds, err := s.Store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return err
	}
	if creds.TOTPSecret == "" || creds.TOTPConfirmed {
		return errTOTPNotStarted
	}
	if err := s.mayEnrolTOTP(sess, creds); err != nil {
		return err
	}
	step, err := s.checkCode(creds.TOTPSecret, code, 0)
	if err != nil {
		return err
	}
	if err := s.Store.ConfirmTOTP(ctx, user.ID, creds.TOTPSecret, step); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return errTOTPNotStarted
	} else if err != nil {
		return err
	}
	if err := s.Store.ResetThrottle(ctx, totpUserKey(user.ID)); err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "authenticator app set up", "user", user.UserPrincipalName)
	return nil
}

// RemoveTOTP removes the session's user's authenticator app; it needs a recent strong sign-in.
func (s *Service) RemoveTOTP(ctx context.Context, sess *latchkey.Session, user *latchkey.User) error {
	if err := s.MayRegister(sess); err != nil {
		return err
	}
	if err := s.Store.DeleteTOTP(ctx, user.ID); err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "authenticator app removed", "user", user.UserPrincipalName)
	return nil
}
