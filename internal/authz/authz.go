// Package authz decides who may do what: one pure function, Decide(actor, action, target), that
// every service calls before it changes or shows anything, so that the pages, the API, SCIM and
// the CLI obey the same rules (DESIGN §5). It does no I/O: the service gathers the facts about
// the actor (latchkey.Actor: roles with their scopes, session facts, token scopes) and about the
// target (Target: its kind, and for a person their roles, administrative units and manager).
//
// The model:
//
//   - A person acts through roles. A role assigned over the whole directory covers every user
//     and group; a role scoped to an administrative unit covers only the unit's members
//     (outside_unit otherwise), and never tenant-wide objects (policies, roles, units, tokens,
//     applications, keys, logs, reports). An assignment's scope is always applied, even to a
//     global admin wrongly assigned to a unit. A person with several assignments may do what
//     any one of them allows. To list users, decide for each and keep the allowed ones; an
//     ID-less user target ("all users") is covered only by a role over the whole directory. The global admin may do everything, with the
//     exceptions below. The privileged authentication admin manages anyone's methods, admins
//     included; the authentication admin (helpdesk) only those of people who hold no role: a
//     pass for a privileged person goes through a request that a second administrator approves
//     (approval_required). The authentication policy admin changes policies; the reports reader
//     reads logs and reports. Every role reads users and groups within its scope.
//   - Two actions follow a relation, which no role stands in for: a person changes their own
//     security info, and a manager issues a pass to a direct report who holds no role (whether
//     the methods policy allows My Staff is the service's check, not this package's).
//   - Nobody acts on their own methods through the admin actions (not_for_yourself): a pass for
//     oneself comes from the kiosk, or for a global admin from `latchkey tap issue` on the
//     server (Actor.CLI), the break-glass path. A global admin may still see, revoke and remove
//     their own methods through the admin actions; everyone else uses My security info.
//   - Approving a helpdesk request needs someone who could issue the pass directly (a global
//     admin, or a privileged authentication admin whose scope covers the person), who is
//     neither the requester nor the person, signed in with a phishing-resistant method in the
//     last ApprovalSignInMaxAge.
//   - An API token acts through its scopes, Microsoft Graph's application permissions (DESIGN §4;
//     ReadWrite includes Read). No scope covers roles, units, tokens, applications, keys,
//     anyone's own security info, My Staff or approvals.
//   - The system actor (Latchkey itself) may do everything.
//
// Refusals are *latchkey.Error values of kind EFORBIDDEN (EUNAUTHORIZED when there is no actor)
// with one of the Code* constants, a sentence for the person and a detail naming the actor,
// their roles, the action and the target for the admin.
package authz

import (
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// clockSkew is how far in the future a session's sign-in time may lie (nodes' clocks differ).
const clockSkew = time.Minute

// grants lists what each role may do, before scopes, targets and relations are considered.
// The global admin holds every action that a role can grant.
var grants = map[string][]Action{
	latchkey.RolePrivilegedAuthenticationAdmin: {ActionReadUsers, ActionReadGroups,
		ActionReadMethods, ActionIssueTAP, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser, ActionApproveHelpdeskRequest},
	latchkey.RoleAuthenticationPolicyAdmin: {ActionReadUsers, ActionReadGroups,
		ActionReadMethodsPolicy, ActionWriteMethodsPolicy, ActionReadConditionalAccess, ActionWriteConditionalAccess},
	latchkey.RoleAuthenticationAdmin: {ActionReadUsers, ActionReadGroups,
		ActionReadMethods, ActionIssueTAP, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser},
	latchkey.RoleReportsReader: {ActionReadUsers, ActionReadGroups,
		ActionReadSignInLog, ActionReadAuditLog, ActionReadReports, ActionReadProvisioning},
}

// roleGrants reports whether role may do action at all. The two relation actions (own security
// info, My Staff) are decided before roles are looked at.
func roleGrants(role string, action Action) bool {
	if role == latchkey.RoleGlobalAdmin {
		return true
	}
	for _, g := range grants[role] {
		if g == action {
			return true
		}
	}
	return false
}

// Decide returns nil when the actor may do action on t, and the refusal otherwise.
func Decide(a latchkey.Actor, action Action, t Target) error {
	switch a.Kind {
	case latchkey.ActorPerson, latchkey.ActorToken, latchkey.ActorSystem:
	default:
		return &latchkey.Error{Kind: latchkey.EUNAUTHORIZED, Code: CodeNotSignedIn, Message: "Please sign in first.",
			Detail: fmt.Sprintf("no signed-in actor (kind %q) for %s", a.Kind, action)}
	}
	info, ok := actions[action]
	if !ok {
		return latchkey.Errorf(latchkey.EINTERNAL, CodeUnknownAction, "Something went wrong on our side.",
			"authz: unknown action %q", action)
	}
	if t.Kind != info.kind || (info.needsID && t.ID == "") {
		return latchkey.Errorf(latchkey.EINTERNAL, CodeBadTarget, "Something went wrong on our side.",
			"authz: action %s takes a %s target with an id, got kind %q id %q", action, info.kind, t.Kind, t.ID)
	}
	var r *refusal
	switch a.Kind {
	case latchkey.ActorSystem:
		return nil
	case latchkey.ActorToken:
		r = decideToken(a, info, t)
	default:
		r = decidePerson(a, action, info, t)
	}
	if r != nil {
		return r.toError(a, action, t)
	}
	return nil
}

// decideToken applies a token's scopes, and keeps tokens off people who hold a role for the
// actions that spare admins.
func decideToken(a latchkey.Actor, info actionInfo, t Target) *refusal {
	if info.scopes == nil {
		return &refusal{code: CodeNotAllowed,
			message: "API tokens cannot " + info.phrase + "; a global admin does this on the admin pages or with the server's command line.",
			reason:  "no token scope grants this action"}
	}
	for _, have := range a.Scopes {
		for _, want := range info.scopes {
			if have != want {
				continue
			}
			if info.sparesAdmins && t.privileged() {
				return &refusal{code: CodePrivilegedTarget,
					message: "API tokens cannot " + info.phrase + " because this person holds an administrator role; a global admin does this on the admin pages or with the server's command line.",
					reason:  "the target holds a role (" + strings.Join(t.Roles, " ") + "); tokens do not act on administrators"}
			}
			return nil
		}
	}
	return &refusal{code: CodeMissingScope,
		message: "This token lacks the permission to " + info.phrase + ": it needs " + info.scopes[0] + ".",
		reason:  "the token has none of the scopes [" + strings.Join(info.scopes, " ") + "]"}
}

// decidePerson applies relations first (oneself, one's reports), then role assignments.
func decidePerson(a latchkey.Actor, action Action, info actionInfo, t Target) *refusal {
	self := a.UserID != "" && t.ID == a.UserID
	switch action {
	case ActionManageOwnSecurityInfo:
		if self {
			return nil
		}
		return &refusal{code: CodeNotAllowed, message: "Only the person themself can change their security info.",
			reason: "own security info is changed only by its owner"}
	case ActionIssueStaffTAP:
		switch {
		case self:
			return notForYourself(a, action)
		case a.UserID == "" || t.ManagerID != a.UserID:
			return &refusal{code: CodeNotAllowed, message: "On My Staff you can issue a pass only to people who report to you.",
				reason: "the target is not the actor's direct report"}
		case t.privileged():
			return privilegedTarget(action, info)
		}
		return nil
	}
	if self && !mayActOnSelf(a, action) {
		return notForYourself(a, action)
	}
	if len(a.Roles) == 0 {
		return notAllowed(a, info, "the actor holds no role")
	}
	// The action is allowed when one assignment allows it; otherwise the person hears the
	// refusal that got furthest.
	var best *refusal
	for _, asg := range a.Roles {
		r := decideAssignment(a, asg, action, info, t)
		if r == nil {
			if action == ActionApproveHelpdeskRequest {
				return decideApproval(a, t)
			}
			return nil
		}
		if best == nil || r.rank() > best.rank() {
			best = r
		}
	}
	return best
}

// mayActOnSelf reports whether a may do action on themself: the admin actions on one's own
// methods are for others to do, except that a global admin may see and remove their own
// methods, and issue themself a pass on the server's CLI.
func mayActOnSelf(a latchkey.Actor, action Action) bool {
	switch action {
	case ActionIssueTAP:
		return a.CLI && hasGlobal(a, latchkey.RoleGlobalAdmin)
	case ActionReadMethods, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser:
		return hasGlobal(a, latchkey.RoleGlobalAdmin)
	case ActionApproveHelpdeskRequest:
		return false
	}
	return true
}

// hasGlobal reports whether a holds role over the whole directory.
func hasGlobal(a latchkey.Actor, role string) bool {
	for _, r := range a.Roles {
		if r.Role == role && r.UnitID == "" {
			return true
		}
	}
	return false
}

// decideAssignment applies one role assignment: the role's grants, its scope, and the
// helpdesk's limit to people who hold no role.
func decideAssignment(a latchkey.Actor, asg latchkey.RoleAssignment, action Action, info actionInfo, t Target) *refusal {
	if !roleGrants(asg.Role, action) {
		return notAllowed(a, info, "no role of the actor grants this action")
	}
	if asg.UnitID != "" && (info.tenantWide || !t.inUnit(asg.UnitID)) {
		return outsideUnit(info, t, asg.UnitID)
	}
	if asg.Role == latchkey.RoleAuthenticationAdmin && isMethodsAction(action) && t.privileged() {
		return privilegedTarget(action, info)
	}
	return nil
}

// decideApproval applies the two-person rule's conditions on the approver.
func decideApproval(a latchkey.Actor, t Target) *refusal {
	if t.RequesterID == a.UserID {
		return &refusal{code: CodeOwnRequest, message: "You asked for this pass, so someone else must approve it.",
			reason: "the approver is the requester"}
	}
	// A sign-in stamped up to clockSkew after now (another node's clock) still counts.
	age := t.Now.Sub(a.AuthenticatedAt)
	if !a.PhishingResistant || a.AuthenticatedAt.IsZero() || t.Now.IsZero() || age > ApprovalSignInMaxAge || age < -clockSkew {
		return &refusal{code: CodeFreshSignInRequired,
			message: "Sign in again with a passkey to approve this: approvals need a passkey sign-in within the last 5 minutes.",
			reason: fmt.Sprintf("approval needs a phishing-resistant sign-in at most %v before now; phishing-resistant %t, signed in at %s, now %s",
				ApprovalSignInMaxAge, a.PhishingResistant, a.AuthenticatedAt.UTC().Format(time.RFC3339), t.Now.UTC().Format(time.RFC3339))}
	}
	return nil
}

// Can reports whether the actor could do action on some target, so that pages show only what
// the viewer may use. Every person may change their own security info and could be someone's
// manager; Decide still rules on each target.
func Can(a latchkey.Actor, action Action) bool {
	info, ok := actions[action]
	if !ok {
		return false
	}
	switch a.Kind {
	case latchkey.ActorSystem:
		return true
	case latchkey.ActorToken:
		return decideToken(a, info, Target{}) == nil
	case latchkey.ActorPerson:
	default:
		return false
	}
	if action == ActionManageOwnSecurityInfo || action == ActionIssueStaffTAP {
		return true
	}
	for _, asg := range a.Roles {
		if roleGrants(asg.Role, action) && (asg.UnitID == "" || !info.tenantWide) {
			return true
		}
	}
	return false
}
