package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Passkey is what the policy needs to know about a passkey being registered or used.
type Passkey struct {
	AAGUID   string `json:"aaguid"`
	Provider string `json:"provider"` // from the AAGUID catalogue or metadata; "" when unknown
	Kind     string `json:"kind"`     // latchkey.KindDeviceBound or latchkey.KindSynced
	// Attestation is latchkey.AttestationAttested, Self, None, Untrusted, or AttestationRevoked.
	Attestation   string `json:"attestation"`
	UserVerified  bool   `json:"userVerified"`
	PossibleClone bool   `json:"possibleClone"`
	Nickname      string `json:"nickname"`
}

// PasskeyOf returns the policy facts of a stored passkey. userVerified is that of the current
// ceremony, not of the registration.
func PasskeyOf(pk *latchkey.Passkey, userVerified bool) Passkey {
	return Passkey{AAGUID: pk.AAGUID, Provider: pk.Provider, Kind: pk.Kind, Attestation: pk.AttestationTrust,
		UserVerified: userVerified, PossibleClone: pk.PossibleClone, Nickname: pk.Nickname}
}

// Ceremony is the WebAuthn ceremony a passkey is evaluated for.
type Ceremony string

// Ceremonies.
const (
	Registration Ceremony = "registration"
	SignIn       Ceremony = "signIn"
)

// Refusal codes.
const (
	CodeMethodDisabled            = "method_disabled_for_user"
	CodeSelfServiceDisabled       = "self_service_registration_disabled"
	CodeGuestRegistrationDisabled = "guest_registration_disabled"
	CodeAuthenticatorRevoked      = "authenticator_revoked"
	CodePossibleClone             = "possible_clone"
	CodeUserVerificationRequired  = "user_verification_required"
	CodeNoPasskeyProfile          = "no_passkey_profile"
	CodeAAGUIDBlocked             = "aaguid_blocked"
	CodeKindNotAllowed            = "kind_not_allowed"
	CodeAttestationRequired       = "attestation_required"
	CodeAAGUIDNotAllowed          = "aaguid_not_allowed"
)

// profileCodePrecedence orders the codes of profile rules, most relevant first. A profile that
// breaks several rules reports the first of them as its code, and a passkey that no profile
// accepts is refused with the first code any profile reports. The order goes from the most
// specific decision to the least: a block-list names this very authenticator; a wrong kind
// means a different sort of passkey is needed whatever its make; missing attestation means the
// sort may be right but nothing proves it; an allow-list that does not name it is the least
// specific (and the most common oversight, so its detail says how to fix it).
var profileCodePrecedence = []string{CodeAAGUIDBlocked, CodeKindNotAllowed, CodeAttestationRequired, CodeAAGUIDNotAllowed}

// Verdict is the outcome of EvaluatePasskey.
type Verdict struct {
	Allowed bool `json:"allowed"`
	// Profile is the id of the first profile (in policy order) that accepted the passkey.
	Profile string `json:"profile,omitempty"`
	// Refusal says why, when the passkey is refused.
	Refusal *latchkey.Error `json:"-"`
	// PerProfile is each applicable profile's verdict on its own rules, also when a rule outside
	// the profiles (method, revocation, user verification) refused the passkey.
	PerProfile []ProfileVerdict `json:"perProfile"`
}

// ProfileVerdict is one profile's verdict on a passkey.
type ProfileVerdict struct {
	Profile string `json:"profile"` // id
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	Code    string `json:"code,omitempty"`
	Detail  string `json:"detail"`
}

// EvaluatePasskey decides whether u may register (ceremony Registration) or sign in with
// (ceremony SignIn) pk under p. Rules are checked in this order and the first that fails gives
// the refusal:
//
//  1. the passkey method is enabled for u (method_disabled_for_user);
//  2. at registration: self-service registration is allowed (self_service_registration_disabled),
//     and u is not a guest unless guests may register (guest_registration_disabled);
//  3. the authenticator is not revoked (authenticator_revoked), at both ceremonies;
//  4. the passkey is not flagged as possibly cloned (possible_clone);
//  5. the person was verified, when the policy requires it (user_verification_required);
//  6. at least one profile applies to u (no_passkey_profile; Validate prevents it);
//  7. at least one of u's profiles accepts pk. A profile accepts when pk's kind is one of its
//     passkeyTypes, its key restrictions (when enforced) allow pk's AAGUID, and, at registration
//     only, pk is attested when the profile enforces attestation. When none accepts, the code is
//     the most relevant failing rule of any profile, in the order aaguid_blocked, kind_not_allowed,
//     attestation_required, aaguid_not_allowed; the detail lists every profile's failing rules.
func EvaluatePasskey(p MethodsPolicy, u User, pk Passkey, ceremony Ceremony) Verdict {
	aaguid := pk.AAGUID
	if c, ok := CanonicalAAGUID(aaguid); ok {
		aaguid = c
	}
	f := facts{pk: pk, aaguid: aaguid, ceremony: ceremony}
	f.describe = fmt.Sprintf("AAGUID %s, %s, %s, attestation %s", aaguid, f.provider(), orUnknown(pk.Kind), orUnknown(pk.Attestation))

	profiles := ProfilesFor(p, u)
	v := Verdict{PerProfile: make([]ProfileVerdict, 0, len(profiles))}
	for _, pr := range profiles {
		pv := evaluateProfile(pr, f)
		if pv.Allowed && v.Profile == "" {
			v.Profile = pr.ID
		}
		v.PerProfile = append(v.PerProfile, pv)
	}

	if err := methodRefusal(p, u, ceremony, " ("+f.describe+")"); err != nil {
		return refused(v, err)
	}
	if pk.Attestation == AttestationRevoked {
		return refused(v, latchkey.Errorf(latchkey.EFORBIDDEN, CodeAuthenticatorRevoked,
			f.subject()+" is no longer trusted because its maker reported a security problem with it. Ask IT for a replacement, and sign in another way for now.",
			"the metadata status of AAGUID %s (%s) is revoked, so it is refused at registration and sign-in whatever the profiles say", aaguid, f.provider()))
	}
	if pk.PossibleClone {
		return refused(v, latchkey.Errorf(latchkey.EFORBIDDEN, CodePossibleClone,
			"This passkey has been blocked because it may have been copied. Sign in with another passkey, or ask IT for a temporary access pass, and remove this one.",
			"passkey %q is flagged as possibly cloned (its sign count went backwards) (%s)", pk.Nickname, f.describe))
	}
	if p.Passkey.IsUserVerificationRequired && !pk.UserVerified {
		return refused(v, latchkey.Errorf(latchkey.EFORBIDDEN, CodeUserVerificationRequired,
			"Your device didn't check that it's you. Unlock it with your PIN, fingerprint or face when it asks, and try again.",
			"isUserVerificationRequired is true and the authenticator did not set the UV flag at %s (%s)", ceremony, f.describe))
	}
	if len(profiles) == 0 {
		return refused(v, latchkey.Errorf(latchkey.EFORBIDDEN, CodeNoPasskeyProfile,
			"Passkeys are not set up for your account yet. Ask IT to finish setting them up.",
			"no passkey profile targets user %s and the default profile %q does not exist (%s)", u.ID, p.Passkey.DefaultProfileID, f.describe))
	}
	if v.Profile != "" {
		v.Allowed = true
		return v
	}
	return refused(v, f.profileRefusal(u, v.PerProfile))
}

// MayRegister reports, as a refusal, whether u may start registering a passkey at all: the
// passkey method is enabled for u, self-service registration is allowed, and a guest only when
// guests may register. It is the first part of EvaluatePasskey's registration checks, for the
// moment before there is a passkey to judge.
func MayRegister(p MethodsPolicy, u User) *latchkey.Error {
	return methodRefusal(p, u, Registration, "")
}

// methodRefusal checks the rules that do not depend on the passkey (precedence 1 and 2).
func methodRefusal(p MethodsPolicy, u User, ceremony Ceremony, describe string) *latchkey.Error {
	if ok, err := MethodEnabledForUser(p, latchkey.MethodPasskey, u); !ok {
		err.Detail += describe
		return err
	}
	if ceremony == Registration && !p.Passkey.IsSelfServiceRegistrationAllowed {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeSelfServiceDisabled,
			"You can't add a passkey yourself here. Ask IT to set one up with you.",
			"isSelfServiceRegistrationAllowed is false, so user %s may not register a passkey%s", u.ID, describe)
	}
	if ceremony == Registration && u.IsGuest && !p.Passkey.IsGuestRegistrationAllowed {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeGuestRegistrationDisabled,
			"Guests can't add a passkey here. Sign in through your own organisation instead.",
			"user %s is a guest and isGuestRegistrationAllowed is false; trust the partner's MFA instead%s", u.ID, describe)
	}
	return nil
}

func refused(v Verdict, err *latchkey.Error) Verdict {
	v.Allowed, v.Profile, v.Refusal = false, "", err
	return v
}

// facts is a passkey prepared for evaluation.
type facts struct {
	pk       Passkey
	aaguid   string // canonical when it parses
	ceremony Ceremony
	describe string // for admin details
}

func (f facts) provider() string {
	if f.pk.Provider == "" {
		return "unknown provider"
	}
	return f.pk.Provider
}

// subject names the passkey at the start of a sentence for the person, by provider when known.
func (f facts) subject() string {
	switch {
	case f.pk.Provider != "":
		return "The passkey in " + f.pk.Provider
	case f.pk.Kind == latchkey.KindDeviceBound:
		return "This security key"
	default:
		return "This passkey"
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// failure is one broken profile rule.
type failure struct {
	code   string
	detail string
}

// evaluateProfile checks pk against every rule of pr; the failures are reported in
// profileCodePrecedence order, the first giving the profile's code.
func evaluateProfile(pr PasskeyProfile, f facts) ProfileVerdict {
	var fails []failure
	kr := pr.KeyRestrictions
	listed := false
	for _, a := range kr.AAGUIDs {
		if strings.EqualFold(a, f.aaguid) {
			listed = true
			break
		}
	}
	if kr.IsEnforced && kr.EnforcementType == EnforcementBlock && listed {
		fails = append(fails, failure{CodeAAGUIDBlocked,
			fmt.Sprintf("AAGUID %s (%s) is on the keyRestrictions block-list", f.aaguid, f.provider())})
	}
	if !kindAllowed(pr.PasskeyTypes, f.pk.Kind) {
		fails = append(fails, failure{CodeKindNotAllowed,
			fmt.Sprintf("passkeyTypes %s does not allow a %s passkey", pr.PasskeyTypes, orUnknown(f.pk.Kind))})
	}
	if f.ceremony == Registration && pr.AttestationEnforcement != AttestationEnforcementDisabled && f.pk.Attestation != latchkey.AttestationAttested {
		fails = append(fails, failure{CodeAttestationRequired,
			fmt.Sprintf("attestationEnforcement %s needs a trusted attestation at registration, but it is %s (%s)",
				pr.AttestationEnforcement, orUnknown(f.pk.Attestation), attestationHint(f.pk))})
	}
	if kr.IsEnforced && kr.EnforcementType == EnforcementAllow && !listed {
		fails = append(fails, failure{CodeAAGUIDNotAllowed,
			fmt.Sprintf("AAGUID %s (%s) is not on the keyRestrictions allow-list (add it to aaGuids to accept it)", f.aaguid, f.provider())})
	}
	pv := ProfileVerdict{Profile: pr.ID, Name: pr.Name, Allowed: len(fails) == 0}
	if pv.Allowed {
		pv.Detail = fmt.Sprintf("profile %q: accepts the passkey at %s (%s)", pr.Name, f.ceremony, f.describe)
		return pv
	}
	slices.SortStableFunc(fails, func(a, b failure) int { return rank(a.code) - rank(b.code) })
	rules := make([]string, len(fails))
	for i, fl := range fails {
		rules[i] = fl.detail
	}
	pv.Code = fails[0].code
	pv.Detail = fmt.Sprintf("profile %q: %s (%s)", pr.Name, strings.Join(rules, ", and "), f.describe)
	return pv
}

// rank is a profile code's place in profileCodePrecedence.
func rank(code string) int {
	if i := slices.Index(profileCodePrecedence, code); i >= 0 {
		return i
	}
	return len(profileCodePrecedence)
}

func kindAllowed(passkeyTypes, kind string) bool {
	switch passkeyTypes {
	case PasskeyTypesBoth:
		return true
	case PasskeyTypesDeviceBound:
		return kind == latchkey.KindDeviceBound
	case PasskeyTypesSynced:
		return kind == latchkey.KindSynced
	}
	return false
}

// attestationHint tells the admin why a passkey is not attested and what would change that.
func attestationHint(pk Passkey) string {
	switch {
	case pk.Kind == latchkey.KindSynced:
		return "synced passkey providers cannot provide attestation: set attestationEnforcement to disabled in a profile for these users, or have them use a device-bound key"
	case pk.Attestation == latchkey.AttestationUntrusted:
		return "its certificate chain reaches no metadata root: import a FIDO metadata BLOB that lists this authenticator"
	default:
		return "the authenticator sent no verifiable attestation: choose a model that provides one"
	}
}

// profileRefusal is the refusal when no profile accepts: the most relevant code by
// profileCodePrecedence, and every profile's failing rules in the detail.
func (f facts) profileRefusal(u User, pvs []ProfileVerdict) *latchkey.Error {
	code := ""
	for _, pv := range pvs {
		if code == "" || rank(pv.Code) < rank(code) {
			code = pv.Code
		}
	}
	details := make([]string, len(pvs))
	for i, pv := range pvs {
		details[i] = pv.Detail
	}
	return latchkey.Errorf(latchkey.EFORBIDDEN, code, f.message(code),
		"no passkey profile of user %s accepts this passkey at %s: %s", u.ID, f.ceremony, strings.Join(details, "; "))
}

// message is the sentence for the person for a profile rule's code: plain words, the provider
// when known, and what to do.
func (f facts) message(code string) string {
	s := f.subject()
	switch code {
	case CodeAAGUIDBlocked:
		return s + " has been blocked by your organisation. Ask IT which passkey or security key to use."
	case CodeKindNotAllowed:
		if f.pk.Kind == latchkey.KindSynced {
			return s + " can't be used here because it is copied between your devices. Your organisation asks you to use a security key or a passkey that stays on one device. Ask IT which key to use."
		}
		if f.pk.Kind == latchkey.KindDeviceBound {
			return s + " can't be used here. Your organisation asks you to use a passkey saved in a password manager that syncs between your devices. Ask IT which one to use."
		}
		return s + " can't be used here. Ask IT which passkey to use."
	case CodeAttestationRequired:
		return "Your organisation asks you to use an approved security key here. " + s + " can't be used. Ask IT which key to use."
	default: // CodeAAGUIDNotAllowed
		return s + " is not on your organisation's list of approved passkeys. Ask IT which passkey or security key to use."
	}
}
