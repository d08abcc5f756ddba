package authz

import "github.com/latchkey/latchkey/internal/latchkey"

// Action is something a service does on behalf of an actor. Its value is stable: the audit log
// and the admin detail of a refusal name it.
type Action string

// Actions on people and groups.
const (
	// ActionReadUsers reads one user (or, with an ID-less target, the whole list).
	ActionReadUsers  Action = "users.read"
	ActionCreateUser Action = "users.create"
	ActionUpdateUser Action = "users.update"
	// ActionDisableUser disables or enables a user.
	ActionDisableUser Action = "users.disable"
	ActionDeleteUser  Action = "users.delete"
	ActionReadGroups  Action = "groups.read"
	// ActionManageGroups creates, renames and deletes groups and changes their members.
	ActionManageGroups Action = "groups.manage"
)

// Actions on another person's authentication methods ("methods actions").
const (
	// ActionReadMethods lists a user's authentication methods (passkeys, pass, password, TOTP).
	ActionReadMethods   Action = "methods.read"
	ActionIssueTAP      Action = "tap.issue"
	ActionRevokeTAP     Action = "tap.revoke"
	ActionRemovePasskey Action = "passkey.remove"
	// ActionSignOutUser ends every session and refresh token of a user ("sign out everywhere").
	ActionSignOutUser Action = "sessions.revoke"
)

// Actions that depend on a relation between the actor and the target, not on a role.
const (
	// ActionManageOwnSecurityInfo registers, renames or removes one's own passkey and sets one's
	// own password or TOTP: any person, on themself only.
	ActionManageOwnSecurityInfo Action = "self.securityInfo"
	// ActionIssueStaffTAP issues a recovery pass to a direct report on My Staff.
	ActionIssueStaffTAP Action = "staff.tap.issue"
	// ActionApproveHelpdeskRequest approves a helpdesk request for a pass for a privileged user
	// (two-person approval, DESIGN §5).
	ActionApproveHelpdeskRequest Action = "recovery.approve"
)

// Actions on tenant-wide objects: they need a role assigned over the whole directory.
const (
	ActionReadMethodsPolicy Action = "policy.methods.read"
	// ActionWriteMethodsPolicy changes the authentication methods policy, passkey profiles and
	// the TAP policy.
	ActionWriteMethodsPolicy    Action = "policy.methods.write"
	ActionReadConditionalAccess Action = "policy.conditionalAccess.read"
	// ActionWriteConditionalAccess changes conditional access policies, authentication
	// strengths and named locations.
	ActionWriteConditionalAccess Action = "policy.conditionalAccess.write"
	// ActionManageRoles assigns and removes roles.
	ActionManageRoles Action = "roles.manage"
	// ActionManageUnits creates administrative units and changes their members.
	ActionManageUnits Action = "units.manage"
	// ActionManageTokens creates, lists and revokes API tokens.
	ActionManageTokens Action = "tokens.manage"
	// ActionManageApplications registers and changes OpenID Connect clients.
	ActionManageApplications Action = "applications.manage"
	// ActionManageSigningKeys rotates the OpenID provider's signing keys.
	ActionManageSigningKeys Action = "keys.manage"
	ActionReadSignInLog     Action = "signInLog.read"
	ActionReadAuditLog      Action = "auditLog.read"
	// ActionReadReports reads readiness, KPIs and waves.
	ActionReadReports Action = "reports.read"
	// ActionReadProvisioning reads the provisioning log and the onboarding state of the people
	// created lately (the provisioning page and API).
	ActionReadProvisioning Action = "provisioning.read"
)

// Actions lists every action. Tests iterate it; an action missing here is refused by Decide.
var Actions = []Action{
	ActionReadUsers, ActionCreateUser, ActionUpdateUser, ActionDisableUser, ActionDeleteUser,
	ActionReadGroups, ActionManageGroups,
	ActionReadMethods, ActionIssueTAP, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser,
	ActionManageOwnSecurityInfo, ActionIssueStaffTAP, ActionApproveHelpdeskRequest,
	ActionReadMethodsPolicy, ActionWriteMethodsPolicy, ActionReadConditionalAccess, ActionWriteConditionalAccess,
	ActionManageRoles, ActionManageUnits, ActionManageTokens, ActionManageApplications, ActionManageSigningKeys,
	ActionReadSignInLog, ActionReadAuditLog, ActionReadReports, ActionReadProvisioning,
}

// actionInfo is what Decide needs to know about an action beyond the role grants.
type actionInfo struct {
	// kind is the Target.Kind the action takes.
	kind string
	// needsID reports whether the target must name one user: actions whose rule depends on who
	// the target is (themself, a privileged user, a direct report).
	needsID bool
	// tenantWide reports whether the action needs a role assigned over the whole directory.
	tenantWide bool
	// scopes are the token scopes that grant the action, narrowest first; nil when no token
	// may do it.
	scopes []string
	// phrase completes "let you ...", for the person.
	phrase string
	// sparesAdmins reports whether a token is refused the action on a person who holds a role:
	// an HR feed or a script changes employees, never the administrators who could undo it
	// (Graph likewise keeps application permissions off privileged accounts).
	sparesAdmins bool
}

var actions = map[Action]actionInfo{
	ActionReadUsers:   {kind: TargetUser, scopes: []string{latchkey.ScopeUserReadAll, latchkey.ScopeUserReadWriteAll}, phrase: "see users"},
	ActionCreateUser:  {kind: TargetUser, scopes: []string{latchkey.ScopeUserReadWriteAll}, phrase: "create users"},
	ActionUpdateUser:  {kind: TargetUser, scopes: []string{latchkey.ScopeUserReadWriteAll}, phrase: "change this person's profile", sparesAdmins: true},
	ActionDisableUser: {kind: TargetUser, scopes: []string{latchkey.ScopeUserReadWriteAll}, phrase: "disable or enable this person's account", sparesAdmins: true},
	ActionDeleteUser:  {kind: TargetUser, scopes: []string{latchkey.ScopeUserReadWriteAll}, phrase: "delete this person's account", sparesAdmins: true},

	ActionReadGroups:   {kind: TargetGroup, scopes: []string{latchkey.ScopeGroupReadWriteAll}, phrase: "see groups"},
	ActionManageGroups: {kind: TargetGroup, scopes: []string{latchkey.ScopeGroupReadWriteAll}, phrase: "change groups"},

	ActionReadMethods:   {kind: TargetUser, needsID: true, scopes: []string{latchkey.ScopeUserAuthenticationMethodRWAll}, phrase: "see this person's sign-in methods"},
	ActionIssueTAP:      {kind: TargetUser, needsID: true, scopes: []string{latchkey.ScopeUserAuthenticationMethodRWAll}, phrase: "issue this person a Temporary Access Pass", sparesAdmins: true},
	ActionRevokeTAP:     {kind: TargetUser, needsID: true, scopes: []string{latchkey.ScopeUserAuthenticationMethodRWAll}, phrase: "revoke this person's Temporary Access Pass", sparesAdmins: true},
	ActionRemovePasskey: {kind: TargetUser, needsID: true, scopes: []string{latchkey.ScopeUserAuthenticationMethodRWAll}, phrase: "remove this person's passkey", sparesAdmins: true},
	ActionSignOutUser:   {kind: TargetUser, needsID: true, scopes: []string{latchkey.ScopeUserAuthenticationMethodRWAll}, phrase: "sign this person out everywhere", sparesAdmins: true},

	ActionManageOwnSecurityInfo:  {kind: TargetUser, needsID: true, phrase: "change this person's security info"},
	ActionIssueStaffTAP:          {kind: TargetUser, needsID: true, phrase: "issue this person a pass on My Staff"},
	ActionApproveHelpdeskRequest: {kind: TargetUser, needsID: true, phrase: "approve a helpdesk request for this person's pass"},

	ActionReadMethodsPolicy:      {kind: TargetPolicy, tenantWide: true, scopes: []string{latchkey.ScopePolicyReadAll, latchkey.ScopePolicyReadWriteAuthMethod}, phrase: "see the authentication methods policy"},
	ActionWriteMethodsPolicy:     {kind: TargetPolicy, tenantWide: true, scopes: []string{latchkey.ScopePolicyReadWriteAuthMethod}, phrase: "change the authentication methods policy"},
	ActionReadConditionalAccess:  {kind: TargetPolicy, tenantWide: true, scopes: []string{latchkey.ScopePolicyReadAll, latchkey.ScopePolicyReadWriteConditionalAccess}, phrase: "see conditional access"},
	ActionWriteConditionalAccess: {kind: TargetPolicy, tenantWide: true, scopes: []string{latchkey.ScopePolicyReadWriteConditionalAccess}, phrase: "change conditional access"},

	ActionManageRoles:        {kind: TargetRole, tenantWide: true, phrase: "assign or remove roles"},
	ActionManageUnits:        {kind: TargetUnit, tenantWide: true, phrase: "change administrative units"},
	ActionManageTokens:       {kind: TargetToken, tenantWide: true, phrase: "manage API tokens"},
	ActionManageApplications: {kind: TargetApplication, tenantWide: true, phrase: "manage applications"},
	ActionManageSigningKeys:  {kind: TargetKey, tenantWide: true, phrase: "manage signing keys"},

	ActionReadSignInLog: {kind: TargetLog, tenantWide: true, scopes: []string{latchkey.ScopeAuditLogReadAll}, phrase: "see the sign-in log"},
	ActionReadAuditLog:  {kind: TargetLog, tenantWide: true, scopes: []string{latchkey.ScopeAuditLogReadAll}, phrase: "see the audit log"},
	ActionReadReports:   {kind: TargetReport, tenantWide: true, scopes: []string{latchkey.ScopeReportsReadAll}, phrase: "see reports"},
	// The provisioning log is a log: the same scope as the sign-in and audit logs.
	ActionReadProvisioning: {kind: TargetLog, tenantWide: true, scopes: []string{latchkey.ScopeAuditLogReadAll}, phrase: "see the provisioning log"},
}

// isMethodsAction reports whether action acts on another person's authentication methods.
func isMethodsAction(action Action) bool {
	switch action {
	case ActionReadMethods, ActionIssueTAP, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser:
		return true
	}
	return false
}

// RequiredScope returns the narrowest API token scope that grants action, for a 403's message;
// "" when no token may do it.
func RequiredScope(action Action) string {
	if s := actions[action].scopes; len(s) > 0 {
		return s[0]
	}
	return ""
}

// AcceptedScopes returns every API token scope that grants action (any one suffices), narrowest
// first; nil when no token may do it.
func AcceptedScopes(action Action) []string {
	return append([]string(nil), actions[action].scopes...)
}
