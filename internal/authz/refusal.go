package authz

import (
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Refusal codes (latchkey.Error.Code), stable for programs.
const (
	// CodeNotSignedIn: no actor (kind EUNAUTHORIZED).
	CodeNotSignedIn = "not_signed_in"
	// CodeNotAllowed: no role, relation or scope of the actor allows the action.
	CodeNotAllowed = "not_allowed"
	// CodeOutsideUnit: the actor's role is scoped to administrative units that do not cover the
	// target, or the action is tenant-wide and the role is scoped.
	CodeOutsideUnit = "outside_unit"
	// CodeNotForYourself: an action that someone else must do for the actor (a pass, another
	// person's methods, an approval).
	CodeNotForYourself = "not_for_yourself"
	// CodeApprovalRequired: the helpdesk may issue this pass only through a request that a
	// second administrator approves.
	CodeApprovalRequired = "approval_required"
	// CodePrivilegedTarget: the target holds a role, which the actor's role does not cover.
	CodePrivilegedTarget = "privileged_target"
	// CodeMissingScope: the API token lacks the scope the action needs.
	CodeMissingScope = "missing_scope"
	// CodeOwnRequest: the approver is the one who asked for the pass.
	CodeOwnRequest = "own_request"
	// CodeFreshSignInRequired: approving needs a phishing-resistant sign-in of the last
	// ApprovalSignInMaxAge.
	CodeFreshSignInRequired = "fresh_signin_required"
	// CodeUnknownAction and CodeBadTarget are bugs in the caller (kind EINTERNAL): an action not
	// in Actions, or a target of the wrong kind or without the ID the action needs.
	CodeUnknownAction = "unknown_action"
	CodeBadTarget     = "bad_target"
)

// refusal is a refusal before the actor and target are written into its detail.
type refusal struct {
	code    string
	message string
	reason  string
}

// rank orders the refusals that role assignments give, so that an actor with several
// assignments hears the one that got furthest: approval beats a privileged target, which
// beats a unit, which beats no grant at all.
func (r *refusal) rank() int {
	switch r.code {
	case CodeApprovalRequired:
		return 4
	case CodePrivilegedTarget:
		return 3
	case CodeOutsideUnit:
		return 2
	}
	return 1
}

func notAllowed(a latchkey.Actor, info actionInfo, reason string) *refusal {
	msg := "Your role does not let you " + info.phrase + "; ask a global admin."
	if len(a.Roles) == 0 {
		msg = "You need an administrative role to " + info.phrase + "; ask a global admin."
	}
	return &refusal{code: CodeNotAllowed, message: msg, reason: reason}
}

func outsideUnit(info actionInfo, t Target, unitID string) *refusal {
	if info.tenantWide {
		return &refusal{code: CodeOutsideUnit,
			message: "Your role covers only an administrative unit; to " + info.phrase + " you need it over the whole directory. Ask a global admin.",
			reason:  "the action is tenant-wide and the assignment is scoped to unit " + unitID}
	}
	what := "this person is"
	if t.Kind == TargetGroup {
		what = "this group is"
	}
	return &refusal{code: CodeOutsideUnit,
		message: "Your role covers only its administrative units, and " + what + " not in them; ask an admin whose role covers them.",
		reason:  "the target is not in unit " + unitID}
}

func notForYourself(a latchkey.Actor, action Action) *refusal {
	r := &refusal{code: CodeNotForYourself, reason: "the target is the actor"}
	switch {
	case (action == ActionIssueTAP || action == ActionIssueStaffTAP) && hasGlobal(a, latchkey.RoleGlobalAdmin):
		r.message = "You can't issue a pass for yourself. Ask another administrator, or run \"latchkey tap issue\" on the server."
	case action == ActionIssueTAP || action == ActionIssueStaffTAP:
		r.message = "You can't issue a pass for yourself. Ask an administrator, or use \"I have a new phone\" where you are still signed in with a passkey."
	case action == ActionApproveHelpdeskRequest:
		r.message = "You can't approve a pass for yourself; another administrator must."
	default:
		r.message = "To see or change your own sign-in methods, use My security info."
	}
	return r
}

func privilegedTarget(action Action, info actionInfo) *refusal {
	if action == ActionIssueTAP {
		return &refusal{code: CodeApprovalRequired,
			message: "This person holds an administrative role, so a second administrator must approve their pass: send it as a request for approval.",
			reason:  "the target holds a role; an authentication admin's pass for them needs two-person approval"}
	}
	msg := "This person holds an administrative role; only a privileged authentication admin can " + info.phrase + "."
	if action == ActionIssueStaffTAP {
		msg = "This person holds an administrative role; ask a privileged authentication admin to help them."
	}
	return &refusal{code: CodePrivilegedTarget, message: msg, reason: "the target holds a role"}
}

// toError writes the actor, action and target into the refusal's detail, for the admin.
func (r *refusal) toError(a latchkey.Actor, action Action, t Target) *latchkey.Error {
	return &latchkey.Error{Kind: latchkey.EFORBIDDEN, Code: r.code, Message: r.message,
		Detail: fmt.Sprintf("%s may not %s on %s: %s", describeActor(a), action, describeTarget(t), r.reason)}
}

func describeActor(a latchkey.Actor) string {
	switch a.Kind {
	case latchkey.ActorToken:
		return fmt.Sprintf("token %q (id %s) with scopes [%s]", a.TokenName, a.TokenID, strings.Join(a.Scopes, " "))
	case latchkey.ActorPerson:
		roles := make([]string, 0, len(a.Roles))
		for _, r := range a.Roles {
			if r.UnitID != "" {
				roles = append(roles, r.Role+"@unit:"+r.UnitID)
			} else {
				roles = append(roles, r.Role)
			}
		}
		via := ""
		if a.CLI {
			via = " on the server's CLI"
		}
		return fmt.Sprintf("user %s (id %s)%s with roles [%s]", a.UPN, a.UserID, via, strings.Join(roles, " "))
	}
	return a.Name()
}

func describeTarget(t Target) string {
	s := t.Kind
	if t.ID != "" {
		s += " " + t.ID
	}
	switch t.Kind {
	case TargetUser:
		s += fmt.Sprintf(" (roles [%s], units [%s], manager %q)", strings.Join(t.Roles, " "), strings.Join(t.UnitIDs, " "), t.ManagerID)
	case TargetGroup:
		s += fmt.Sprintf(" (units [%s])", strings.Join(t.UnitIDs, " "))
	}
	if t.RequesterID != "" {
		s += fmt.Sprintf(" requested by %s", t.RequesterID)
	}
	return s
}
