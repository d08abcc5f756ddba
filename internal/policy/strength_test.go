package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/internal/latchkey"
)

var (
	ctxDeviceBoundAttested = AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
		Passkey: &PresentedPasskey{Kind: latchkey.KindDeviceBound, AAGUID: aaguidYubiKey, Attestation: latchkey.AttestationAttested, UserVerified: true}}
	ctxDeviceBoundClaimed = AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
		Passkey: &PresentedPasskey{Kind: latchkey.KindDeviceBound, AAGUID: aaguidMSAndroid, Attestation: latchkey.AttestationNone, UserVerified: true}}
	ctxSynced = AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
		Passkey: &PresentedPasskey{Kind: latchkey.KindSynced, AAGUID: aaguidICloud, Attestation: latchkey.AttestationNone, UserVerified: true}}
	ctxSyncedNoUV = AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
		Passkey: &PresentedPasskey{Kind: latchkey.KindSynced, AAGUID: aaguidICloud, Attestation: latchkey.AttestationNone}}
	ctxTAP          = AuthenticationContext{Methods: []string{latchkey.MethodTAP}}
	ctxPasswordTOTP = AuthenticationContext{Methods: []string{MethodPassword, MethodTOTP}}
	ctxPassword     = AuthenticationContext{Methods: []string{MethodPassword}}
	ctxTOTP         = AuthenticationContext{Methods: []string{MethodTOTP}}
	ctxFedPR        = AuthenticationContext{Methods: []string{MethodFederated},
		Federated: &FederatedClaims{PartnerID: "contoso", MFA: true, PhishingResistant: true, TrustMFA: true, TrustPhishingResistant: true}}
	ctxFedMFA = AuthenticationContext{Methods: []string{MethodFederated},
		Federated: &FederatedClaims{PartnerID: "fabrikam", MFA: true, TrustMFA: true}}
	ctxFedUntrusted = AuthenticationContext{Methods: []string{MethodFederated},
		Federated: &FederatedClaims{PartnerID: "evil", MFA: true, PhishingResistant: true}}
)

// hardwareOnly is a custom strength: attested device-bound passkeys only.
var hardwareOnly = Strength{ID: "hardwareOnly", Name: "Hardware keys", AllowedCombinations: []string{CombinationPasskey},
	PasskeyConditions: &PasskeyConditions{Kinds: []string{latchkey.KindDeviceBound}, AttestationRequired: true}}

func TestBuiltInStrengths(t *testing.T) {
	b := BuiltInStrengths()
	b[hardwareOnly.ID] = hardwareOnly
	yubiOnly := Strength{ID: "yubi", Name: "YubiKeys", AllowedCombinations: []string{CombinationPasskey},
		PasskeyConditions: &PasskeyConditions{AllowedAAGUIDs: []string{aaguidYubiKey}}}
	b[yubiOnly.ID] = yubiOnly
	ids := []string{StrengthMFA, StrengthPasswordlessMFA, StrengthPhishingResistantMFA, hardwareOnly.ID, yubiOnly.ID}
	tests := []struct {
		name string
		ctx  AuthenticationContext
		want []bool // in ids order
	}{
		{"device-bound attested", ctxDeviceBoundAttested, []bool{true, true, true, true, true}},
		{"device-bound claimed", ctxDeviceBoundClaimed, []bool{true, true, true, false, false}},
		{"synced", ctxSynced, []bool{true, true, true, false, false}},
		{"synced without UV", ctxSyncedNoUV, []bool{false, false, false, false, false}},
		{"TAP", ctxTAP, []bool{true, false, false, false, false}},
		{"password+TOTP", ctxPasswordTOTP, []bool{true, false, false, false, false}},
		{"password", ctxPassword, []bool{false, false, false, false, false}},
		{"TOTP", ctxTOTP, []bool{false, false, false, false, false}},
		{"federated phishing-resistant", ctxFedPR, []bool{true, true, true, false, false}},
		{"federated MFA", ctxFedMFA, []bool{true, false, false, false, false}},
		{"federated untrusted", ctxFedUntrusted, []bool{false, false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			for _, id := range ids {
				ok, why := b[id].SatisfiedBy(tt.ctx)
				if why == "" {
					t.Errorf("%s: empty reason", id)
				}
				got = append(got, ok)
			}
			if d := cmp.Diff(got, tt.want); d != "" {
				t.Errorf("satisfied %v (-got +want):\n%s", ids, d)
			}
		})
	}
}

func TestStrengthValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Strength
		want string
	}{
		{"valid", hardwareOnly, ""},
		{"reordered combination", Strength{ID: "x", Name: "X", AllowedCombinations: []string{"totp, password"}}, ""},
		{"built-in id", Strength{ID: StrengthMFA, Name: "X", AllowedCombinations: []string{"passkey"}}, "built-in"},
		{"no name", Strength{ID: "x", AllowedCombinations: []string{"passkey"}}, "id and a name"},
		{"empty", Strength{ID: "x", Name: "X"}, "allows no method combination"},
		{"unknown combination", Strength{ID: "x", Name: "X", AllowedCombinations: []string{"sms"}}, `"sms" is not a method combination`},
		{"conditions without passkey", Strength{ID: "x", Name: "X", AllowedCombinations: []string{"temporaryAccessPass"}, PasskeyConditions: &PasskeyConditions{}}, "does not allow passkeys"},
		{"bad kind", Strength{ID: "x", Name: "X", AllowedCombinations: []string{"passkey"}, PasskeyConditions: &PasskeyConditions{Kinds: []string{"platform"}}}, `not "platform"`},
		{"bad aaguid", Strength{ID: "x", Name: "X", AllowedCombinations: []string{"passkey"}, PasskeyConditions: &PasskeyConditions{AllowedAAGUIDs: []string{"nope"}}}, "not an AAGUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("error %v", err)
		}
		return
	}
	e, ok := err.(*latchkey.Error)
	if !ok || e.Code != "invalid_policy" || !strings.Contains(e.Detail, want) {
		t.Fatalf("error %v, want invalid_policy containing %q", err, want)
	}
}

func TestAssuranceOf(t *testing.T) {
	tests := []struct {
		name string
		ctx  AuthenticationContext
		acr  string
		amr  []string
	}{
		{"device-bound attested", ctxDeviceBoundAttested, ACRPhishingResistantHardware, []string{"hwk", "mfa", "pop", "user"}},
		{"device-bound claimed", ctxDeviceBoundClaimed, ACRPhishingResistant, []string{"hwk", "mfa", "pop", "user"}},
		{"synced", ctxSynced, ACRPhishingResistant, []string{"mfa", "pop", "swk", "user"}},
		{"synced without UV", ctxSyncedNoUV, ACRAAL1, []string{"pop", "swk"}},
		{"TAP", ctxTAP, ACRAAL1, []string{"otp"}},
		{"password+TOTP", ctxPasswordTOTP, ACRAAL2, []string{"mfa", "otp", "pwd"}},
		{"password", ctxPassword, ACRAAL1, []string{"pwd"}},
		{"federated phishing-resistant", ctxFedPR, ACRPhishingResistant, []string{"mfa"}},
		{"federated untrusted", ctxFedUntrusted, ACRAAL1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acr, amr := AssuranceOf(tt.ctx)
			if acr != tt.acr {
				t.Errorf("acr %q, want %q", acr, tt.acr)
			}
			if d := cmp.Diff(amr, tt.amr); d != "" {
				t.Errorf("amr (-got +want):\n%s", d)
			}
		})
	}
}
