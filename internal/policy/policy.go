// Package policy is Latchkey's pure policy core: the authentication methods policy (which
// methods are on for whom, and their settings), passkey profiles, and the evaluation that decides
// whether a passkey may be registered or used to sign in. It does no I/O; every function takes
// plain values and returns plain values, so the rules can be tested exhaustively and evaluated on
// every sign-in without cost.
//
// Field names follow Microsoft Graph's authentication methods policy where an equivalent exists
// (state, includeTargets, excludeTargets, isSelfServiceRegistrationAllowed, keyRestrictions with
// isEnforced, enforcementType and aaGuids; passkey profiles with passkeyTypes and
// attestationEnforcement), so that automation written for Graph translates directly.
package policy

import (
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Method states.
const (
	StateEnabled  = "enabled"
	StateDisabled = "disabled"
)

// Targets. A target is a group id, or AllUsers for everyone (members and guests).
const (
	AllUsers        = "all_users"
	TargetTypeGroup = "group"
)

// Passkey types a profile accepts.
const (
	PasskeyTypesDeviceBound = "deviceBound"
	PasskeyTypesSynced      = "synced"
	PasskeyTypesBoth        = "both"
)

// Attestation enforcement of a profile. Attestation is checked at registration only (DESIGN §1):
// a sign-in assertion carries no attestation.
const (
	AttestationEnforcementDisabled         = "disabled"
	AttestationEnforcementRegistrationOnly = "registrationOnly"
)

// Key restriction enforcement types.
const (
	EnforcementAllow = "allow"
	EnforcementBlock = "block"
)

// AttestationRevoked is the attestation result of an authenticator whose metadata status says it
// was compromised (for example FIDO MDS3 REVOKED). It adds to the results in package latchkey.
const AttestationRevoked = "revoked"

// TAP bounds (DESIGN §5).
const (
	MinTAPLifetime = 10
	MaxTAPLifetime = 43200
	MinTAPLength   = 8
	MaxTAPLength   = 48
)

// Password bounds (NIST SP 800-63B-4: at least 15 characters when a password may be used
// alone, at least 8 when it is only ever one factor of two; at least 64 allowed).
const (
	MinPasswordLength     = 8
	MaxMinPasswordLength  = 64
	DefaultPasswordLength = 15
)

// Registration campaign bounds: how many times a person may say "Not now".
const (
	MaxSnoozesAllowed     = 10
	DefaultSnoozesAllowed = 3
)

// MethodsPolicy is the authentication methods policy: one configuration per method, and the
// registration campaign that nudges people without a passkey to create one. The legacy methods
// (password, TOTP) exist for migration and are disabled by default.
type MethodsPolicy struct {
	Passkey              PasskeyMethod        `json:"passkey"`
	TemporaryAccessPass  TAPMethod            `json:"temporaryAccessPass"`
	Password             PasswordMethod       `json:"password"`
	TOTP                 TOTPMethod           `json:"softwareOath"`
	RegistrationCampaign RegistrationCampaign `json:"registrationCampaign"`
}

// PasswordMethod is the password method's configuration (legacy, for migration).
type PasswordMethod struct {
	State          string   `json:"state"`
	IncludeTargets []Target `json:"includeTargets"`
	ExcludeTargets []Target `json:"excludeTargets"`
	// MinimumLength is the fewest characters a new password may have.
	MinimumLength int `json:"minimumLength"`
}

// TOTPMethod is the authenticator app (software OATH TOTP) method's configuration, shaped like
// Graph's softwareOathAuthenticationMethodConfiguration (legacy, for migration).
type TOTPMethod struct {
	State          string   `json:"state"`
	IncludeTargets []Target `json:"includeTargets"`
	ExcludeTargets []Target `json:"excludeTargets"`
}

// RegistrationCampaign offers a person who signed in without a passkey, and has none, to create
// one: they may say "Not now" SnoozesAllowed times, after which the offer cannot be skipped.
type RegistrationCampaign struct {
	State          string `json:"state"`
	SnoozesAllowed int    `json:"snoozesAllowed"`
	// SecondPasskey nudges people with one passkey, or unused ones, to add another (a Latchkey
	// extension).
	SecondPasskey SecondPasskey `json:"secondPasskey"`
}

// Target names who a method applies to, shaped like Graph's featureTarget.
type Target struct {
	ID         string `json:"id"`         // a group id, or AllUsers
	TargetType string `json:"targetType"` // always TargetTypeGroup
}

// PasskeyMethod is the passkey (FIDO2) method's configuration, shaped like Graph's
// fido2AuthenticationMethodConfiguration with passkey profiles.
type PasskeyMethod struct {
	State          string   `json:"state"`
	IncludeTargets []Target `json:"includeTargets"`
	ExcludeTargets []Target `json:"excludeTargets"`
	// IsSelfServiceRegistrationAllowed lets people register passkeys themselves.
	IsSelfServiceRegistrationAllowed bool `json:"isSelfServiceRegistrationAllowed"`
	// IsUserVerificationRequired refuses ceremonies in which the authenticator did not verify
	// the person (PIN or biometric). True in DefaultMethodsPolicy; decode stored policies over
	// the default so that an absent field keeps it.
	IsUserVerificationRequired bool `json:"isUserVerificationRequired"`
	// IsGuestRegistrationAllowed lets guests register passkeys here. Off by default: guests
	// normally bring their home organisation's MFA through inbound trust instead.
	IsGuestRegistrationAllowed bool             `json:"isGuestRegistrationAllowed"`
	Profiles                   []PasskeyProfile `json:"passkeyProfiles"`
	DefaultProfileID           string           `json:"defaultPasskeyProfileId"`
}

// PasskeyProfile is a set of passkey rules for the users of some groups. A user is subject to
// every profile that targets one of their groups, or to the default profile when none does; a
// passkey is accepted when it fully meets at least one of them.
type PasskeyProfile struct {
	ID                     string          `json:"id"`
	Name                   string          `json:"name"`
	TargetGroupIDs         []string        `json:"targetGroupIds"`
	PasskeyTypes           string          `json:"passkeyTypes"`
	AttestationEnforcement string          `json:"attestationEnforcement"`
	KeyRestrictions        KeyRestrictions `json:"keyRestrictions"`
}

// KeyRestrictions allow or block authenticators by AAGUID, as in Graph's
// fido2KeyRestrictions.
type KeyRestrictions struct {
	IsEnforced      bool     `json:"isEnforced"`
	EnforcementType string   `json:"enforcementType"`
	AAGUIDs         []string `json:"aaGuids"`
}

// TAPMethod is the temporary access pass method's configuration, shaped like Graph's
// temporaryAccessPassAuthenticationMethodConfiguration.
type TAPMethod struct {
	State                    string   `json:"state"`
	IncludeTargets           []Target `json:"includeTargets"`
	ExcludeTargets           []Target `json:"excludeTargets"`
	DefaultLifetimeInMinutes int      `json:"defaultLifetimeInMinutes"`
	MinimumLifetimeInMinutes int      `json:"minimumLifetimeInMinutes"`
	MaximumLifetimeInMinutes int      `json:"maximumLifetimeInMinutes"`
	IsUsableOnce             bool     `json:"isUsableOnce"`
	DefaultLength            int      `json:"defaultLength"`
	// Onboarding mails new people their first pass (a Latchkey extension).
	Onboarding Onboarding `json:"onboarding"`
	// MyStaff lets managers issue recovery passes to their reports; Kiosk bounds the pass a
	// person gets for a new phone (Latchkey extensions, internal/policy/mystaff.go).
	MyStaff MyStaff `json:"myStaff"`
	Kiosk   Kiosk   `json:"kiosk"`
}

// DefaultProfileID is the id of the profile in DefaultMethodsPolicy.
const DefaultProfileID = "default"

// DefaultMethodsPolicy is the policy of a fresh store: passkeys and TAP enabled for all users,
// self-service registration on, user verification required, one default profile that accepts
// both kinds without attestation or key restrictions, password and TOTP disabled, and the
// registration campaign on with 3 snoozes.
func DefaultMethodsPolicy() MethodsPolicy {
	all := func() []Target { return []Target{{ID: AllUsers, TargetType: TargetTypeGroup}} }
	return MethodsPolicy{
		Passkey: PasskeyMethod{
			State:                            StateEnabled,
			IncludeTargets:                   all(),
			ExcludeTargets:                   []Target{},
			IsSelfServiceRegistrationAllowed: true,
			IsUserVerificationRequired:       true,
			Profiles: []PasskeyProfile{{
				ID:                     DefaultProfileID,
				Name:                   "Default",
				TargetGroupIDs:         []string{},
				PasskeyTypes:           PasskeyTypesBoth,
				AttestationEnforcement: AttestationEnforcementDisabled,
				KeyRestrictions:        KeyRestrictions{EnforcementType: EnforcementBlock, AAGUIDs: []string{}},
			}},
			DefaultProfileID: DefaultProfileID,
		},
		TemporaryAccessPass: TAPMethod{
			State:                    StateEnabled,
			IncludeTargets:           all(),
			ExcludeTargets:           []Target{},
			DefaultLifetimeInMinutes: 60,
			MinimumLifetimeInMinutes: 60,
			MaximumLifetimeInMinutes: 480,
			DefaultLength:            8,
			Onboarding:               DefaultOnboarding(),
			MyStaff:                  MyStaff{State: StateDisabled, IncludeGroups: []string{}, LifetimeInMinutes: RecoveryMaxLifetime},
			Kiosk:                    Kiosk{LifetimeInMinutes: RecoveryMaxLifetime},
		},
		Password: PasswordMethod{
			State:          StateDisabled,
			IncludeTargets: all(),
			ExcludeTargets: []Target{},
			MinimumLength:  DefaultPasswordLength,
		},
		TOTP: TOTPMethod{
			State:          StateDisabled,
			IncludeTargets: all(),
			ExcludeTargets: []Target{},
		},
		RegistrationCampaign: RegistrationCampaign{State: StateEnabled, SnoozesAllowed: DefaultSnoozesAllowed,
			SecondPasskey: DefaultSecondPasskey()},
	}
}

// invalid returns an invalid_policy error whose message and detail say the same thing: the
// admin is both the person and the reader of the detail here.
func invalid(format string, args ...any) *latchkey.Error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The authentication methods policy is not valid: "+s+".", "%s", s)
}

// Validate checks p and normalizes it in place: AAGUIDs become lowercase canonical form, empty
// target types become "group", and nil lists become empty ones.
func (p *MethodsPolicy) Validate() error {
	if err := validateMethod("passkeys", p.Passkey.State, p.Passkey.IncludeTargets, p.Passkey.ExcludeTargets); err != nil {
		return err
	}
	if err := validateMethod("temporary access passes", p.TemporaryAccessPass.State, p.TemporaryAccessPass.IncludeTargets, p.TemporaryAccessPass.ExcludeTargets); err != nil {
		return err
	}
	if err := validateMethod("passwords", p.Password.State, p.Password.IncludeTargets, p.Password.ExcludeTargets); err != nil {
		return err
	}
	if err := validateMethod("authenticator apps", p.TOTP.State, p.TOTP.IncludeTargets, p.TOTP.ExcludeTargets); err != nil {
		return err
	}
	if err := p.Passkey.validateProfiles(); err != nil {
		return err
	}
	if err := p.TemporaryAccessPass.ValidateSettings(); err != nil {
		return err
	}
	if err := p.TemporaryAccessPass.Onboarding.Validate(); err != nil {
		return err
	}
	if err := p.TemporaryAccessPass.MyStaff.Validate(); err != nil {
		return err
	}
	if err := p.TemporaryAccessPass.Kiosk.Validate(); err != nil {
		return err
	}
	if n := p.Password.MinimumLength; n < MinPasswordLength || n > MaxMinPasswordLength {
		return invalid("the minimum length of a password must be between %d and %d characters, not %d", MinPasswordLength, MaxMinPasswordLength, n)
	}
	if st := p.RegistrationCampaign.State; st != StateEnabled && st != StateDisabled {
		return invalid("the state of the registration campaign must be enabled or disabled, not %q", st)
	}
	if n := p.RegistrationCampaign.SnoozesAllowed; n < 0 || n > MaxSnoozesAllowed {
		return invalid("the registration campaign allows between 0 and %d snoozes, not %d", MaxSnoozesAllowed, n)
	}
	if err := p.RegistrationCampaign.SecondPasskey.Validate(); err != nil {
		return err
	}
	for _, ts := range []*[]Target{
		&p.Passkey.IncludeTargets, &p.Passkey.ExcludeTargets,
		&p.TemporaryAccessPass.IncludeTargets, &p.TemporaryAccessPass.ExcludeTargets,
		&p.Password.IncludeTargets, &p.Password.ExcludeTargets,
		&p.TOTP.IncludeTargets, &p.TOTP.ExcludeTargets,
	} {
		*ts = normalizeTargets(*ts)
	}
	return nil
}

// Targets returns every include and exclude target of every method, for checking that the
// groups they name exist.
func (p *MethodsPolicy) Targets() []Target {
	var out []Target
	for _, ts := range [][]Target{
		p.Passkey.IncludeTargets, p.Passkey.ExcludeTargets,
		p.TemporaryAccessPass.IncludeTargets, p.TemporaryAccessPass.ExcludeTargets,
		p.Password.IncludeTargets, p.Password.ExcludeTargets,
		p.TOTP.IncludeTargets, p.TOTP.ExcludeTargets,
	} {
		out = append(out, ts...)
	}
	return out
}

func validateMethod(name, state string, include, exclude []Target) *latchkey.Error {
	if state != StateEnabled && state != StateDisabled {
		return invalid("the state of %s must be enabled or disabled, not %q", name, state)
	}
	for _, list := range [][]Target{include, exclude} {
		for _, t := range list {
			if strings.TrimSpace(t.ID) == "" {
				return invalid("every target of %s needs a group id or all_users", name)
			}
			if t.TargetType != "" && t.TargetType != TargetTypeGroup {
				return invalid("the target type of %s must be group, not %q", name, t.TargetType)
			}
		}
	}
	return nil
}

func normalizeTargets(ts []Target) []Target {
	out := make([]Target, len(ts))
	for i, t := range ts {
		out[i] = Target{ID: strings.TrimSpace(t.ID), TargetType: TargetTypeGroup}
	}
	return out
}

// CheckNames refuses profile names that latchkey.ValidateName refuses. It is checked when a
// policy is saved, not when a stored one is read, so that a name stored before the rule cannot
// stop sign-ins.
func (p *MethodsPolicy) CheckNames() error {
	for _, pr := range p.Passkey.Profiles {
		if err := latchkey.ValidateName("passkey profile name", pr.Name); err != nil {
			return err
		}
	}
	return nil
}

func (m *PasskeyMethod) validateProfiles() *latchkey.Error {
	if len(m.Profiles) == 0 {
		return invalid("passkeys need at least one profile")
	}
	ids, names := map[string]bool{}, map[string]bool{}
	for i := range m.Profiles {
		pr := &m.Profiles[i]
		pr.ID = strings.TrimSpace(pr.ID)
		if pr.ID == "" || strings.TrimSpace(pr.Name) == "" {
			return invalid("every passkey profile needs an id and a name")
		}
		if ids[pr.ID] {
			return invalid("two passkey profiles have the id %q", pr.ID)
		}
		if names[strings.ToLower(pr.Name)] {
			return latchkey.Errorf(latchkey.ECONFLICT, "profile_exists", "A passkey profile with this name already exists. Choose another name.",
				"two passkey profiles are named %q", pr.Name)
		}
		ids[pr.ID], names[strings.ToLower(pr.Name)] = true, true
		if err := pr.validate(); err != nil {
			return err
		}
	}
	m.DefaultProfileID = strings.TrimSpace(m.DefaultProfileID)
	if m.DefaultProfileID == "" {
		return invalid("choose a default passkey profile")
	}
	if !ids[m.DefaultProfileID] {
		return invalid("the default passkey profile %q does not exist", m.DefaultProfileID)
	}
	return nil
}

func (pr *PasskeyProfile) validate() *latchkey.Error {
	switch pr.PasskeyTypes {
	case PasskeyTypesDeviceBound, PasskeyTypesSynced, PasskeyTypesBoth:
	default:
		return invalid("passkey profile %q: passkey types must be deviceBound, synced or both, not %q", pr.Name, pr.PasskeyTypes)
	}
	switch pr.AttestationEnforcement {
	case AttestationEnforcementDisabled, AttestationEnforcementRegistrationOnly:
	default:
		return invalid("passkey profile %q: attestation enforcement must be disabled or registrationOnly, not %q", pr.Name, pr.AttestationEnforcement)
	}
	groups := make([]string, 0, len(pr.TargetGroupIDs))
	for _, g := range pr.TargetGroupIDs {
		if g = strings.TrimSpace(g); g == "" {
			return invalid("passkey profile %q: a target group id is empty", pr.Name)
		}
		groups = append(groups, g)
	}
	pr.TargetGroupIDs = groups
	kr := &pr.KeyRestrictions
	switch kr.EnforcementType {
	case EnforcementAllow, EnforcementBlock:
	case "":
		if kr.IsEnforced {
			return invalid("passkey profile %q: key restrictions must allow or block", pr.Name)
		}
		kr.EnforcementType = EnforcementBlock
	default:
		return invalid("passkey profile %q: key restrictions must allow or block, not %q", pr.Name, kr.EnforcementType)
	}
	aaguids := make([]string, 0, len(kr.AAGUIDs))
	seen := map[string]bool{}
	for _, a := range kr.AAGUIDs {
		c, ok := CanonicalAAGUID(a)
		if !ok {
			return invalid("passkey profile %q: %q is not an AAGUID (32 hexadecimal digits, such as de1e552d-db1d-4423-a619-566b625cdc84)", pr.Name, a)
		}
		if !seen[c] {
			seen[c] = true
			aaguids = append(aaguids, c)
		}
	}
	kr.AAGUIDs = aaguids
	if kr.IsEnforced && kr.EnforcementType == EnforcementAllow && len(kr.AAGUIDs) == 0 {
		return invalid("passkey profile %q: an enforced allow-list with no AAGUIDs would refuse every passkey", pr.Name)
	}
	return nil
}

// ValidateSettings checks the pass settings against DESIGN §5's bounds.
func (t *TAPMethod) ValidateSettings() *latchkey.Error {
	switch {
	case t.MinimumLifetimeInMinutes < MinTAPLifetime || t.MinimumLifetimeInMinutes > MaxTAPLifetime:
		return invalid("the minimum lifetime of a temporary access pass must be between %d and %d minutes", MinTAPLifetime, MaxTAPLifetime)
	case t.MaximumLifetimeInMinutes < MinTAPLifetime || t.MaximumLifetimeInMinutes > MaxTAPLifetime:
		return invalid("the maximum lifetime of a temporary access pass must be between %d and %d minutes", MinTAPLifetime, MaxTAPLifetime)
	case t.MinimumLifetimeInMinutes > t.MaximumLifetimeInMinutes:
		return invalid("the minimum lifetime of a temporary access pass may not exceed the maximum")
	case t.DefaultLifetimeInMinutes < t.MinimumLifetimeInMinutes || t.DefaultLifetimeInMinutes > t.MaximumLifetimeInMinutes:
		return invalid("the default lifetime of a temporary access pass must be between the minimum and the maximum")
	case t.DefaultLength < MinTAPLength || t.DefaultLength > MaxTAPLength:
		return invalid("a temporary access pass must be between %d and %d characters long", MinTAPLength, MaxTAPLength)
	}
	return nil
}

// CanonicalAAGUID returns s in lowercase 8-4-4-4-12 form and true, or "" and false when s is not
// 32 hexadecimal digits (hyphens in the canonical places, braces and surrounding space allowed).
func CanonicalAAGUID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var hex []byte
	switch len(s) {
	case 32:
		hex = []byte(s)
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		hex = []byte(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	default:
		return "", false
	}
	for i, c := range hex {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			hex[i] = c + ('a' - 'A')
		default:
			return "", false
		}
	}
	h := string(hex)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}
