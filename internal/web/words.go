package web

import (
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// The words the sign-in log and the audit log show in place of the codes they store. The
// codes stay in the details and the filters, where an admin may search by them; an unknown code
// is shown as it is.

func init() {
	templateFuncs["methodWords"] = methodWords
	templateFuncs["failureWords"] = failureWords
	templateFuncs["caResultWords"] = caResultWords
	templateFuncs["actionWords"] = actionWords
	templateFuncs["targetWords"] = targetWords
}

// methodWords names a sign-in method as a person says it.
func methodWords(m string) string {
	if w, ok := map[string]string{
		latchkey.MethodPasskey: "passkey", latchkey.MethodTAP: "temporary access pass", latchkey.MethodPassword: "password",
		latchkey.MethodTOTP: "authenticator app code", "password+totp": "password and authenticator app",
		"passkeyRegistration": "passkey registration", "identityVerification": "identity verification (recovery)", policy.MethodFederated: "another organisation's sign-in",
	}[m]; ok {
		return w
	}
	return m
}

// failureWords says briefly why a sign-in failed, from its error code.
func failureWords(code string) string {
	if w, ok := map[string]string{
		"identity_not_matched": "identity check did not match the record", "identity_verification_failed": "identity check did not complete",
		"tap_invalid": "wrong user name or pass", "tap_expired": "pass expired", "tap_used": "pass already used",
		"tap_not_yet_valid": "pass not valid yet", "tap_locked": "pass locked after wrong tries",
		"tap_disabled_by_policy": "passes turned off", "account_disabled": "account turned off",
		"passkey_unknown": "passkey not known here", "passkey_not_registered": "passkey not known here",
		"passkey_not_for_user": "passkey of someone else", "possible_clone": "passkey may have been copied",
		"user_verification_required": "device did not check it was them", "password_invalid": "wrong password",
		"password_locked": "password locked after wrong tries", "too_many_attempts": "too many attempts",
		"challenge_not_found": "page expired", "signin_expired": "sign-in took too long",
		"method_disabled_for_user": "method not turned on for them", "strong_signin_required": "needed a stronger sign-in",
		"kind_not_allowed": "kind of passkey not allowed", "aaguid_blocked": "passkey model blocked",
		"aaguid_not_allowed": "passkey model not approved", "attestation_required": "approved security key required",
		"authenticator_revoked": "passkey model no longer trusted", "no_passkey_profile": "passkeys not set up for them",
		"blocked_by_policy": "blocked by a conditional access policy", "strength_not_met": "sign-in not strong enough",
		"sign_in_frequency": "needed to sign in again", "step_up_required": "needed a stronger sign-in",
		"self_service_registration_disabled": "may not add passkeys themself", "guest_registration_disabled": "guests may not add passkeys",
		"assertion_replayed": "passkey answer replayed", "origin_mismatch": "wrong web address", "unknown_application": "unknown application",
	}[code]; ok {
		return w
	}
	return strings.ReplaceAll(code, "_", " ")
}

// caResultWords says what a conditional access policy did to a sign-in.
func caResultWords(r string) string {
	if w, ok := map[string]string{
		policy.ResultSuccess: "applied, and was met", policy.ResultFailure: "blocked it",
		policy.ResultNotApplied: "did not apply", policy.ResultReportOnlySuccess: "report-only: would have allowed it",
		policy.ResultReportOnlyFailure: "report-only: would have blocked it", policy.ResultReportOnlyNotApplied: "report-only: would not have applied",
		policy.ResultReportOnlyInterrupted: "report-only: would have asked for more",
	}[r]; ok {
		return w
	}
	return r
}

// actionWords says what an audit event's action did.
func actionWords(action string) string {
	if w, ok := map[string]string{
		"user.create": "Added a person", "user.update": "Edited a person's details", "user.delete": "Deleted a person",
		"user.disable": "Turned an account off", "user.enable": "Turned an account on", "user.setManager": "Set a manager",
		"user.signOutEverywhere": "Signed a person out everywhere", "accessPass.issue": "Issued a temporary access pass",
		"accessPass.revoke": "Revoked a temporary access pass", "passkey.register": "Registered a passkey",
		"passkey.remove": "Removed a passkey", "role.assign": "Gave a role", "role.remove": "Took a role away",
		"group.create": "Created a group", "group.rename": "Renamed a group", "group.delete": "Deleted a group",
		"group.addMember": "Added a person to a group", "group.removeMember": "Took a person out of a group",
		"unit.create": "Created an administrative unit", "unit.delete": "Deleted an administrative unit",
		"unit.addMember": "Added to an administrative unit", "unit.removeMember": "Took out of an administrative unit",
		"token.create": "Created an API token", "token.revoke": "Revoked an API token",
		"application.create": "Added an application", "application.delete": "Removed an application",
		"methodsPolicy.update":     "Changed the authentication methods policy",
		"conditionalAccess.create": "Created a conditional access policy", "conditionalAccess.update": "Changed a conditional access policy",
		"conditionalAccess.setState": "Turned a conditional access policy on, off or to report-only",
		"conditionalAccess.delete":   "Deleted a conditional access policy", "conditionalAccess.replace": "Replaced all of conditional access",
		"strength.create": "Created an authentication strength", "strength.update": "Changed an authentication strength",
		"strength.delete": "Deleted an authentication strength", "namedLocation.create": "Created a named location",
		"namedLocation.update": "Changed a named location", "namedLocation.delete": "Deleted a named location",
		"signingKey.rotate": "Rotated the token-signing key",
	}[action]; ok {
		return w
	}
	return action
}

// targetWords names the kind of thing an audit event changed.
func targetWords(kind string) string {
	if w, ok := map[string]string{
		"user": "Person", "group": "Group", "policy": "Policy", "conditionalAccessPolicy": "Conditional access policy",
		"authenticationStrength": "Strength", "namedLocation": "Location", "administrativeUnit": "Unit",
		"apiToken": "API token", "application": "Application", "signingKey": "Signing key",
	}[kind]; ok {
		return w
	}
	return kind
}
