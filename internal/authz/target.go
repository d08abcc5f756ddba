package authz

import (
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Target kinds: what an action is done to. Each action takes one kind (a user for the methods
// actions, a policy for the policy actions, ...); Decide refuses a target of another kind as a
// bug in the caller.
const (
	TargetUser        = "user"
	TargetGroup       = "group"
	TargetPolicy      = "policy"
	TargetRole        = "role"
	TargetUnit        = "unit"
	TargetToken       = "token"
	TargetApplication = "application"
	TargetKey         = "key"
	TargetLog         = "log"
	TargetReport      = "report"
)

// Target describes what an action is done to: enough facts about it for Decide to apply the
// rules, gathered by the service beforehand (Decide does no I/O).
type Target struct {
	// Kind is one of the Target* constants.
	Kind string
	// ID is the user's or group's id. For a user it is required by the actions whose rule
	// depends on who the person is (methods, own security info, My Staff, approval); an
	// ID-less user or group target stands for "users" or "groups" at large (a list, or one
	// about to be created), which only a role over the whole directory covers.
	ID string
	// Roles are the role names the user holds at any scope; any role makes them privileged.
	Roles []string
	// UnitIDs are the administrative units the user or group is in (for a user: directly or
	// through a group).
	UnitIDs []string
	// ManagerID is the id of the user's manager; "" when none.
	ManagerID string

	// For ActionApproveHelpdeskRequest, the target is the user the pass is for and these
	// describe the request: who asked, and the time of the approval (the actor's sign-in must
	// be phishing-resistant and at most ApprovalSignInMaxAge before Now).
	RequesterID string
	Now         time.Time
}

// ApprovalSignInMaxAge is how recent an approver's phishing-resistant sign-in must be
// (DESIGN §5).
const ApprovalSignInMaxAge = 5 * time.Minute

// UserTarget returns the target for an action on u, who is in the administrative units
// unitIDs (as RoleStore.ListUserUnits returns them).
func UserTarget(u *latchkey.User, unitIDs []string) Target {
	return Target{Kind: TargetUser, ID: u.ID, Roles: u.Roles, UnitIDs: unitIDs, ManagerID: u.ManagerID}
}

// privileged reports whether the target holds any role.
func (t Target) privileged() bool {
	for _, r := range t.Roles {
		if r != "" {
			return true
		}
	}
	return false
}

// inUnit reports whether the target is in the administrative unit unitID.
func (t Target) inUnit(unitID string) bool {
	for _, id := range t.UnitIDs {
		if id == unitID {
			return true
		}
	}
	return false
}
