package passkey

import "testing"

func TestProviderName(t *testing.T) {
	for aaguid, want := range map[string]string{
		"fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "Apple Passwords",
		"EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4": "Google Password Manager",
		"de1e552d-db1d-4423-a619-566b625cdc84": "Microsoft Authenticator (Android)",
		"90a3ccdf-635c-4729-a248-9b709135078f": "Microsoft Authenticator (iOS)",
		"00000000-0000-0000-0000-000000000000": "",
	} {
		if got := ProviderName(aaguid); got != want {
			t.Errorf("ProviderName(%s) = %q, want %q", aaguid, got, want)
		}
	}
}
