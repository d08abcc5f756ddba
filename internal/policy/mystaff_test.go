package policy

import (
	"encoding/json"
	"testing"
)

// TestMyStaffSettings: My Staff is off unless enabled; with no groups every manager may use it,
// with groups only their members; lifetimes outside 1..15 are refused and 0 means 15.
func TestMyStaffSettings(t *testing.T) {
	if (MyStaff{}).AllowsManager(nil) || DefaultMethodsPolicy().TemporaryAccessPass.MyStaff.Enabled() {
		t.Fatal("My Staff is on without being turned on")
	}
	on := MyStaff{State: StateEnabled}
	if !on.AllowsManager(nil) {
		t.Error("with no groups, every manager may use My Staff")
	}
	on.IncludeGroups = []string{"leads"}
	if on.AllowsManager([]string{"staff"}) || !on.AllowsManager([]string{"staff", "leads"}) {
		t.Error("with groups, only their members may use My Staff")
	}
	for _, m := range []MyStaff{{State: "maybe"}, {LifetimeInMinutes: 16}, {LifetimeInMinutes: -1}, {IncludeGroups: []string{""}}} {
		if err := m.Validate(); err == nil || err.Code != "invalid_recovery" {
			t.Errorf("%+v: %v; want invalid_recovery", m, err)
		}
	}
	if (MyStaff{}).Lifetime() != RecoveryMaxLifetime || (Kiosk{LifetimeInMinutes: 5}).Lifetime() != 5 {
		t.Error("lifetimes: 0 is the maximum, others as set")
	}
	if err := (&Kiosk{LifetimeInMinutes: 16}).Validate(); err == nil {
		t.Error("a kiosk pass of 16 minutes was accepted")
	}
	// A policy stored before these settings existed reads as My Staff off, passes of 15 minutes.
	var tp TAPMethod
	if err := json.Unmarshal([]byte(`{"state":"enabled"}`), &tp); err != nil {
		t.Fatal(err)
	}
	if tp.MyStaff.Enabled() || tp.MyStaff.Lifetime() != 15 || tp.Kiosk.Lifetime() != 15 {
		t.Errorf("an old policy reads as %+v, %+v", tp.MyStaff, tp.Kiosk)
	}
}
