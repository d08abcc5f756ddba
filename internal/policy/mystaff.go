package policy

import (
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// RecoveryMaxLifetime is the longest a recovery pass works, in minutes (signin.RecoveryMaxLifetime).
const RecoveryMaxLifetime = 15

// MyStaff is the My Staff settings, kept in the temporary access pass section of the methods
// policy (a Latchkey extension): whether managers may issue a recovery pass to a direct report
// who holds no role, which managers (members of IncludeGroups; every manager when empty), and
// how long the pass works.
type MyStaff struct {
	State string `json:"state"` // StateEnabled or StateDisabled; "" (a policy stored before My Staff) is off
	// IncludeGroups are the ids of the groups whose members may use My Staff; empty: every manager.
	IncludeGroups []string `json:"includeGroups"`
	// LifetimeInMinutes is how long the pass works, 1..RecoveryMaxLifetime; 0 is RecoveryMaxLifetime.
	LifetimeInMinutes int `json:"lifetimeInMinutes"`
}

// Kiosk is the "I have a new phone" settings: how long the pass that a person gets on their
// laptop for their new phone works (1..RecoveryMaxLifetime; 0 is RecoveryMaxLifetime).
type Kiosk struct {
	LifetimeInMinutes int `json:"lifetimeInMinutes"`
}

// invalidRecovery returns an invalid_recovery refusal.
func invalidRecovery(format string, args ...any) *latchkey.Error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_recovery", "The recovery settings are not valid: "+s+".", "%s", s)
}

// Validate checks the My Staff settings.
func (m *MyStaff) Validate() *latchkey.Error {
	if m.State != "" && m.State != StateEnabled && m.State != StateDisabled {
		return invalidRecovery("My Staff's state must be enabled or disabled, not %q", m.State)
	}
	if m.LifetimeInMinutes < 0 || m.LifetimeInMinutes > RecoveryMaxLifetime {
		return invalidRecovery("a pass from a manager must work between 1 and %d minutes, not %d", RecoveryMaxLifetime, m.LifetimeInMinutes)
	}
	for _, g := range m.IncludeGroups {
		if g == "" {
			return invalidRecovery("a group of managers has no id")
		}
	}
	return nil
}

// Enabled reports whether managers may use My Staff at all.
func (m MyStaff) Enabled() bool { return m.State == StateEnabled }

// AllowsManager reports whether a manager in the groups groupIDs may use My Staff.
func (m MyStaff) AllowsManager(groupIDs []string) bool {
	if !m.Enabled() {
		return false
	}
	if len(m.IncludeGroups) == 0 {
		return true
	}
	for _, g := range m.IncludeGroups {
		if g == AllUsers || slices.Contains(groupIDs, g) {
			return true
		}
	}
	return false
}

// Lifetime returns the lifetime of a manager's pass, in minutes.
func (m MyStaff) Lifetime() int { return recoveryLifetime(m.LifetimeInMinutes) }

// Validate checks the kiosk settings.
func (k *Kiosk) Validate() *latchkey.Error {
	if k.LifetimeInMinutes < 0 || k.LifetimeInMinutes > RecoveryMaxLifetime {
		return invalidRecovery("a pass for a new phone must work between 1 and %d minutes, not %d", RecoveryMaxLifetime, k.LifetimeInMinutes)
	}
	return nil
}

// Lifetime returns the lifetime of a kiosk pass, in minutes.
func (k Kiosk) Lifetime() int { return recoveryLifetime(k.LifetimeInMinutes) }

func recoveryLifetime(n int) int {
	if n <= 0 || n > RecoveryMaxLifetime {
		return RecoveryMaxLifetime
	}
	return n
}
