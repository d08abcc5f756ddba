package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// tapAlphabet leaves out characters people confuse (0/O, 1/l/I).
const tapAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

// Argon2id parameters for pass hashes (OWASP's minimum: 19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// IssueOptions are what an admin may choose when issuing a pass; zero values mean the policy default.
type IssueOptions struct {
	LifetimeMinutes int
	OneTime         bool
	StartAt         time.Time
	CreatedBy       string
}

// IssueAccessPass creates a new pass for user, replacing any earlier one, and returns the pass
// itself (shown once, never stored) with its record.
func (s *Service) IssueAccessPass(ctx context.Context, userID string, o IssueOptions) (string, *latchkey.AccessPass, error) {
	policy, err := s.TAPPolicy(ctx)
	if err != nil {
		return "", nil, err
	}
	if policy.State != "enabled" {
		return "", nil, errTAPState(latchkey.TAPDisabledByPolicy, nil)
	}
	user, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	lifetime := o.LifetimeMinutes
	if lifetime == 0 {
		lifetime = policy.DefaultLifetimeInMinutes
	}
	if lifetime < policy.MinimumLifetimeInMinutes || lifetime > policy.MaximumLifetimeInMinutes {
		return "", nil, latchkey.Errorf(latchkey.EINVALID, "tap_lifetime_out_of_bounds",
			fmt.Sprintf("Choose a lifetime between %s and %s.", minutes(policy.MinimumLifetimeInMinutes), minutes(policy.MaximumLifetimeInMinutes)),
			"lifetime %d min is outside the policy bounds %d–%d min", lifetime, policy.MinimumLifetimeInMinutes, policy.MaximumLifetimeInMinutes)
	}
	now := s.now()
	start := o.StartAt.UTC()
	if start.Before(now) {
		start = now
	}
	if start.After(now.Add(time.Duration(MaxTAPLifetime) * time.Minute)) {
		return "", nil, latchkey.Errorf(latchkey.EINVALID, "tap_start_too_late",
			"Choose a start date within the next 30 days.", "startDateTime %s is more than 30 days ahead", start.Format(timeFormat))
	}
	pass := generatePass(policy.DefaultLength)
	ap := &latchkey.AccessPass{
		ID:              latchkey.NewID(),
		UserID:          user.ID,
		Hash:            hashPass(pass),
		CreatedAt:       now,
		StartAt:         start,
		LifetimeMinutes: lifetime,
		OneTime:         o.OneTime || policy.IsUsableOnce,
		CreatedBy:       o.CreatedBy,
	}
	if err := s.Store.ReplaceAccessPass(ctx, ap); err != nil {
		return "", nil, err
	}
	// A new pass starts with a clean slate of guesses.
	if err := s.Store.ResetThrottle(ctx, userThrottleKey(user.ID)); err != nil {
		return "", nil, err
	}
	s.Logger.InfoContext(ctx, "temporary access pass issued", "user", user.UserPrincipalName, "passId", ap.ID,
		"lifetimeMinutes", lifetime, "oneTime", ap.OneTime, "start", start, "by", o.CreatedBy)
	return pass, ap, nil
}

func minutes(m int) string {
	switch {
	case m%1440 == 0:
		return plural(m/1440, "day")
	case m%60 == 0:
		return plural(m/60, "hour")
	}
	return plural(m, "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// SignInWithTAP checks a user's pass and, when it is right and usable, starts a session that may
// register security info. Guessing is throttled per user and per address.
func (s *Service) SignInWithTAP(ctx context.Context, upn, pass string, c Client) (*SignIn, error) {
	upn, pass = strings.TrimSpace(upn), strings.TrimSpace(pass)
	if upn == "" || pass == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "missing_field", "Enter your user name and the pass you were given.", "username and tap are required")
	}
	if len(upn) > 254 || len(pass) > MaxTAPLength {
		return nil, errTAPInvalid("username or tap longer than allowed")
	}
	ipKey := ipThrottleKey(c.IP)
	if err := s.checkThrottle(ctx, ipKey, ipPolicy, tapGuessed); err != nil {
		return nil, err
	}
	user, err := s.Store.FindUserByUPN(ctx, upn)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		hashPass(pass) // spend the same time as a real check so that timing tells nothing
		err = errTAPInvalid(fmt.Sprintf("no user %q", upn))
		s.failGuess(ctx, tapGuessed, nil, ipKey, "", err, c)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	userKey := userThrottleKey(user.ID)
	if err := s.checkThrottle(ctx, userKey, userPolicy, tapGuessed); err != nil {
		s.recordFailure(ctx, latchkey.MethodTAP, user, nil, err, c)
		return nil, err
	}
	ap, err := s.Store.FindAccessPassByUser(ctx, user.ID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		hashPass(pass)
		err = errTAPInvalid(fmt.Sprintf("user %s has no temporary access pass", user.UserPrincipalName))
		s.failGuess(ctx, tapGuessed, user, ipKey, userKey, err, c)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if !checkPass(ap.Hash, pass) {
		err = errTAPInvalid(fmt.Sprintf("wrong temporary access pass for %s", user.UserPrincipalName))
		s.failGuess(ctx, tapGuessed, user, ipKey, userKey, err, c)
		return nil, err
	}
	// The pass is right: from here on the person may be told precisely what is wrong.
	now := s.now()
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return nil, err
	}
	if pol.TemporaryAccessPass.State != policy.StateEnabled {
		err := errTAPState(latchkey.TAPDisabledByPolicy, ap)
		s.recordFailure(ctx, latchkey.MethodTAP, user, nil, err, c)
		return nil, err
	}
	if ok, refusal := policy.MethodEnabledForUser(pol, latchkey.MethodTAP, pu); !ok {
		s.recordFailure(ctx, latchkey.MethodTAP, user, nil, refusal, c)
		return nil, refusal
	}
	if state := ap.State(now); state != latchkey.TAPUsable {
		err := errTAPState(state, ap)
		s.recordFailure(ctx, latchkey.MethodTAP, user, nil, err, c)
		return nil, err
	}
	if !user.Enabled {
		err := errAccountDisabled(user)
		s.recordFailure(ctx, latchkey.MethodTAP, user, nil, err, c)
		return nil, err
	}
	if ap.OneTime {
		if err := s.Store.MarkAccessPassUsed(ctx, ap.ID, now); latchkey.IsKind(err, latchkey.ECONFLICT) {
			err := errTAPState(latchkey.TAPOneTimeUsed, ap)
			s.recordFailure(ctx, latchkey.MethodTAP, user, nil, err, c)
			return nil, err
		} else if err != nil {
			return nil, err
		}
	}
	if err := s.Store.ResetThrottle(ctx, userKey); err != nil {
		return nil, err
	}
	expires := ap.ExpiresAt()
	if ap.OneTime && now.Add(OneTimeTAPSessionLifetime).Before(expires) {
		expires = now.Add(OneTimeTAPSessionLifetime)
	}
	si, err := s.startSession(ctx, user, []string{latchkey.MethodTAP}, expires, c, func(sess *latchkey.Session) {
		sess.AccessPassID = ap.ID
	})
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		// The pass was replaced or removed since it was checked: a session made with it would
		// outlive it, so the store refused to write one.
		err = errTAPInvalid(fmt.Sprintf("temporary access pass %s of %s was replaced or removed during the sign-in", ap.ID, user.UserPrincipalName))
		s.recordFailure(ctx, latchkey.MethodTAP, user, nil, err, c)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	s.recordSignIn(ctx, &latchkey.SignInEvent{UserID: user.ID, UPN: user.UserPrincipalName,
		Method: latchkey.MethodTAP, Result: latchkey.SignInSuccess, ACR: tapACR, AMR: tapAMR}, c)
	return si, nil
}

// The assurance of a TAP sign-in (DESIGN §5): AAL1, amr otp.
var tapACR, tapAMR = policy.AssuranceOf(policy.AuthenticationContext{Methods: []string{latchkey.MethodTAP}})

func generatePass(length int) string {
	var b strings.Builder
	max := big.NewInt(int64(len(tapAlphabet)))
	for i := 0; i < length; i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("auth: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(tapAlphabet[n.Int64()])
	}
	return b.String()
}

// hashPass returns the argon2id hash of pass in the PHC string format.
func hashPass(pass string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	key := argon2.IDKey([]byte(pass), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// checkPass reports whether pass matches a hash made by hashPass.
func checkPass(hash, pass string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pass), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
