package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Methods a sign-in may present besides latchkey.MethodPasskey and latchkey.MethodTAP. The legacy
// methods are for migration only (DESIGN §2).
const (
	MethodPassword  = latchkey.MethodPassword
	MethodTOTP      = latchkey.MethodTOTP
	MethodFederated = "federated"
)

// Method combinations that a strength allows (DESIGN §5). A combination with several methods is
// written with commas; the order of its parts does not matter.
const (
	CombinationPasskey                    = "passkey"
	CombinationFederatedPhishingResistant = "federatedPhishingResistant"
	CombinationTAP                        = "temporaryAccessPass"
	CombinationPasswordTOTP               = "password,totp"
	CombinationFederatedMFA               = "federatedMfa"
	CombinationPassword                   = "password"
	CombinationTOTP                       = "totp"
)

// knownCombinations are the combinations a custom strength may allow.
var knownCombinations = []string{CombinationPasskey, CombinationFederatedPhishingResistant, CombinationTAP,
	CombinationPasswordTOTP, CombinationFederatedMFA, CombinationPassword, CombinationTOTP}

// Ids of the built-in strengths.
const (
	StrengthMFA                  = "mfa"
	StrengthPasswordlessMFA      = "passwordlessMfa"
	StrengthPhishingResistantMFA = "phishingResistantMfa"
)

// Strength is an authentication strength: a named set of allowed method combinations, shaped
// like Graph's authenticationStrengthPolicy. A custom strength may narrow passkeys with
// PasskeyConditions, which apply to the passkey combination only.
type Strength struct {
	ID                  string             `json:"id"`
	Name                string             `json:"displayName"`
	Description         string             `json:"description"`
	BuiltIn             bool               `json:"builtIn"`
	AllowedCombinations []string           `json:"allowedCombinations"`
	PasskeyConditions   *PasskeyConditions `json:"passkeyConditions,omitempty"`
}

// PasskeyConditions narrow which passkeys satisfy a custom strength. Empty lists allow anything.
type PasskeyConditions struct {
	Kinds               []string `json:"kinds"` // latchkey.KindDeviceBound, latchkey.KindSynced
	AllowedAAGUIDs      []string `json:"allowedAaguids"`
	AttestationRequired bool     `json:"attestationRequired"`
}

// BuiltInStrengths returns the three strengths of DESIGN §5's table, keyed by id.
func BuiltInStrengths() map[string]Strength {
	return map[string]Strength{
		StrengthMFA: {ID: StrengthMFA, Name: "MFA", BuiltIn: true,
			Description: "The broadest: any two factors. A passkey, a temporary access pass, a password with an authenticator app code, or a trusted partner's MFA all meet it.",
			AllowedCombinations: []string{CombinationPasskey, CombinationFederatedPhishingResistant, CombinationTAP,
				CombinationPasswordTOTP, CombinationFederatedMFA}},
		StrengthPasswordlessMFA: {ID: StrengthPasswordlessMFA, Name: "Passwordless MFA", BuiltIn: true,
			Description:         "No password and no temporary access pass: a passkey, or a trusted partner's phishing-resistant sign-in. It accepts the same sign-ins as Phishing-resistant MFA, because every passwordless method Latchkey offers resists phishing.",
			AllowedCombinations: []string{CombinationPasskey, CombinationFederatedPhishingResistant}},
		StrengthPhishingResistantMFA: {ID: StrengthPhishingResistantMFA, Name: "Phishing-resistant MFA", BuiltIn: true,
			Description:         "Only what a fake site cannot replay: a passkey, or a trusted partner's phishing-resistant sign-in. Unlike MFA, a temporary access pass or a password with a code never meets it.",
			AllowedCombinations: []string{CombinationPasskey, CombinationFederatedPhishingResistant}},
	}
}

// AuthenticationContext is what one sign-in presented (or what one registered method could
// present, for lint and what-if).
type AuthenticationContext struct {
	Methods   []string          `json:"methods"` // latchkey.MethodPasskey, MethodTAP, MethodPassword, MethodTOTP, MethodFederated
	Passkey   *PresentedPasskey `json:"passkey,omitempty"`
	Federated *FederatedClaims  `json:"federated,omitempty"`
}

// PresentedPasskey is the passkey used in a sign-in.
type PresentedPasskey struct {
	Kind         string `json:"kind"`
	AAGUID       string `json:"aaguid"`
	Attestation  string `json:"attestation"` // latchkey.AttestationAttested, ... as stored at registration
	UserVerified bool   `json:"userVerified"`
}

// FederatedClaims are what a partner's home identity provider asserted, with Latchkey's inbound
// trust settings for that partner: a claim counts only when it is trusted.
type FederatedClaims struct {
	PartnerID              string `json:"partnerId"`
	MFA                    bool   `json:"mfa"`
	PhishingResistant      bool   `json:"phishingResistant"`
	TrustMFA               bool   `json:"trustMfa"`
	TrustPhishingResistant bool   `json:"trustPhishingResistant"`
}

func (c AuthenticationContext) has(m string) bool { return slices.Contains(c.Methods, m) }

// Combinations returns the method combinations c achieves, in knownCombinations order. A passkey
// counts only with user verification; a federated claim counts only when trusted, and a trusted
// phishing-resistant claim also counts as federated MFA.
func (c AuthenticationContext) Combinations() []string {
	var out []string
	if c.has(latchkey.MethodPasskey) && c.Passkey != nil && c.Passkey.UserVerified {
		out = append(out, CombinationPasskey)
	}
	fedPR := c.has(MethodFederated) && c.Federated != nil && c.Federated.PhishingResistant && c.Federated.TrustPhishingResistant
	fedMFA := fedPR || c.has(MethodFederated) && c.Federated != nil && c.Federated.MFA && c.Federated.TrustMFA
	if fedPR {
		out = append(out, CombinationFederatedPhishingResistant)
	}
	if c.has(latchkey.MethodTAP) {
		out = append(out, CombinationTAP)
	}
	switch pwd, totp := c.has(MethodPassword), c.has(MethodTOTP); {
	case pwd && totp:
		out = append(out, CombinationPasswordTOTP, CombinationPassword, CombinationTOTP)
	case pwd:
		out = append(out, CombinationPassword)
	case totp:
		out = append(out, CombinationTOTP)
	}
	if fedMFA {
		out = append(out, CombinationFederatedMFA)
	}
	return out
}

// canonicalCombination sorts the parts of a combination so that "totp,password" equals
// "password,totp".
func canonicalCombination(s string) string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// SatisfiedBy reports whether ctx meets s, and why (or why not) in words for the admin.
func (s Strength) SatisfiedBy(ctx AuthenticationContext) (bool, string) {
	achieved := ctx.Combinations()
	var why []string
	for _, want := range s.AllowedCombinations {
		want = canonicalCombination(want)
		if !slices.Contains(achieved, want) {
			continue
		}
		if want == CombinationPasskey && s.PasskeyConditions != nil {
			if reason := s.PasskeyConditions.refuse(ctx.Passkey); reason != "" {
				why = append(why, reason)
				continue
			}
		}
		return true, fmt.Sprintf("strength %q is met by %s", s.ID, want)
	}
	if len(achieved) == 0 {
		why = append(why, "nothing that counts was presented")
	} else {
		why = append(why, "presented "+strings.Join(achieved, " / "))
	}
	return false, fmt.Sprintf("strength %q allows only [%s]; %s", s.ID, strings.Join(s.AllowedCombinations, " | "), strings.Join(why, "; "))
}

// refuse returns why pk does not meet the conditions, or "".
func (pc PasskeyConditions) refuse(pk *PresentedPasskey) string {
	if len(pc.Kinds) > 0 && !slices.Contains(pc.Kinds, pk.Kind) {
		return fmt.Sprintf("the passkey is %s but the strength accepts only %s", orUnknown(pk.Kind), strings.Join(pc.Kinds, ", "))
	}
	if pc.AttestationRequired && pk.Attestation != latchkey.AttestationAttested {
		return fmt.Sprintf("the strength requires an attested passkey and this one is %s", orUnknown(pk.Attestation))
	}
	if len(pc.AllowedAAGUIDs) > 0 {
		a, _ := CanonicalAAGUID(pk.AAGUID)
		if !slices.Contains(pc.AllowedAAGUIDs, a) {
			return fmt.Sprintf("AAGUID %s is not among the strength's allowed AAGUIDs", orUnknown(pk.AAGUID))
		}
	}
	return ""
}

// invalidStrength returns an invalid_policy error about a strength.
func invalidStrength(format string, args ...any) *latchkey.Error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The authentication strength is not valid: "+s+".", "%s", s)
}

// Validate checks a custom strength and normalizes it in place: combinations get their parts
// sorted and AAGUIDs become canonical. Built-in strengths may not be redefined.
func (s *Strength) Validate() error {
	s.ID, s.Name = strings.TrimSpace(s.ID), strings.TrimSpace(s.Name)
	if s.ID == "" || s.Name == "" {
		return invalidStrength("a strength needs an id and a name")
	}
	if _, ok := BuiltInStrengths()[s.ID]; ok || s.BuiltIn {
		return invalidStrength("%q is a built-in strength and cannot be changed", s.ID)
	}
	if len(s.AllowedCombinations) == 0 {
		return invalidStrength("strength %q allows no method combination, so nobody could meet it", s.Name)
	}
	seen := map[string]bool{}
	combos := make([]string, 0, len(s.AllowedCombinations))
	for _, c := range s.AllowedCombinations {
		c = canonicalCombination(c)
		if !slices.Contains(knownCombinations, c) {
			return invalidStrength("strength %q: %q is not a method combination (use one of %s)", s.Name, c, strings.Join(knownCombinations, ", "))
		}
		if !seen[c] {
			seen[c] = true
			combos = append(combos, c)
		}
	}
	s.AllowedCombinations = combos
	pc := s.PasskeyConditions
	if pc == nil {
		return nil
	}
	if !seen[CombinationPasskey] {
		return invalidStrength("strength %q has passkey conditions but does not allow passkeys", s.Name)
	}
	for i, k := range pc.Kinds {
		if k == PasskeyTypesDeviceBound { // the spelling passkey profiles use
			k, pc.Kinds[i] = latchkey.KindDeviceBound, latchkey.KindDeviceBound
		}
		if k != latchkey.KindDeviceBound && k != latchkey.KindSynced {
			return invalidStrength("strength %q: passkey kind must be %s or %s, not %q", s.Name, latchkey.KindDeviceBound, latchkey.KindSynced, k)
		}
	}
	for i, a := range pc.AllowedAAGUIDs {
		c, ok := CanonicalAAGUID(a)
		if !ok {
			return invalidStrength("strength %q: %q is not an AAGUID", s.Name, a)
		}
		pc.AllowedAAGUIDs[i] = c
	}
	return nil
}

// ACR values (DESIGN §5). ACRPhishingResistantHardware and ACRPhishingResistant are the OpenID
// Connect Extended Authentication Profile (EAP) ACR values 1.0. The AAL URIs name NIST SP
// 800-63B levels; NIST registers no URI of its own, so these urn:nist forms are Latchkey's
// spelling, stable and documented for relying parties.
const (
	ACRPhishingResistantHardware = "phrh"
	ACRPhishingResistant         = "phr"
	ACRAAL2                      = "urn:nist:sp800-63b:aal2"
	ACRAAL1                      = "urn:nist:sp800-63b:aal1"
)

// AssuranceOf returns the acr and amr (RFC 8176) of a sign-in, per DESIGN §5:
//
//   - phrh: a user-verified, device-bound passkey whose attestation was verified; a passkey that
//     only claims to be device-bound (no attestation) gets phr;
//   - phr: any user-verified passkey, or a trusted federated phishing-resistant sign-in;
//   - AAL2: password + TOTP;
//   - AAL1: anything else (a TAP, a single legacy factor, a federated MFA claim whose strength
//     Latchkey cannot judge).
//
// amr: passkey → pop, user (when verified), hwk or swk, and mfa when verified; TAP → otp;
// password → pwd; TOTP → otp; mfa whenever two factors were used, or a trusted partner asserted
// MFA. The list is sorted and has no duplicates.
func AssuranceOf(ctx AuthenticationContext) (acr string, amr []string) {
	add := func(v ...string) { amr = append(amr, v...) }
	factors := 0
	pk := ctx.Passkey
	if ctx.has(latchkey.MethodPasskey) && pk != nil {
		factors++
		add("pop")
		if pk.Kind == latchkey.KindDeviceBound {
			add("hwk")
		} else {
			add("swk")
		}
		if pk.UserVerified {
			add("user", "mfa")
		}
	}
	if ctx.has(latchkey.MethodTAP) {
		factors++
		add("otp")
	}
	if ctx.has(MethodPassword) {
		factors++
		add("pwd")
	}
	if ctx.has(MethodTOTP) {
		factors++
		add("otp")
	}
	f := ctx.Federated
	if ctx.has(MethodFederated) && f != nil && (f.MFA && f.TrustMFA || f.PhishingResistant && f.TrustPhishingResistant) {
		add("mfa")
	}
	if factors >= 2 {
		add("mfa")
	}
	slices.Sort(amr)
	amr = slices.Compact(amr)

	pkUV := ctx.has(latchkey.MethodPasskey) && pk != nil && pk.UserVerified
	switch {
	case pkUV && pk.Kind == latchkey.KindDeviceBound && pk.Attestation == latchkey.AttestationAttested:
		acr = ACRPhishingResistantHardware
	case pkUV, slices.Contains(ctx.Combinations(), CombinationFederatedPhishingResistant):
		acr = ACRPhishingResistant
	case ctx.has(MethodPassword) && ctx.has(MethodTOTP):
		acr = ACRAAL2
	default:
		acr = ACRAAL1
	}
	return acr, amr
}
