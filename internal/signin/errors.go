package signin

import (
	"errors"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Refusals. Each has a stable code, a plain sentence for the person, and a detail for the admin.
var (
	errNotSignedIn = latchkey.Errorf(latchkey.EUNAUTHORIZED, "not_signed_in",
		"Please sign in first.", "no valid session cookie")
	// errTAPInvalid does not say, even to the caller's admin detail, whether the user exists; the
	// precise reason goes to the sign-in log and the server log only.
	errTAPInvalid = func(reason string) error {
		e := latchkey.Errorf(latchkey.EUNAUTHORIZED, "tap_invalid",
			"That user name and pass don't match. Check both and try again, or ask your IT admin for a new pass.",
			"the user name and pass do not match an active temporary access pass; the sign-in log has the precise reason")
		e.Err = errors.New(reason)
		return e
	}
	errChallengeNotFound = latchkey.Errorf(latchkey.EINVALID, "challenge_not_found",
		"This request has expired or was already used. Please start again.",
		"the challenge in clientDataJSON is unknown, expired or already used")
)

func errAccountDisabled(u *latchkey.User) error {
	return latchkey.Errorf(latchkey.EFORBIDDEN, "account_disabled",
		"Your account is turned off. Contact your IT admin.", "user %s is disabled", u.UserPrincipalName)
}

func errTAPState(state string, p *latchkey.AccessPass) error {
	switch state {
	case latchkey.TAPExpired:
		return latchkey.Errorf(latchkey.EUNAUTHORIZED, "tap_expired",
			"This pass has expired. Ask your IT admin for a new one.", "temporary access pass %s expired at %s", p.ID, p.ExpiresAt().Format("2006-01-02 15:04 MST"))
	case latchkey.TAPNotYetValid:
		return latchkey.Errorf(latchkey.EUNAUTHORIZED, "tap_not_yet_valid",
			"This pass does not work yet. It starts working on "+p.StartAt.Format("2 January 2006 at 15:04 MST")+".", "temporary access pass %s starts at %s", p.ID, p.StartAt.Format(timeFormat))
	case latchkey.TAPOneTimeUsed:
		return latchkey.Errorf(latchkey.EUNAUTHORIZED, "tap_used",
			"This pass could be used only once and has been used. Ask your IT admin for a new one.", "one-time temporary access pass %s was already redeemed", p.ID)
	case latchkey.TAPDisabledByPolicy:
		return latchkey.Errorf(latchkey.EFORBIDDEN, "tap_disabled_by_policy",
			"Temporary access passes are turned off in your organisation. Contact your IT admin.", "the temporary access pass method is disabled in the authentication methods policy")
	case latchkey.TAPLockedOut:
		return latchkey.Errorf(latchkey.EFORBIDDEN, "tap_locked",
			"This pass is blocked after too many wrong tries. Ask your IT admin for a new one.", "temporary access pass %s reached %d failed attempts", p.ID, MaxTAPFailures)
	}
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, "tap_invalid", "This pass cannot be used. Ask your IT admin for a new one.", "state %s", state)
}

const timeFormat = "2006-01-02T15:04:05Z07:00"
