package oidc

import (
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

func TestACRMet(t *testing.T) {
	pk := func(kind, att string, uv bool) policy.AuthenticationContext {
		return policy.AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
			Passkey: &policy.PresentedPasskey{Kind: kind, Attestation: att, UserVerified: uv}}
	}
	hw := pk(latchkey.KindDeviceBound, latchkey.AttestationAttested, true)
	unattested := pk(latchkey.KindDeviceBound, "none", true)
	synced := pk(latchkey.KindSynced, "none", true)
	noUV := pk(latchkey.KindDeviceBound, latchkey.AttestationAttested, false)
	tap := policy.AuthenticationContext{Methods: []string{latchkey.MethodTAP}}
	for _, tc := range []struct {
		want string
		ac   policy.AuthenticationContext
		met  bool
	}{
		{"phrh", hw, true}, {"phrh", unattested, false}, {"phrh", synced, false}, {"phrh", noUV, false}, {"phrh", tap, false},
		{"phr", hw, true}, {"phr", synced, true}, {"phr", noUV, false}, {"phr", tap, false},
		{policy.StrengthMFA, tap, true}, {policy.StrengthMFA, synced, true},
		{policy.StrengthPhishingResistantMFA, synced, true}, {policy.StrengthPhishingResistantMFA, tap, false},
		{policy.StrengthPasswordlessMFA, tap, false},
	} {
		if got := acrMet(tc.want, tc.ac, policy.BuiltInStrengths()); got != tc.met {
			t.Errorf("acrMet(%q, %+v) = %v, want %v", tc.want, tc.ac.Passkey, got, tc.met)
		}
	}
	if got := requestedACRs([]string{"phrh phr", "unknown", "mfa", "phr"}, policy.BuiltInStrengths()); len(got) != 3 || got[0] != "phrh" || got[1] != "phr" || got[2] != "mfa" {
		t.Errorf("requestedACRs = %v", got)
	}
}
