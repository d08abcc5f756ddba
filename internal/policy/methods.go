package policy

import (
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// User is what the policy needs to know about a person: who they are, their groups, and whether
// they are a guest.
type User struct {
	ID       string   `json:"id"`
	GroupIDs []string `json:"groupIds"`
	IsGuest  bool     `json:"isGuest"`
}

// UserOf returns the policy facts of u with the ids of the groups u belongs to.
func UserOf(u *latchkey.User, groupIDs []string) User {
	return User{ID: u.ID, GroupIDs: groupIDs, IsGuest: u.UserType == latchkey.UserTypeGuest}
}

// inGroup reports whether u is targeted by id: AllUsers, or one of u's groups.
func (u User) inGroup(id string) bool {
	if id == AllUsers {
		return true
	}
	for _, g := range u.GroupIDs {
		if g == id {
			return true
		}
	}
	return false
}

// plainMethodName is how the person is told about a method.
var plainMethodName = map[string]string{
	latchkey.MethodPasskey:  "Passkeys are",
	latchkey.MethodTAP:      "Temporary access passes are",
	latchkey.MethodPassword: "Passwords are",
	latchkey.MethodTOTP:     "Authenticator apps are",
}

// MethodEnabledForUser reports whether method (latchkey.MethodPasskey, MethodTAP, MethodPassword
// or MethodTOTP) is enabled for u. It is when the method's state is enabled, one of its include targets matches u,
// and none of its exclude targets does: exclusion wins over inclusion. When it is not, the error
// has code method_disabled_for_user and a detail naming the method and the rule that decided.
func MethodEnabledForUser(p MethodsPolicy, method string, u User) (bool, *latchkey.Error) {
	var state string
	var include, exclude []Target
	switch method {
	case latchkey.MethodPasskey:
		state, include, exclude = p.Passkey.State, p.Passkey.IncludeTargets, p.Passkey.ExcludeTargets
	case latchkey.MethodTAP:
		state, include, exclude = p.TemporaryAccessPass.State, p.TemporaryAccessPass.IncludeTargets, p.TemporaryAccessPass.ExcludeTargets
	case latchkey.MethodPassword:
		state, include, exclude = p.Password.State, p.Password.IncludeTargets, p.Password.ExcludeTargets
	case latchkey.MethodTOTP:
		state, include, exclude = p.TOTP.State, p.TOTP.IncludeTargets, p.TOTP.ExcludeTargets
	default:
		return false, latchkey.Errorf(latchkey.EINVALID, "unknown_method", "That sign-in method does not exist.",
			"method %q is not passkey, tap, password or totp", method)
	}
	refuse := func(format string, args ...any) (bool, *latchkey.Error) {
		msg := plainMethodName[method] + " not turned on for your account. Ask IT to turn them on, or sign in another way."
		return false, latchkey.Errorf(latchkey.EFORBIDDEN, "method_disabled_for_user", msg, format, args...)
	}
	if state != StateEnabled {
		return refuse("method %s is disabled (state %q) for everyone", method, state)
	}
	for _, t := range exclude {
		if u.inGroup(t.ID) {
			return refuse("method %s excludes group %s, which includes user %s; exclusion wins over any include target", method, t.ID, u.ID)
		}
	}
	for _, t := range include {
		if u.inGroup(t.ID) {
			return true, nil
		}
	}
	ids := make([]string, len(include))
	for i, t := range include {
		ids[i] = t.ID
	}
	return refuse("method %s includes only groups [%s], and user %s is in none of them", method, strings.Join(ids, ", "), u.ID)
}

// ProfilesFor returns every passkey profile that targets one of u's groups, in policy order, or
// the default profile when none does. It returns nil only for a policy whose default profile is
// missing, which Validate refuses.
func ProfilesFor(p MethodsPolicy, u User) []PasskeyProfile {
	var out []PasskeyProfile
	for _, pr := range p.Passkey.Profiles {
		for _, g := range pr.TargetGroupIDs {
			if u.inGroup(g) {
				out = append(out, pr)
				break
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, pr := range p.Passkey.Profiles {
		if pr.ID == p.Passkey.DefaultProfileID {
			return []PasskeyProfile{pr}
		}
	}
	return nil
}
