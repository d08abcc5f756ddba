package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// KioskMaxAge is how recent the laptop's passkey sign-in must be for the kiosk.
const KioskMaxAge = 5 * time.Minute

// KioskPerHour is how many kiosk passes a person may get in an hour.
const KioskPerHour = 3

// AuditKiosk is the audit action of a kiosk pass.
const AuditKiosk = "recovery.kiosk"

// Kiosk refusal codes (latchkey.Error codes): why the kiosk is not offered.
const (
	CodeKioskNotPasskey = "kiosk_not_passkey"   // the session was made with a pass or a password
	CodeKioskSynced     = "kiosk_synced"        // the passkey is synced (backup eligible)
	CodeKioskNotAttest  = "kiosk_not_attested"  // the admin requires attestation; the passkey has none
	CodeKioskTooOld     = "kiosk_signin_old"    // the sign-in is older than KioskMaxAge
	CodeKioskThrottled  = "kiosk_throttled"     // KioskPerHour reached
	CodeKioskNotOffered = "kiosk_not_available" // passes are off for this person
)

// KioskOffer is whether this session may get a pass for a new phone, and until when.
type KioskOffer struct {
	// Refusal is why not (nil when offered): a plain sentence that says what to do.
	Refusal *latchkey.Error
	// Until is when the offer ends (the sign-in's time plus KioskMaxAge).
	Until time.Time
	// Attested reports whether the passkey's being device-bound was attested, not only claimed.
	Attested bool
	// LifetimeMinutes is how long the pass will work.
	LifetimeMinutes int
}

// Kiosk decides whether the person signed in with sess may get a pass for a new phone: only
// themself, after a sign-in with a device-bound passkey (backup-eligible flag off, and attested
// when every passkey profile that applies to them enforces attestation) within KioskMaxAge.
// The returned error is a failure to decide; a refusal is in the offer.
func (s *Service) Kiosk(ctx context.Context, a latchkey.Actor, sess *latchkey.Session) (*KioskOffer, error) {
	if sess == nil || a.Kind != latchkey.ActorPerson || a.UserID == "" || sess.UserID != a.UserID {
		if err := authz.Decide(a, authz.ActionManageOwnSecurityInfo, authz.Target{Kind: authz.TargetUser, ID: sessUser(sess)}); err != nil {
			return nil, err
		}
		// Latchkey itself or a token has no laptop: the kiosk is a person's own.
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, authz.CodeNotAllowed, "Only the person themself can get a pass for their new phone, signed in on their laptop.",
			"the kiosk needs the person's own browser session; actor %s", a.Name())
	}
	if err := authz.Decide(a, authz.ActionManageOwnSecurityInfo, authz.Target{Kind: authz.TargetUser, ID: sess.UserID}); err != nil {
		return nil, err
	}
	u, err := s.Store.FindUserByID(ctx, sess.UserID)
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	mp, pu, err := s.Signin.PolicyFor(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("read methods policy: %w", err)
	}
	o := &KioskOffer{Until: sess.AuthenticatedAt.Add(KioskMaxAge), LifetimeMinutes: mp.TemporaryAccessPass.Kiosk.Lifetime()}
	o.Refusal, o.Attested, err = s.kioskRefusal(ctx, sess, mp, pu)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// kioskRule admits KioskPerHour kiosk passes and no more until an hour after the last one.
var kioskRule = latchkey.AttemptRule{Free: KioskPerHour, Limit: KioskPerHour, Drain: time.Hour}

// kioskKey is the throttle counter of user's kiosk passes.
func kioskKey(userID string) string { return "kiosk:" + userID }

func sessUser(sess *latchkey.Session) string {
	if sess == nil {
		return ""
	}
	return sess.UserID
}

// kioskRefusal returns why sess may not use the kiosk (nil when it may), and whether the
// passkey's being device-bound was attested.
func (s *Service) kioskRefusal(ctx context.Context, sess *latchkey.Session, mp policy.MethodsPolicy, pu policy.User) (*latchkey.Error, bool, error) {
	again := " Sign in again on this laptop with its own passkey (Windows Hello, Touch ID or a security key), then come back here within 5 minutes."
	if mp.TemporaryAccessPass.State != policy.StateEnabled {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeKioskNotOffered, "Your organisation has turned temporary access passes off, so this laptop cannot give your new phone a pass. Ask IT for help.",
			"the temporary access pass method is disabled"), false, nil
	}
	if sess.PasskeyID == "" || !sess.HasMethod(latchkey.MethodPasskey) {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeKioskNotPasskey, "You signed in with a pass or a password, which does not prove this laptop is yours."+again,
			"session methods %v: the kiosk needs a passkey sign-in", sess.Methods), false, nil
	}
	pk, err := s.Store.FindPasskeyByID(ctx, sess.PasskeyID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeKioskNotPasskey, "The passkey you signed in with is gone."+again,
			"session passkey %s no longer exists", sess.PasskeyID), false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("find passkey: %w", err)
	}
	if pk.BackupEligible {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeKioskSynced, "You signed in with a passkey that is synced between your devices (for example through a phone or a password manager), so it does not show that you are at your own laptop."+again,
			"passkey %s is backup eligible (synced)", pk.ID), false, nil
	}
	attested := pk.AttestationTrust == latchkey.AttestationAttested
	if attestationRequired(mp, pu) && !attested {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeKioskNotAttest, "Your organisation requires a passkey whose maker vouches for it, and the one you signed in with has no such proof. Ask IT for help.",
			"attestation is enforced and passkey %s is %q", pk.ID, pk.AttestationTrust), false, nil
	}
	now := s.now()
	if now.Sub(sess.AuthenticatedAt) > KioskMaxAge {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeKioskTooOld, "You signed in more than 5 minutes ago."+again,
			"signed in at %s, now %s", sess.AuthenticatedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)), attested, nil
	}
	recent, err := s.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: AuditKiosk, Target: sess.UserID, Since: time.Now().Add(-time.Hour)})
	if err != nil {
		return nil, false, fmt.Errorf("count kiosk passes: %w", err)
	}
	if len(recent) >= KioskPerHour {
		e := latchkey.Errorf(latchkey.ETOOMANYREQUEST, CodeKioskThrottled, "You have asked for several passes in the last hour. Wait an hour, or ask IT for help.",
			"%d kiosk passes in the last hour (at most %d)", len(recent), KioskPerHour)
		e.RetryAfter = time.Hour
		return e, attested, nil
	}
	return nil, attested, nil
}

// attestationRequired reports whether every passkey profile that applies to pu enforces
// attestation, so that no passkey without one could have been registered.
func attestationRequired(mp policy.MethodsPolicy, pu policy.User) bool {
	prs := policy.ProfilesFor(mp, pu)
	for _, pr := range prs {
		if pr.AttestationEnforcement == policy.AttestationEnforcementDisabled {
			return false
		}
	}
	return len(prs) > 0
}

// IssueKioskPass issues the person signed in with sess a recovery pass for their new phone when
// Kiosk offers one (its refusal otherwise), records the audit event (the device-bound flag
// "attested" or "claimed") and queues the recovery mail (PathKiosk), in one transaction.
func (s *Service) IssueKioskPass(ctx context.Context, a latchkey.Actor, sess *latchkey.Session) (string, *latchkey.AccessPass, error) {
	o, err := s.Kiosk(ctx, a, sess)
	if err != nil {
		return "", nil, err
	}
	if o.Refusal != nil {
		return "", nil, o.Refusal
	}
	now := s.now()
	// The count above reads the audit log; this reservation makes the limit hold when requests
	// arrive at once, which all read the same count before any is written.
	if _, ok, err := s.Store.ReserveAttempt(ctx, kioskKey(a.UserID), now, kioskRule); err != nil {
		return "", nil, fmt.Errorf("reserve kiosk pass: %w", err)
	} else if !ok {
		e := latchkey.Errorf(latchkey.ETOOMANYREQUEST, CodeKioskThrottled, "You have asked for several passes in the last hour. Wait an hour, or ask IT for help.",
			"%d kiosk passes reserved in the last hour (at most %d)", KioskPerHour, KioskPerHour)
		e.RetryAfter = time.Hour
		return "", nil, e
	}
	deviceBound := "claimed"
	if o.Attested {
		deviceBound = "attested"
	}
	ctx = latchkey.Audit(ctx, a, AuditKiosk, "user", a.UserID, a.UPN, map[string]any{
		"path": PathKiosk, "passkeyId": sess.PasskeyID, "deviceBound": deviceBound, "lifetimeInMinutes": o.LifetimeMinutes,
		"signedInAt": sess.AuthenticatedAt.UTC().Format(time.RFC3339)})
	ctx = Notify(ctx, Notice{UserID: a.UserID, Path: PathKiosk, By: "you, on your laptop", At: now})
	// The person may not issue themself a pass through the admin action (not_for_yourself):
	// the kiosk decided above, so Latchkey issues it.
	return s.Dir.IssueAccessPass(ctx, latchkey.SystemActor, a.UserID, signin.IssueOptions{Recovery: true, OneTime: true, LifetimeMinutes: o.LifetimeMinutes})
}
