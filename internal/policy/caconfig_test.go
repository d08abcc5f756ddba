package policy

import (
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestConfigRefusesDuplicateNames: CheckNames refuses a whole conditional access document with two policies, two
// strengths (a built-in one included) or two named locations of the same name, in any case, is
// refused with a plain sentence; distinct names pass.
func TestConfigRefusesDuplicateNames(t *testing.T) {
	pol := func(id, name string) ConditionalAccessPolicy {
		return ConditionalAccessPolicy{ID: id, Name: name, State: CAStateReportOnly,
			Users: Users{IncludeUsers: []string{All}}, Applications: Applications{IncludeApplications: []string{All}}, Grant: Grant{Block: true}}
	}
	str := func(id, name string) Strength {
		return Strength{ID: id, Name: name, AllowedCombinations: []string{CombinationPasskey}}
	}
	loc := func(id, name string) NamedLocation {
		return NamedLocation{ID: id, Name: name, CIDRs: []string{"192.0.2.0/24"}}
	}
	for _, c := range []struct {
		name string
		cfg  ConditionalAccessConfig
		code string
	}{
		{"distinct", ConditionalAccessConfig{Policies: []ConditionalAccessPolicy{pol("a", "Block"), pol("b", "Block guests")},
			Strengths: []Strength{str("s", "Keys")}, NamedLocations: []NamedLocation{loc("l", "Office"), loc("m", "Home")}}, ""},
		{"policies", ConditionalAccessConfig{Policies: []ConditionalAccessPolicy{pol("a", "Block"), pol("b", "BLOCK ")}}, "policy_exists"},
		{"strengths", ConditionalAccessConfig{Strengths: []Strength{str("s", "Keys"), str("t", "keys")}}, "strength_exists"},
		{"built-in strength", ConditionalAccessConfig{Strengths: []Strength{str("s", "mfa")}}, "strength_exists"},
		{"locations", ConditionalAccessConfig{NamedLocations: []NamedLocation{loc("l", "Office"), loc("m", "office")}}, "location_exists"},
	} {
		err := c.cfg.Validate()
		if err == nil {
			err = c.cfg.CheckNames()
		}
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if got := latchkey.ErrorCode(err); got != c.code {
			t.Errorf("%s: %v (code %q), want %q", c.name, err, got, c.code)
			continue
		}
		if !latchkey.IsKind(err, latchkey.ECONFLICT) {
			t.Errorf("%s: %v is not a conflict", c.name, err)
		}
	}
}
