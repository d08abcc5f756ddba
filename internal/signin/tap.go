package signin

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// tapAlphabet leaves out characters people confuse (0/O, 1/l/I).
const tapAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

// IssueOptions are what an admin may choose when issuing a pass; zero values mean the policy default.
type IssueOptions struct {
	LifetimeMinutes int
	OneTime         bool
	StartAt         time.Time
	CreatedBy       string
	// Recovery makes a recovery pass (the kiosk, a manager's, identity verification, an approved
	// helpdesk request): always one-time, starting now, with its own lifetime of 1 to
	// RecoveryMaxLifetime minutes (RecoveryMaxLifetime when 0) outside the policy's bounds for
	// ordinary passes.
	Recovery bool
}

// RecoveryMaxLifetime is the longest a recovery pass works, in minutes.
const RecoveryMaxLifetime = 15

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
	switch {
	case o.Recovery && lifetime == 0:
		lifetime = RecoveryMaxLifetime
	case o.Recovery:
		if lifetime < 1 || lifetime > RecoveryMaxLifetime {
			return "", nil, latchkey.Errorf(latchkey.EINVALID, "tap_lifetime_out_of_bounds",
				fmt.Sprintf("Choose a lifetime between 1 minute and %s.", minutes(RecoveryMaxLifetime)),
				"recovery pass lifetime %d min is outside 1–%d min", lifetime, RecoveryMaxLifetime)
		}
	case lifetime == 0:
		lifetime = policy.DefaultLifetimeInMinutes
	}
	if !o.Recovery && (lifetime < policy.MinimumLifetimeInMinutes || lifetime > policy.MaximumLifetimeInMinutes) {
		return "", nil, latchkey.Errorf(latchkey.EINVALID, "tap_lifetime_out_of_bounds",
			fmt.Sprintf("Choose a lifetime between %s and %s.", minutes(policy.MinimumLifetimeInMinutes), minutes(policy.MaximumLifetimeInMinutes)),
			"lifetime %d min is outside the policy bounds %d–%d min", lifetime, policy.MinimumLifetimeInMinutes, policy.MaximumLifetimeInMinutes)
	}
	now := s.now()
	start := o.StartAt.UTC()
	if o.Recovery {
		start, o.OneTime = now, true
	}
	if start.Before(now) {
		start = now
	}
	if start.After(now.Add(time.Duration(MaxTAPLifetime) * time.Minute)) {
		return "", nil, latchkey.Errorf(latchkey.EINVALID, "tap_start_too_late",
			"Choose a start date within the next 30 days.", "startDateTime %s is more than 30 days ahead", start.Format(timeFormat))
	}
	pass := generatePass(policy.DefaultLength)
	hash, err := s.hashPass(ctx, pass)
	if err != nil {
		return "", nil, err
	}
	ap := &latchkey.AccessPass{
		ID:              latchkey.NewID(),
		UserID:          user.ID,
		Hash:            hash,
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
	s.Metrics.TAPIssued()
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
// register security info. Guessing is throttled per user name and address, per address and per
// user before any hashing (throttle.go).
func (s *Service) SignInWithTAP(ctx context.Context, upn, pass string, c Client) (*SignIn, error) {
	upn, pass = strings.TrimSpace(upn), strings.TrimSpace(pass)
	if upn == "" || pass == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "missing_field", "Enter your user name and the pass you were given.", "username and tap are required")
	}
	if len(upn) > 254 || len(pass) > MaxTAPLength {
		return nil, errTAPInvalid("username or tap longer than allowed")
	}
	gs, err := s.reserveGuess(ctx, tapGuessed, upn, c)
	if err != nil {
		return nil, err
	}
	user, err := s.Store.FindUserByUPN(ctx, upn)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		// Spend the same time as a real check so that timing tells nothing.
		if _, err := s.hashPass(ctx, pass); err != nil {
			return nil, err
		}
		err = errTAPInvalid(fmt.Sprintf("no user %q", upn))
		gs.wrong(ctx, err)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if err := gs.forUser(ctx, user); err != nil {
		return nil, err
	}
	ap, err := s.Store.FindAccessPassByUser(ctx, user.ID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		if _, err := s.hashPass(ctx, pass); err != nil {
			return nil, err
		}
		err = errTAPInvalid(fmt.Sprintf("user %s has no temporary access pass", user.UserPrincipalName))
		gs.wrong(ctx, err)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if ok, err := s.checkPass(ctx, ap.Hash, pass); err != nil {
		return nil, err
	} else if !ok {
		err = errTAPInvalid(fmt.Sprintf("wrong temporary access pass for %s", user.UserPrincipalName))
		gs.wrong(ctx, err)
		return nil, err
	}
	if err := gs.right(ctx); err != nil {
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
		gs.refused(ctx, err)
		return nil, err
	}
	if ok, refusal := policy.MethodEnabledForUser(pol, latchkey.MethodTAP, pu); !ok {
		gs.refused(ctx, refusal)
		return nil, refusal
	}
	if state := ap.State(now); state != latchkey.TAPUsable {
		err := errTAPState(state, ap)
		gs.refused(ctx, err)
		return nil, err
	}
	if !user.Enabled {
		err := errAccountDisabled(user)
		gs.refused(ctx, err)
		return nil, err
	}
	if ap.OneTime {
		if err := s.Store.MarkAccessPassUsed(ctx, ap.ID, now); latchkey.IsKind(err, latchkey.ECONFLICT) {
			err := errTAPState(latchkey.TAPOneTimeUsed, ap)
			gs.refused(ctx, err)
			return nil, err
		} else if err != nil {
			return nil, err
		}
	}
	if err := gs.succeeded(ctx); err != nil {
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
	s.Metrics.TAPRedeemed()
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
			panic("signin: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(tapAlphabet[n.Int64()])
	}
	return b.String()
}
