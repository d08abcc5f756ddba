package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/internal/latchkey"
)

const (
	aaguidICloud     = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd" // iCloud Keychain
	aaguidYubiKey    = "ee882879-721c-4913-9775-3dfcce97072a" // YubiKey 5 Series
	aaguidMSAndroid  = "de1e552d-db1d-4423-a619-566b625cdc84" // Microsoft Authenticator (Android)
	aaguidMSiOS      = "90a3ccdf-635c-4729-a248-9b709135078f" // Microsoft Authenticator (iOS)
	aaguidGooglePass = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4" // Google Password Manager
)

// jargon are words the person must never read.
var jargon = []string{"aaguid", "attest", "fido", "webauthn", "profile", "credential", "passkeytypes"}

func checkPlain(t *testing.T, msg string) {
	t.Helper()
	if msg == "" {
		t.Errorf("empty message")
	}
	for _, w := range jargon {
		if strings.Contains(strings.ToLower(msg), w) {
			t.Errorf("message %q contains %q", msg, w)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *MethodsPolicy)
		want   string // substring of the detail; "" for valid
	}{
		{"default", func(p *MethodsPolicy) {}, ""},
		{"passkey state", func(p *MethodsPolicy) { p.Passkey.State = "on" }, `state of passkeys must be enabled or disabled, not "on"`},
		{"tap state", func(p *MethodsPolicy) { p.TemporaryAccessPass.State = "" }, "state of temporary access passes"},
		{"target type", func(p *MethodsPolicy) { p.Passkey.IncludeTargets[0].TargetType = "user" }, `target type of passkeys must be group, not "user"`},
		{"empty target", func(p *MethodsPolicy) { p.Passkey.ExcludeTargets = []Target{{ID: " "}} }, "needs a group id"},
		{"no profiles", func(p *MethodsPolicy) { p.Passkey.Profiles = nil }, "at least one profile"},
		{"default missing", func(p *MethodsPolicy) { p.Passkey.DefaultProfileID = "nope" }, `default passkey profile "nope" does not exist`},
		{"default empty", func(p *MethodsPolicy) { p.Passkey.DefaultProfileID = "" }, "choose a default"},
		{"profile without id", func(p *MethodsPolicy) { p.Passkey.Profiles[0].ID = "" }, "needs an id and a name"},
		{"duplicate id", func(p *MethodsPolicy) {
			p.Passkey.Profiles = append(p.Passkey.Profiles, profile("default", "Other", PasskeyTypesBoth, AttestationEnforcementDisabled))
		}, `two passkey profiles have the id "default"`},
		{"passkey types", func(p *MethodsPolicy) { p.Passkey.Profiles[0].PasskeyTypes = "platform" }, `passkey types must be deviceBound, synced or both, not "platform"`},
		{"attestation enforcement", func(p *MethodsPolicy) { p.Passkey.Profiles[0].AttestationEnforcement = "always" }, `attestation enforcement must be disabled or registrationOnly, not "always"`},
		{"enforcement type", func(p *MethodsPolicy) { p.Passkey.Profiles[0].KeyRestrictions.EnforcementType = "deny" }, `must allow or block, not "deny"`},
		{"enforced without type", func(p *MethodsPolicy) {
			p.Passkey.Profiles[0].KeyRestrictions = KeyRestrictions{IsEnforced: true, AAGUIDs: []string{aaguidYubiKey}}
		}, "must allow or block"},
		{"malformed aaguid", func(p *MethodsPolicy) {
			p.Passkey.Profiles[0].KeyRestrictions.AAGUIDs = []string{"de1e552d-db1d-4423-a619"}
		}, `"de1e552d-db1d-4423-a619" is not an AAGUID`},
		{"non-hex aaguid", func(p *MethodsPolicy) {
			p.Passkey.Profiles[0].KeyRestrictions.AAGUIDs = []string{"zz1e552d-db1d-4423-a619-566b625cdc84"}
		}, "is not an AAGUID"},
		{"misplaced hyphens", func(p *MethodsPolicy) {
			p.Passkey.Profiles[0].KeyRestrictions.AAGUIDs = []string{"de1e552ddb1d-4423-a619-566b625cdc84-"}
		}, "is not an AAGUID"},
		{"empty allow-list", func(p *MethodsPolicy) {
			p.Passkey.Profiles[0].KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow}
		}, "enforced allow-list with no AAGUIDs"},
		{"empty block-list", func(p *MethodsPolicy) {
			p.Passkey.Profiles[0].KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock}
		}, ""},
		{"empty target group", func(p *MethodsPolicy) { p.Passkey.Profiles[0].TargetGroupIDs = []string{""} }, "target group id is empty"},
		{"tap min above max", func(p *MethodsPolicy) { p.TemporaryAccessPass.MinimumLifetimeInMinutes = 600 }, "may not exceed the maximum"},
		{"tap max too long", func(p *MethodsPolicy) { p.TemporaryAccessPass.MaximumLifetimeInMinutes = 43201 }, "maximum lifetime"},
		{"tap min too short", func(p *MethodsPolicy) { p.TemporaryAccessPass.MinimumLifetimeInMinutes = 9 }, "minimum lifetime"},
		{"tap default outside", func(p *MethodsPolicy) { p.TemporaryAccessPass.DefaultLifetimeInMinutes = 500 }, "default lifetime"},
		{"tap length", func(p *MethodsPolicy) { p.TemporaryAccessPass.DefaultLength = 49 }, "between 8 and 48 characters"},
		{"tap disabled", func(p *MethodsPolicy) { p.TemporaryAccessPass.State = StateDisabled }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultMethodsPolicy()
			tt.change(&p)
			err := p.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var e *latchkey.Error
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			e = err.(*latchkey.Error)
			if e.Kind != latchkey.EINVALID || e.Code != "invalid_policy" || !strings.Contains(e.Detail, tt.want) || !strings.Contains(e.Message, tt.want) {
				t.Errorf("Validate() = %+v, want invalid_policy mentioning %q", e, tt.want)
			}
		})
	}
	// A second profile with the name of another, in any case, is a conflict: commands that name
	// a profile would resolve to the first.
	p := DefaultMethodsPolicy()
	p.Passkey.Profiles = append(p.Passkey.Profiles, profile("other", "DEFAULT", PasskeyTypesBoth, AttestationEnforcementDisabled))
	if err := p.Validate(); !latchkey.IsKind(err, latchkey.ECONFLICT) || latchkey.ErrorCode(err) != "profile_exists" ||
		!strings.Contains(err.Error(), `two passkey profiles are named "DEFAULT"`) {
		t.Errorf("duplicate name: Validate() = %v, want conflict profile_exists", err)
	}
}

func TestValidateNormalizes(t *testing.T) {
	p := DefaultMethodsPolicy()
	p.Passkey.IncludeTargets = []Target{{ID: " staff "}}
	p.Passkey.Profiles[0].KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow,
		AAGUIDs: []string{"DE1E552D-DB1D-4423-A619-566B625CDC84", "90a3ccdf635c4729a2489b709135078f", "{de1e552d-db1d-4423-a619-566b625cdc84}"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Passkey.Profiles[0].KeyRestrictions.AAGUIDs, []string{aaguidMSAndroid, aaguidMSiOS}); diff != "" {
		t.Errorf("AAGUIDs (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(p.Passkey.IncludeTargets, []Target{{ID: "staff", TargetType: TargetTypeGroup}}); diff != "" {
		t.Errorf("targets (-got +want):\n%s", diff)
	}
}

func TestDefaultPolicyJSON(t *testing.T) {
	b, err := json.Marshal(DefaultMethodsPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"includeTargets":[{"id":"all_users","targetType":"group"}]`, `"isUserVerificationRequired":true`,
		`"passkeyTypes":"both"`, `"attestationEnforcement":"disabled"`, `"aaGuids":[]`, `"defaultPasskeyProfileId":"default"`, `"defaultLength":8`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s: %s", field, b)
		}
	}
	// A stored policy is decoded over the default, so absent fields keep their defaults.
	p := DefaultMethodsPolicy()
	if err := json.Unmarshal([]byte(`{"passkey":{"isSelfServiceRegistrationAllowed":false}}`), &p); err != nil {
		t.Fatal(err)
	}
	if !p.Passkey.IsUserVerificationRequired || p.Passkey.IsSelfServiceRegistrationAllowed {
		t.Errorf("decoded over default = %+v", p.Passkey)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
}

func profile(id, name, types, enforcement string, groups ...string) PasskeyProfile {
	return PasskeyProfile{ID: id, Name: name, TargetGroupIDs: groups, PasskeyTypes: types, AttestationEnforcement: enforcement,
		KeyRestrictions: KeyRestrictions{EnforcementType: EnforcementBlock}}
}

// policyWith returns the default policy plus profiles.
func policyWith(t testing.TB, profiles ...PasskeyProfile) MethodsPolicy {
	t.Helper()
	p := DefaultMethodsPolicy()
	p.Passkey.Profiles = append(p.Passkey.Profiles, profiles...)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMethodEnabledForUser(t *testing.T) {
	p := DefaultMethodsPolicy()
	p.Passkey.IncludeTargets = []Target{{ID: AllUsers, TargetType: TargetTypeGroup}, {ID: "pilot", TargetType: TargetTypeGroup}}
	p.Passkey.ExcludeTargets = []Target{{ID: "breakglass", TargetType: TargetTypeGroup}}
	p.TemporaryAccessPass.IncludeTargets = []Target{{ID: "new-hires", TargetType: TargetTypeGroup}}
	tests := []struct {
		name   string
		method string
		groups []string
		state  string
		want   bool
		detail string
	}{
		{"included by all users", latchkey.MethodPasskey, nil, StateEnabled, true, ""},
		{"exclusion wins over inclusion", latchkey.MethodPasskey, []string{"pilot", "breakglass"}, StateEnabled, false, "method passkey excludes group breakglass"},
		{"disabled", latchkey.MethodPasskey, []string{"pilot"}, StateDisabled, false, "method passkey is disabled"},
		{"tap included", latchkey.MethodTAP, []string{"new-hires"}, StateEnabled, true, ""},
		{"tap not included", latchkey.MethodTAP, []string{"staff"}, StateEnabled, false, "method tap includes only groups [new-hires], and user u1 is in none of them"},
		{"unknown method", "sms", nil, StateEnabled, false, `method "sms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := p
			q.Passkey.State = tt.state
			ok, err := MethodEnabledForUser(q, tt.method, User{ID: "u1", GroupIDs: tt.groups})
			if ok != tt.want || (err == nil) != tt.want {
				t.Fatalf("MethodEnabledForUser = %v, %v; want %v", ok, err, tt.want)
			}
			if err == nil {
				return
			}
			checkPlain(t, err.Message)
			if !strings.Contains(err.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", err.Detail, tt.detail)
			}
			if tt.method != "sms" && (err.Code != CodeMethodDisabled || err.Kind != latchkey.EFORBIDDEN) {
				t.Errorf("code %s kind %s", err.Code, err.Kind)
			}
		})
	}
}

func TestProfilesFor(t *testing.T) {
	p := policyWith(t,
		profile("admins", "Admins", PasskeyTypesDeviceBound, AttestationEnforcementRegistrationOnly, "g-admins"),
		profile("staff", "Staff", PasskeyTypesBoth, AttestationEnforcementDisabled, "g-staff", "g-contractors"),
	)
	names := func(prs []PasskeyProfile) []string {
		var out []string
		for _, pr := range prs {
			out = append(out, pr.ID)
		}
		return out
	}
	for groups, want := range map[string][]string{
		"":                       {"default"},
		"g-other":                {"default"},
		"g-contractors":          {"staff"},
		"g-staff,g-admins":       {"admins", "staff"},
		"g-admins,g-other":       {"admins"},
		"g-staff,g-contractors":  {"staff"},
		"g-admins,g-staff,extra": {"admins", "staff"},
	} {
		got := names(ProfilesFor(p, User{ID: "u", GroupIDs: strings.Split(groups, ",")}))
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("groups %q (-got +want):\n%s", groups, diff)
		}
	}
}

// Restriction cases for the exhaustive table.
const (
	restrictNone           = "none"
	restrictAllowListed    = "allowListed"
	restrictAllowNotListed = "allowNotListed"
	restrictBlockListed    = "blockListed"
	restrictBlockNotListed = "blockNotListed"
)

func restrictions(kind string, aaguid string) KeyRestrictions {
	other := aaguidMSiOS
	switch kind {
	case restrictNone: // listed, but not enforced: must have no effect
		return KeyRestrictions{IsEnforced: false, EnforcementType: EnforcementAllow, AAGUIDs: []string{other}}
	case restrictAllowListed:
		return KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGUIDs: []string{other, aaguid}}
	case restrictAllowNotListed:
		return KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGUIDs: []string{other}}
	case restrictBlockListed:
		return KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGUIDs: []string{aaguid, other}}
	case restrictBlockNotListed:
		return KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGUIDs: []string{other}}
	}
	panic(kind)
}

// expectation is written from the rules in DESIGN §1 and the issue, independently of
// EvaluatePasskey: a revoked authenticator is always refused; otherwise the passkey must be of an
// accepted kind, pass the key restrictions, and (at registration, when enforced) be attested.
// Of several failures the reported one follows the documented precedence.
func expectation(kind, attestation, restriction, types, enforcement string, c Ceremony) (bool, string) {
	if attestation == AttestationRevoked {
		return false, CodeAuthenticatorRevoked
	}
	failing := map[string]bool{
		CodeAAGUIDBlocked:       restriction == restrictBlockListed,
		CodeKindNotAllowed:      types == PasskeyTypesDeviceBound && kind == latchkey.KindSynced || types == PasskeyTypesSynced && kind == latchkey.KindDeviceBound,
		CodeAttestationRequired: c == Registration && enforcement == AttestationEnforcementRegistrationOnly && attestation != latchkey.AttestationAttested,
		CodeAAGUIDNotAllowed:    restriction == restrictAllowNotListed,
	}
	for _, code := range []string{CodeAAGUIDBlocked, CodeKindNotAllowed, CodeAttestationRequired, CodeAAGUIDNotAllowed} {
		if failing[code] {
			return false, code
		}
	}
	return true, ""
}

func TestEvaluatePasskeyAllCombinations(t *testing.T) {
	kinds := []string{latchkey.KindDeviceBound, latchkey.KindSynced}
	attestations := []string{latchkey.AttestationAttested, latchkey.AttestationSelf, latchkey.AttestationNone, latchkey.AttestationUntrusted, AttestationRevoked}
	restrictionCases := []string{restrictNone, restrictAllowListed, restrictAllowNotListed, restrictBlockListed, restrictBlockNotListed}
	types := []string{PasskeyTypesDeviceBound, PasskeyTypesSynced, PasskeyTypesBoth}
	enforcements := []string{AttestationEnforcementDisabled, AttestationEnforcementRegistrationOnly}
	ceremonies := []Ceremony{Registration, SignIn}
	n, allowed := 0, 0
	for _, kind := range kinds {
		aaguid, provider := aaguidYubiKey, "YubiKey 5 Series"
		if kind == latchkey.KindSynced {
			aaguid, provider = aaguidICloud, "iCloud Keychain"
		}
		for _, att := range attestations {
			for _, restr := range restrictionCases {
				for _, typ := range types {
					for _, enf := range enforcements {
						for _, c := range ceremonies {
							n++
							name := fmt.Sprintf("%s/%s/%s/%s/%s/%s", kind, att, restr, typ, enf, c)
							pr := profile("team", "Team Leads", typ, enf, "g-team")
							pr.KeyRestrictions = restrictions(restr, aaguid)
							p := policyWith(t, pr)
							u := User{ID: "u1", GroupIDs: []string{"g-team"}}
							pk := Passkey{AAGUID: strings.ToUpper(aaguid), Provider: provider, Kind: kind, Attestation: att, UserVerified: true}
							v := EvaluatePasskey(p, u, pk, c)
							wantOK, wantCode := expectation(kind, att, restr, typ, enf, c)
							if wantOK {
								allowed++
							}
							checkVerdict(t, name, v, wantOK, wantCode, aaguid, provider, "Team Leads")
						}
					}
				}
			}
		}
	}
	if n != 2*5*5*3*2*2 {
		t.Errorf("covered %d combinations", n)
	}
	t.Logf("%d combinations, %d allowed", n, allowed)
}

func checkVerdict(t *testing.T, name string, v Verdict, wantOK bool, wantCode, aaguid, provider, profileName string) {
	t.Helper()
	if v.Allowed != wantOK {
		t.Errorf("%s: allowed = %v, want %v (refusal %v)", name, v.Allowed, wantOK, v.Refusal)
		return
	}
	if wantOK {
		if v.Refusal != nil || v.Profile == "" {
			t.Errorf("%s: allowed verdict with refusal %v, profile %q", name, v.Refusal, v.Profile)
		}
		return
	}
	if v.Refusal == nil || v.Profile != "" {
		t.Errorf("%s: refused verdict without refusal or with profile %q", name, v.Profile)
		return
	}
	r := v.Refusal
	if r.Code != wantCode || r.Kind != latchkey.EFORBIDDEN {
		t.Errorf("%s: code %s (%s), want %s; detail %s", name, r.Code, r.Kind, wantCode, r.Detail)
	}
	checkPlain(t, r.Message)
	if !strings.Contains(r.Message, provider) {
		t.Errorf("%s: message %q does not name %s", name, r.Message, provider)
	}
	if !strings.Contains(r.Detail, aaguid) || !strings.Contains(r.Detail, provider) {
		t.Errorf("%s: detail %q lacks AAGUID or provider", name, r.Detail)
	}
	if wantCode != CodeAuthenticatorRevoked && !strings.Contains(r.Detail, `profile "`+profileName+`"`) {
		t.Errorf("%s: detail %q does not name profile %s", name, r.Detail, profileName)
	}
}

func TestUnionOfProfiles(t *testing.T) {
	admins := profile("admins", "Admins", PasskeyTypesDeviceBound, AttestationEnforcementRegistrationOnly, "g-admins")
	staff := profile("staff", "Staff", PasskeyTypesBoth, AttestationEnforcementDisabled, "g-staff")
	staff.KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGUIDs: []string{aaguidMSiOS, aaguidYubiKey}}
	p := policyWith(t, admins, staff)
	u := User{ID: "alice", GroupIDs: []string{"g-admins", "g-staff"}}

	icloud := Passkey{AAGUID: aaguidICloud, Provider: "iCloud Keychain", Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, UserVerified: true}
	yubikeySelf := Passkey{AAGUID: aaguidYubiKey, Provider: "YubiKey 5 Series", Kind: latchkey.KindDeviceBound, Attestation: latchkey.AttestationSelf, UserVerified: true}
	yubikeyAttested := yubikeySelf
	yubikeyAttested.Attestation = latchkey.AttestationAttested

	// Refused by both: the detail lists both profiles' failing rules.
	v := EvaluatePasskey(p, u, icloud, Registration)
	if v.Allowed || v.Refusal.Code != CodeKindNotAllowed {
		t.Fatalf("iCloud: %+v", v)
	}
	d := v.Refusal.Detail
	for _, want := range []string{
		`profile "Admins": passkeyTypes deviceBound does not allow a synced passkey, and attestationEnforcement registrationOnly needs a trusted attestation at registration, but it is none`,
		`profile "Staff": AAGUID ` + aaguidICloud + ` (iCloud Keychain) is not on the keyRestrictions allow-list (add it to aaGuids to accept it)`,
	} {
		if !strings.Contains(d, want) {
			t.Errorf("detail %q lacks %q", d, want)
		}
	}
	wantPer := []ProfileVerdict{
		{Profile: "admins", Name: "Admins", Code: CodeKindNotAllowed},
		{Profile: "staff", Name: "Staff", Code: CodeAAGUIDNotAllowed},
	}
	if diff := cmp.Diff(v.PerProfile, wantPer, cmpIgnoreDetail); diff != "" {
		t.Errorf("per profile (-got +want):\n%s", diff)
	}

	// Accepted by Staff only (not attested), by both when attested: the first accepting profile is reported.
	v = EvaluatePasskey(p, u, yubikeySelf, Registration)
	if !v.Allowed || v.Profile != "staff" || v.PerProfile[0].Allowed || !v.PerProfile[1].Allowed {
		t.Errorf("self-attested YubiKey: %+v", v)
	}
	v = EvaluatePasskey(p, u, yubikeyAttested, Registration)
	if !v.Allowed || v.Profile != "admins" || !v.PerProfile[1].Allowed {
		t.Errorf("attested YubiKey: %+v", v)
	}

	// An admin not in Staff: only Admins applies, and attestation is not checked at sign-in.
	admin := User{ID: "bob", GroupIDs: []string{"g-admins"}}
	if v := EvaluatePasskey(p, admin, yubikeySelf, Registration); v.Allowed || v.Refusal.Code != CodeAttestationRequired {
		t.Errorf("admin registering unattested key: %+v", v)
	}
	if v := EvaluatePasskey(p, admin, yubikeySelf, SignIn); !v.Allowed || v.Profile != "admins" {
		t.Errorf("admin signing in with unattested key: %+v", v)
	}
}

var cmpIgnoreDetail = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())

func TestDefaultProfileWhenNoneTargets(t *testing.T) {
	p := DefaultMethodsPolicy()
	p.Passkey.Profiles[0].PasskeyTypes = PasskeyTypesDeviceBound
	p.Passkey.Profiles = append(p.Passkey.Profiles, profile("synced", "Synced OK", PasskeyTypesBoth, AttestationEnforcementDisabled, "g-field"))
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	gpm := Passkey{AAGUID: aaguidGooglePass, Provider: "Google Password Manager", Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, UserVerified: true}
	v := EvaluatePasskey(p, User{ID: "carol", GroupIDs: []string{"g-office"}}, gpm, Registration)
	if v.Allowed || v.Refusal.Code != CodeKindNotAllowed || len(v.PerProfile) != 1 || v.PerProfile[0].Profile != DefaultProfileID {
		t.Fatalf("untargeted user: %+v", v)
	}
	want := `profile "Default": passkeyTypes deviceBound does not allow a synced passkey (AAGUID ` + aaguidGooglePass + `, Google Password Manager, synced, attestation none)`
	if !strings.Contains(v.Refusal.Detail, want) {
		t.Errorf("detail %q lacks %q", v.Refusal.Detail, want)
	}
	const wantMsg = "The passkey in Google Password Manager can't be used here because it is copied between your devices. Your organisation asks you to use a security key or a passkey that stays on one device. Ask IT which key to use."
	if v.Refusal.Message != wantMsg {
		t.Errorf("message %q", v.Refusal.Message)
	}
	// A targeted user is no longer subject to the default.
	v = EvaluatePasskey(p, User{ID: "dan", GroupIDs: []string{"g-field"}}, gpm, Registration)
	if !v.Allowed || v.Profile != "synced" || len(v.PerProfile) != 1 {
		t.Errorf("targeted user: %+v", v)
	}
}

// TestTroubleshootingMatrix covers the rows of the field guide's §8.4 that a passkey policy
// decides, and §5.2/§5.3.
func TestTroubleshootingMatrix(t *testing.T) {
	admins := profile("admins", "Admins", PasskeyTypesBoth, AttestationEnforcementRegistrationOnly, "g-admins")
	mobile := profile("mobile", "Mobile", PasskeyTypesBoth, AttestationEnforcementDisabled, "g-mobile")
	mobile.KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGUIDs: []string{aaguidYubiKey, aaguidMSiOS}}
	grey := profile("grey", "No grey keys", PasskeyTypesBoth, AttestationEnforcementDisabled, "g-grey")
	grey.KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGUIDs: []string{"01020304-0506-0708-0102-030405060708"}}
	p := policyWith(t, admins, mobile, grey)

	tests := []struct {
		name    string
		group   string
		pk      Passkey
		c       Ceremony
		code    string
		message string
		detail  []string
	}{
		{"attestation enforced, synced provider", "g-admins",
			Passkey{AAGUID: aaguidICloud, Provider: "iCloud Keychain", Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, UserVerified: true},
			Registration, CodeAttestationRequired,
			"Your organisation asks you to use an approved security key here. The passkey in iCloud Keychain can't be used. Ask IT which key to use.",
			[]string{`profile "Admins"`, "attestationEnforcement registrationOnly", aaguidICloud, "synced passkey providers cannot provide attestation: set attestationEnforcement to disabled"}},
		{"untrusted chain", "g-admins",
			Passkey{AAGUID: "01020304-0506-0708-0102-030405060708", Kind: latchkey.KindDeviceBound, Attestation: latchkey.AttestationUntrusted, UserVerified: true},
			Registration, CodeAttestationRequired,
			"Your organisation asks you to use an approved security key here. This security key can't be used. Ask IT which key to use.",
			[]string{"unknown provider", "import a FIDO metadata BLOB"}},
		{"Microsoft Authenticator missing from allow-list", "g-mobile",
			Passkey{AAGUID: aaguidMSAndroid, Provider: "Microsoft Authenticator (Android)", Kind: latchkey.KindDeviceBound, Attestation: latchkey.AttestationAttested, UserVerified: true},
			Registration, CodeAAGUIDNotAllowed,
			"The passkey in Microsoft Authenticator (Android) is not on your organisation's list of approved passkeys. Ask IT which passkey or security key to use.",
			[]string{`profile "Mobile": AAGUID de1e552d-db1d-4423-a619-566b625cdc84 (Microsoft Authenticator (Android)) is not on the keyRestrictions allow-list (add it to aaGuids to accept it)`}},
		{"removed from allow-list stops sign-in", "g-mobile",
			Passkey{AAGUID: aaguidGooglePass, Provider: "Google Password Manager", Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, UserVerified: true},
			SignIn, CodeAAGUIDNotAllowed, "", []string{"at signIn", aaguidGooglePass}},
		{"block-listed grey-market key", "g-grey",
			Passkey{AAGUID: "01020304-0506-0708-0102-030405060708", Kind: latchkey.KindDeviceBound, Attestation: latchkey.AttestationSelf, UserVerified: true},
			SignIn, CodeAAGUIDBlocked,
			"This security key has been blocked by your organisation. Ask IT which passkey or security key to use.",
			[]string{`profile "No grey keys": AAGUID 01020304-0506-0708-0102-030405060708 (unknown provider) is on the keyRestrictions block-list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := EvaluatePasskey(p, User{ID: "u", GroupIDs: []string{tt.group}}, tt.pk, tt.c)
			if v.Allowed {
				t.Fatalf("allowed: %+v", v)
			}
			r := v.Refusal
			if r.Code != tt.code {
				t.Errorf("code %s, want %s (%s)", r.Code, tt.code, r.Detail)
			}
			checkPlain(t, r.Message)
			if tt.message != "" && r.Message != tt.message {
				t.Errorf("message\n got %q\nwant %q", r.Message, tt.message)
			}
			for _, d := range tt.detail {
				if !strings.Contains(r.Detail, d) {
					t.Errorf("detail %q lacks %q", r.Detail, d)
				}
			}
		})
	}
}

func TestRefusalsOutsideProfiles(t *testing.T) {
	icloud := Passkey{AAGUID: aaguidICloud, Provider: "iCloud Keychain", Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, UserVerified: true}
	member := User{ID: "u", GroupIDs: []string{"g-staff"}}
	tests := []struct {
		name   string
		change func(p *MethodsPolicy, u *User, pk *Passkey)
		c      Ceremony
		code   string // "" when allowed
		detail string
	}{
		{"default allows registration", func(*MethodsPolicy, *User, *Passkey) {}, Registration, "", ""},
		{"default allows sign-in", func(*MethodsPolicy, *User, *Passkey) {}, SignIn, "", ""},
		{"passkeys disabled: sign-in", func(p *MethodsPolicy, _ *User, _ *Passkey) { p.Passkey.State = StateDisabled }, SignIn, CodeMethodDisabled, "method passkey is disabled"},
		{"passkeys disabled: registration", func(p *MethodsPolicy, _ *User, _ *Passkey) { p.Passkey.State = StateDisabled }, Registration, CodeMethodDisabled, aaguidICloud},
		{"group excluded wins over all users", func(p *MethodsPolicy, _ *User, _ *Passkey) {
			p.Passkey.ExcludeTargets = []Target{{ID: "g-staff", TargetType: TargetTypeGroup}}
		}, SignIn, CodeMethodDisabled, "excludes group g-staff"},
		{"self-service off: registration", func(p *MethodsPolicy, _ *User, _ *Passkey) { p.Passkey.IsSelfServiceRegistrationAllowed = false }, Registration, CodeSelfServiceDisabled, "isSelfServiceRegistrationAllowed is false"},
		{"self-service off: sign-in still works", func(p *MethodsPolicy, _ *User, _ *Passkey) { p.Passkey.IsSelfServiceRegistrationAllowed = false }, SignIn, "", ""},
		{"guest registration", func(_ *MethodsPolicy, u *User, _ *Passkey) { u.IsGuest = true }, Registration, CodeGuestRegistrationDisabled, "is a guest"},
		{"guest registration allowed", func(p *MethodsPolicy, u *User, _ *Passkey) {
			u.IsGuest, p.Passkey.IsGuestRegistrationAllowed = true, true
		}, Registration, "", ""},
		{"guest sign-in", func(_ *MethodsPolicy, u *User, _ *Passkey) { u.IsGuest = true }, SignIn, "", ""},
		{"revoked at sign-in", func(_ *MethodsPolicy, _ *User, pk *Passkey) { pk.Attestation = AttestationRevoked }, SignIn, CodeAuthenticatorRevoked, "revoked"},
		{"revoked before user verification", func(_ *MethodsPolicy, _ *User, pk *Passkey) {
			pk.Attestation, pk.UserVerified = AttestationRevoked, false
		}, SignIn, CodeAuthenticatorRevoked, aaguidICloud},
		{"possible clone", func(_ *MethodsPolicy, _ *User, pk *Passkey) { pk.PossibleClone, pk.Nickname = true, "Work phone" }, SignIn, CodePossibleClone, `"Work phone"`},
		{"user not verified", func(_ *MethodsPolicy, _ *User, pk *Passkey) { pk.UserVerified = false }, SignIn, CodeUserVerificationRequired, "UV flag"},
		{"user verification not required", func(p *MethodsPolicy, _ *User, pk *Passkey) {
			pk.UserVerified, p.Passkey.IsUserVerificationRequired = false, false
		}, Registration, "", ""},
		{"method disabled before user verification", func(p *MethodsPolicy, _ *User, pk *Passkey) {
			pk.UserVerified, p.Passkey.State = false, StateDisabled
		}, SignIn, CodeMethodDisabled, ""},
		{"no profile at all", func(p *MethodsPolicy, _ *User, _ *Passkey) { p.Passkey.DefaultProfileID = "gone" }, SignIn, CodeNoPasskeyProfile, `"gone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, u, pk := DefaultMethodsPolicy(), member, icloud
			tt.change(&p, &u, &pk)
			v := EvaluatePasskey(p, u, pk, tt.c)
			if tt.code == "" {
				if !v.Allowed || v.Profile != DefaultProfileID {
					t.Fatalf("refused: %+v %v", v, v.Refusal)
				}
				return
			}
			if v.Allowed || v.Refusal == nil {
				t.Fatalf("allowed: %+v", v)
			}
			if v.Refusal.Code != tt.code || v.Refusal.Kind != latchkey.EFORBIDDEN {
				t.Errorf("code %s, want %s (%s)", v.Refusal.Code, tt.code, v.Refusal.Detail)
			}
			checkPlain(t, v.Refusal.Message)
			if !strings.Contains(v.Refusal.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", v.Refusal.Detail, tt.detail)
			}
		})
	}
}

func TestCanonicalAAGUID(t *testing.T) {
	for in, want := range map[string]string{
		"DE1E552D-DB1D-4423-A619-566B625CDC84":    aaguidMSAndroid,
		"de1e552ddb1d4423a619566b625cdc84":        aaguidMSAndroid,
		" {de1e552d-db1d-4423-a619-566b625cdc84}": aaguidMSAndroid,
		"de1e552d-db1d-4423-a619-566b625cdc8":     "",
		"de1e552d-db1d-4423-a619-566b625cdc8g":    "",
		"":                                        "",
	} {
		got, ok := CanonicalAAGUID(in)
		if got != want || ok != (want != "") {
			t.Errorf("CanonicalAAGUID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// benchPolicy has 50 profiles, each targeting a group the user belongs to, none accepting an
// iCloud Keychain passkey except (when lastAccepts) the last.
func benchPolicy(b *testing.B, lastAccepts bool) (MethodsPolicy, User) {
	var profiles []PasskeyProfile
	u := User{ID: "u"}
	for i := range 50 {
		g := fmt.Sprintf("g-%02d", i)
		u.GroupIDs = append(u.GroupIDs, g)
		pr := profile(fmt.Sprintf("p-%02d", i), fmt.Sprintf("Profile %02d", i), PasskeyTypesDeviceBound, AttestationEnforcementRegistrationOnly, g)
		pr.KeyRestrictions = KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow,
			AAGUIDs: []string{aaguidYubiKey, aaguidMSAndroid, aaguidMSiOS, fmt.Sprintf("00000000-0000-0000-0000-%012d", i)}}
		if i == 49 && lastAccepts {
			pr.PasskeyTypes, pr.AttestationEnforcement = PasskeyTypesBoth, AttestationEnforcementDisabled
			pr.KeyRestrictions.AAGUIDs = append(pr.KeyRestrictions.AAGUIDs, aaguidICloud)
		}
		profiles = append(profiles, pr)
	}
	return policyWith(b, profiles...), u
}

func BenchmarkEvaluatePasskey50Profiles(b *testing.B) {
	pk := Passkey{AAGUID: aaguidICloud, Provider: "iCloud Keychain", Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, UserVerified: true}
	for _, accept := range []bool{false, true} {
		name := "refused"
		if accept {
			name = "acceptedByLast"
		}
		b.Run(name, func(b *testing.B) {
			p, u := benchPolicy(b, accept)
			b.ReportAllocs()
			for b.Loop() {
				if v := EvaluatePasskey(p, u, pk, Registration); v.Allowed != accept {
					b.Fatal(v.Refusal)
				}
			}
		})
	}
}
