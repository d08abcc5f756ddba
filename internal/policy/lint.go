package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Lint finding codes (issue 5, lockout lint).
const (
	LintUsersCannotSatisfy    = "users_cannot_satisfy"           // (a)
	LintRegisterInfoParadox   = "register_security_info_paradox" // (b)
	LintNoBreakGlass          = "no_break_glass_excluded"        // (c)
	LintBlocksEveryone        = "blocks_everyone"                // (d)
	SeverityError             = "error"
	CodeLockoutOverrideNeeded = "lockout_override_required"
)

// Finding is one problem Lint found with a policy.
type Finding struct {
	Code     string   `json:"code"`
	Severity string   `json:"severity"`
	Message  string   `json:"message"`
	Users    []string `json:"users"` // ids of the users it would lock out, sorted
}

// LintDirectory is the directory as the lint sees it.
type LintDirectory struct {
	Users []DirectoryUser `json:"users"`
}

// DirectoryUser is one user and what each of their registered methods can present (an active TAP
// counts as a registered method).
type DirectoryUser struct {
	Principal
	Registered []AuthenticationContext `json:"registered"`
}

// tapContext is what a freshly issued temporary access pass presents.
var tapContext = AuthenticationContext{Methods: []string{latchkey.MethodTAP}}

// Lint examines p as if it were enforced, with the rest of the policies all, and reports:
//
//	(a) users_cannot_satisfy: users in scope none of whose registered methods meets p's strength;
//	    and, in a second finding, users who have such a method but none that also meets the
//	    strengths other enabled policies demand of them wherever p applies (see alongside): one
//	    sign-in must meet every enforced policy, so the pair locks them out;
//	(b) register_security_info_paradox: p covers registerSecurityInformation and blocks, or its
//	    strength cannot be met with a temporary access pass, so nobody in scope who lacks a
//	    suitable passkey (a new hire, someone whose phone was replaced) can ever register one;
//	    it names every user in scope;
//	(c) no_break_glass_excluded: p includes All users and excludes no break-glass account. A
//	    break-glass account is a global admin excluded by user id (not by group or role, which
//	    are too easy to change unnoticed) who is not blocked by another enabled policy covering
//	    all applications. It names the global admins in scope;
//	(d) blocks_everyone: p blocks and every user of the directory is in scope, with no platform,
//	    location or client type condition to narrow it. It names every user.
//
// The user scope alone decides who is affected: applications and conditions vary by sign-in.
// override is accepted for symmetry with Refuse and does not change the findings.
func Lint(p ConditionalAccessPolicy, all []ConditionalAccessPolicy, strengths map[string]Strength, dir LintDirectory, override int) []Finding {
	_ = override
	var inScope []DirectoryUser
	for _, u := range dir.Users {
		if ok, _ := inUserScope(p.Users, u.Principal); ok {
			inScope = append(inScope, u)
		}
	}
	var out []Finding
	s, hasStrength := strengths[p.Grant.StrengthID]
	if !p.Grant.Block && hasStrength {
		var stuck, stuckTogether []string
		together := map[string]bool{} // names of the other policies that made the difference
		candidates := alongside(p, all, strengths)
		for _, u := range inScope {
			if !anySatisfies(s, u.Registered) {
				stuck = append(stuck, u.ID)
				continue
			}
			sts, names := []Strength{s}, []string{}
			for _, o := range candidates {
				if in, _ := inUserScope(o.policy.Users, u.Principal); in {
					sts, names = append(sts, o.strength), append(names, o.policy.Name)
				}
			}
			if len(sts) > 1 && !anySatisfiesAll(sts, u.Registered) {
				stuckTogether = append(stuckTogether, u.ID)
				for _, n := range names {
					together[n] = true
				}
			}
		}
		if len(stuck) > 0 {
			out = append(out, finding(LintUsersCannotSatisfy, stuck,
				"%d user(s) in scope have no registered method that meets %q; issue them a temporary access pass (if the strength accepts one) or have them register a passkey first", len(stuck), s.Name))
		}
		if len(stuckTogether) > 0 {
			out = append(out, finding(LintUsersCannotSatisfy, stuckTogether,
				"%d user(s) in scope have a method that meets %q, but none that also meets what %s, enabled, demand(s) wherever this policy applies; one sign-in must meet every enforced policy, so give these people a method that meets them all, or make the strengths agree", len(stuckTogether), s.Name, quoteNames(slices.Sorted(maps.Keys(together)))))
		}
	}
	if slices.Contains(p.Applications.IncludeUserActions, UserActionRegisterSecurityInfo) && len(inScope) > 0 {
		tapOK := false
		if !p.Grant.Block && hasStrength {
			tapOK, _ = s.SatisfiedBy(tapContext)
		}
		if !tapOK {
			out = append(out, finding(LintRegisterInfoParadox, ids(inScope),
				"the policy demands more than a temporary access pass can give for registering security info, so nobody without a passkey can register one; require %q (which a temporary access pass meets) for %s instead", StrengthMFA, UserActionRegisterSecurityInfo))
		}
	}
	if slices.Contains(p.Users.IncludeUsers, All) && !hasBreakGlass(p, all, dir) {
		var admins []string
		for _, u := range inScope {
			if slices.Contains(u.Roles, latchkey.RoleGlobalAdmin) {
				admins = append(admins, u.ID)
			}
		}
		out = append(out, finding(LintNoBreakGlass, admins,
			"the policy covers all users and excludes no break-glass account; exclude at least one global admin by user id (and keep them out of any blocking policy)"))
	}
	if p.Grant.Block && !narrowed(p.Conditions) && len(dir.Users) > 0 && len(inScope) == len(dir.Users) {
		out = append(out, finding(LintBlocksEveryone, ids(inScope), "the policy blocks every user of the directory, everywhere"))
	}
	return out
}

// narrowed reports whether c has a platform, location or client-type condition, so that the
// policy applies to some sign-ins of the people in scope and not to others.
func narrowed(c Conditions) bool {
	return len(c.Platforms.IncludePlatforms)+len(c.Platforms.ExcludePlatforms)+len(c.Locations.IncludeLocations)+len(c.Locations.ExcludeLocations) > 0 ||
		len(c.ClientTypes) > 0 && !slices.Contains(c.ClientTypes, All)
}

// demand is an enabled policy and the strength it demands.
type demand struct {
	policy   ConditionalAccessPolicy
	strength Strength
}

// alongside returns the other enabled policies that demand a strength wherever p applies, for
// the people they cover: they share an application (or the registerSecurityInformation action)
// with p and have no condition that could make them stand aside, so a sign-in that p lets
// through must meet their strengths too.
func alongside(p ConditionalAccessPolicy, all []ConditionalAccessPolicy, strengths map[string]Strength) []demand {
	var out []demand
	for _, o := range all {
		if o.ID == p.ID || o.State != CAStateEnabled || o.Grant.Block || o.Grant.StrengthID == p.Grant.StrengthID ||
			narrowed(o.Conditions) || !sharesTarget(p.Applications, o.Applications) {
			continue
		}
		if st, ok := strengths[o.Grant.StrengthID]; ok {
			out = append(out, demand{o, st})
		}
	}
	return out
}

// sharesTarget reports whether a and b both cover some application, or both the
// registerSecurityInformation action.
func sharesTarget(a, b Applications) bool {
	if slices.Contains(a.IncludeUserActions, UserActionRegisterSecurityInfo) && slices.Contains(b.IncludeUserActions, UserActionRegisterSecurityInfo) {
		return true
	}
	covers := func(x Applications, app string) bool {
		return (slices.Contains(x.IncludeApplications, All) || slices.Contains(x.IncludeApplications, app)) && !slices.Contains(x.ExcludeApplications, app)
	}
	switch {
	case slices.Contains(a.IncludeApplications, All) && slices.Contains(b.IncludeApplications, All):
		return true
	case slices.Contains(a.IncludeApplications, All):
		return slices.ContainsFunc(b.IncludeApplications, func(app string) bool { return covers(a, app) && covers(b, app) })
	default:
		return slices.ContainsFunc(a.IncludeApplications, func(app string) bool { return covers(a, app) && covers(b, app) })
	}
}

// anySatisfiesAll reports whether one of ctxs meets every strength of sts.
func anySatisfiesAll(sts []Strength, ctxs []AuthenticationContext) bool {
	return slices.ContainsFunc(ctxs, func(c AuthenticationContext) bool {
		for _, s := range sts {
			if ok, _ := s.SatisfiedBy(c); !ok {
				return false
			}
		}
		return true
	})
}

func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, " and ")
}

func finding(code string, users []string, format string, args ...any) Finding {
	users = slices.Clone(users)
	slices.Sort(users)
	return Finding{Code: code, Severity: SeverityError, Message: fmt.Sprintf(format, args...), Users: users}
}

func ids(us []DirectoryUser) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// hasBreakGlass reports whether p excludes, by user id, a global admin whom no other enabled
// block policy covering all applications catches.
func hasBreakGlass(p ConditionalAccessPolicy, all []ConditionalAccessPolicy, dir LintDirectory) bool {
	for _, u := range dir.Users {
		if !slices.Contains(p.Users.ExcludeUsers, u.ID) || !slices.Contains(u.Roles, latchkey.RoleGlobalAdmin) {
			continue
		}
		caught := false
		for _, o := range all {
			if o.ID == p.ID || o.State != CAStateEnabled || !o.Grant.Block || !slices.Contains(o.Applications.IncludeApplications, All) {
				continue
			}
			if ok, _ := inUserScope(o.Users, u.Principal); ok {
				caught = true
				break
			}
		}
		if !caught {
			return true
		}
	}
	return false
}

// People says "1 person" or "n people".
func People(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}

// AffectedUsers returns the distinct users the error findings name, sorted.
func AffectedUsers(findings []Finding) []string {
	var out []string
	for _, f := range findings {
		if f.Severity == SeverityError {
			out = append(out, f.Users...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Refuse returns nil when the policy may be turned on: no error finding names a user, or
// override equals the number of distinct users the error findings name (the admin typed the
// count they were shown, so an override cannot be given blind or go stale when the directory
// changes). Otherwise it returns a lockout_override_required refusal listing the findings.
func Refuse(findings []Finding, override int) error {
	n := len(AffectedUsers(findings))
	if n == 0 || override == n {
		return nil
	}
	codes := make([]string, 0, len(findings))
	for _, f := range findings {
		codes = append(codes, fmt.Sprintf("%s (%d users): %s", f.Code, len(f.Users), f.Message))
	}
	return latchkey.Errorf(latchkey.EINVALID, CodeLockoutOverrideNeeded,
		fmt.Sprintf("Turning this policy on could lock out %s. Fix it, or confirm by entering %d as the override.", People(n), n),
		"lint findings: %s; override %d does not equal %d affected users", strings.Join(codes, "; "), override, n)
}
