package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// The lockout lint of the authentication methods policy (hardening issue, item 12): a change of
// the methods or of the passkey profiles must not silently leave people who could sign in with
// no way in at all. It compares before and after, so a change that takes nobody's way in is
// never refused, and people who had no way in before are not counted.

// Methods lint finding codes. They are findings like those of Lint, refused with
// lockout_override_required unless the override equals the number of distinct people named.
const (
	LintNoWayToSignIn       = "no_way_to_sign_in"      // everyone the change locks out
	LintLastGlobalAdmin     = "last_global_admin"      // and no global admin could sign in after it
	LintBreakGlassLockedOut = "break_glass_locked_out" // and among them a break-glass account
)

// SignInUser is one enabled user with every way in they hold, as the methods lint sees them.
type SignInUser struct {
	Principal
	// Passkeys are the user's registered passkeys: kind, AAGUID, attestation (AttestationRevoked
	// when metadata imported since registration revoked the model) and the possible-clone flag.
	Passkeys []Passkey `json:"passkeys"`
	// PassUsable says the user holds a temporary access pass usable now (started, not expired,
	// not used up).
	PassUsable bool `json:"passUsable"`
	// HasPassword says the user has set a password. An authenticator app never takes a way in
	// away (a password sign-in asks for its code only when it is on and set up), and is no way in
	// on its own, so it is not needed here.
	HasPassword bool `json:"hasPassword"`
	// BreakGlass marks a global admin that conditional access excludes by user id.
	BreakGlass bool `json:"breakGlass"`
}

// CanSignIn reports whether u has a usable way to sign in under p: a passkey that EvaluatePasskey
// accepts at sign-in (passkeys on for u, not revoked or flagged, accepted by one of u's profiles;
// the person is taken to verify themselves when asked), a pass usable now with the TAP method on
// for u, or a password set with the password method on for u.
func CanSignIn(p MethodsPolicy, u SignInUser) bool {
	pu := User{ID: u.ID, GroupIDs: u.GroupIDs, IsGuest: u.IsGuest}
	for _, pk := range u.Passkeys {
		pk.UserVerified = true
		if EvaluatePasskey(p, pu, pk, SignIn).Allowed {
			return true
		}
	}
	if u.PassUsable {
		if ok, _ := MethodEnabledForUser(p, latchkey.MethodTAP, pu); ok {
			return true
		}
	}
	if u.HasPassword {
		if ok, _ := MethodEnabledForUser(p, latchkey.MethodPassword, pu); ok {
			return true
		}
	}
	return false
}

// LintMethodsChange returns the findings of changing the methods policy from before to after for
// users (every enabled user):
//
//	no_way_to_sign_in: the people who had a usable way to sign in before (CanSignIn) and have
//	    none after; nil findings when there are none;
//	last_global_admin: the global admins among them, when no global admin at all could sign in
//	    after the change;
//	break_glass_locked_out: the break-glass accounts among them.
func LintMethodsChange(users []SignInUser, before, after MethodsPolicy) []Finding {
	var locked, admins, breakGlass []string
	adminAfter := false
	for _, u := range users {
		isAdmin := slices.Contains(u.Roles, latchkey.RoleGlobalAdmin)
		canAfter := CanSignIn(after, u)
		adminAfter = adminAfter || isAdmin && canAfter
		if canAfter || !CanSignIn(before, u) {
			continue
		}
		locked = append(locked, u.ID)
		if isAdmin {
			admins = append(admins, u.ID)
		}
		if u.BreakGlass {
			breakGlass = append(breakGlass, u.ID)
		}
	}
	if len(locked) == 0 {
		return nil
	}
	out := []Finding{finding(LintNoWayToSignIn, locked,
		"%s could sign in before this change and could not after it (no passkey their profiles accept with passkeys on for them, no usable temporary access pass with passes on for them, no password with passwords on for them); change the policy, or first give them a way in it leaves them", People(len(locked)))}
	if len(admins) > 0 && !adminAfter {
		out = append(out, finding(LintLastGlobalAdmin, admins,
			"no global admin could sign in after this change, so nobody could change the policy back on the admin pages or the API (only the latchkey command on the server could)"))
	}
	if len(breakGlass) > 0 {
		out = append(out, finding(LintBreakGlassLockedOut, breakGlass,
			"the break-glass account (a global admin excluded by user id from conditional access) could not sign in after this change"))
	}
	return out
}

// RefuseMethodsChange returns nil when the change may be stored: its findings name nobody, or
// override equals the number of distinct people they name (as Refuse). Otherwise it returns a
// lockout_override_required refusal.
func RefuseMethodsChange(findings []Finding, override int) error {
	n := len(AffectedUsers(findings))
	if n == 0 || override == n {
		return nil
	}
	among := ""
	if slices.ContainsFunc(findings, func(f Finding) bool { return f.Code == LintLastGlobalAdmin }) {
		among = ", the last global admin among them"
	}
	codes := make([]string, 0, len(findings))
	for _, f := range findings {
		codes = append(codes, fmt.Sprintf("%s (%d users): %s", f.Code, len(f.Users), f.Message))
	}
	return latchkey.Errorf(latchkey.EINVALID, CodeLockoutOverrideNeeded,
		fmt.Sprintf("This change to the authentication methods policy would leave %s with no way to sign in%s. Fix it, or confirm by entering %d as the override.", People(n), among, n),
		"methods lint findings: %s; override %d does not equal %d affected users", strings.Join(codes, "; "), override, n)
}
