package latchkey

import (
	"strings"
	"testing"
)

func TestPasskeyDescription(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Passkey
		want string
	}{
		{"synced", Passkey{Kind: KindSynced, Transports: []string{"usb"}}, "Synced passkey"},
		{"security key by USB", Passkey{Kind: KindDeviceBound, Transports: []string{"internal", "usb"}}, "Security key"},
		{"security key by NFC", Passkey{Kind: KindDeviceBound, Transports: []string{"nfc"}}, "Security key"},
		{"on this device", Passkey{Kind: KindDeviceBound, Transports: []string{"internal", "hybrid"}}, "Device-bound passkey"},
		{"no transports", Passkey{Kind: KindDeviceBound}, "Device-bound passkey"},
	} {
		if got := tc.p.Description(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: Description() = %q, want it to start %q", tc.name, got, tc.want)
		}
	}
}
