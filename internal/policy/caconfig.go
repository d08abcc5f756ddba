package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// NamedLocation is a set of address ranges that policies name in their location conditions,
// shaped like Graph's ipNamedLocation.
type NamedLocation struct {
	ID        string   `json:"id"`
	Name      string   `json:"displayName"`
	CIDRs     []string `json:"ipRanges"`
	IsTrusted bool     `json:"isTrusted"`
}

// ConditionalAccessConfig is everything conditional access reads: the policies in evaluation
// order, the custom authentication strengths (the built-in ones are implied), and the named
// locations. It is stored as one document, so that every node sees one consistent version.
type ConditionalAccessConfig struct {
	Policies       []ConditionalAccessPolicy `json:"policies"`
	Strengths      []Strength                `json:"authenticationStrengths"`
	NamedLocations []NamedLocation           `json:"namedLocations"`

	// Derived by Validate: every strength by id, and every location's prefixes by id.
	strengths map[string]Strength
	locations map[string][]netip.Prefix
}

// invalidCA returns an invalid_policy error about the conditional access configuration.
func invalidCA(format string, args ...any) *latchkey.Error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The conditional access settings are not valid: "+s+".", "%s", s)
}

// Validate checks and normalizes c in place: unique ids, valid custom strengths, parseable
// address ranges, and policies that name only strengths and locations that exist. It fills
// the maps StrengthMap and LocationMap return.
func (c *ConditionalAccessConfig) Validate() error {
	if c.Policies == nil {
		c.Policies = []ConditionalAccessPolicy{}
	}
	if c.Strengths == nil {
		c.Strengths = []Strength{}
	}
	if c.NamedLocations == nil {
		c.NamedLocations = []NamedLocation{}
	}
	strengths := BuiltInStrengths()
	for i := range c.Strengths {
		s := &c.Strengths[i]
		if err := s.Validate(); err != nil {
			return err
		}
		if _, dup := strengths[s.ID]; dup {
			return invalidCA("two strengths have the id %q", s.ID)
		}
		strengths[s.ID] = *s
	}
	locations := map[string][]netip.Prefix{}
	for i := range c.NamedLocations {
		l := &c.NamedLocations[i]
		l.ID, l.Name = strings.TrimSpace(l.ID), strings.TrimSpace(l.Name)
		switch {
		case l.ID == "" || l.Name == "":
			return invalidCA("a named location needs an id and a name")
		case l.ID == All:
			return invalidCA("%q is reserved and cannot name a location", All)
		case len(l.CIDRs) == 0:
			return invalidCA("named location %q has no address ranges", l.Name)
		}
		if _, dup := locations[l.ID]; dup {
			return invalidCA("two named locations have the id %q", l.ID)
		}
		prefixes := make([]netip.Prefix, 0, len(l.CIDRs))
		for j, s := range l.CIDRs {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				a, aerr := netip.ParseAddr(strings.TrimSpace(s))
				if aerr != nil {
					return invalidCA("named location %q: %q is not an address range such as 203.0.113.0/24 or 2001:db8::/32", l.Name, s)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			p = p.Masked()
			l.CIDRs[j] = p.String()
			prefixes = append(prefixes, p)
		}
		locations[l.ID] = prefixes
	}
	ids := map[string]bool{}
	for i := range c.Policies {
		p := &c.Policies[i]
		if err := p.Validate(strengths); err != nil {
			return err
		}
		if ids[p.ID] {
			return invalidCA("two policies have the id %q", p.ID)
		}
		ids[p.ID] = true
		for _, n := range slices.Concat(p.Conditions.Locations.IncludeLocations, p.Conditions.Locations.ExcludeLocations) {
			if _, ok := locations[n]; !ok && n != All {
				return invalidCA("policy %q names location %q, which does not exist", p.Name, n)
			}
		}
	}
	c.strengths, c.locations = strengths, locations
	return nil
}

// CheckNames refuses two policies, two strengths (built-in ones included) or two named locations
// with the same name regardless of case: a command given a name would otherwise pick one of
// them silently. Every write checks it; reads do not, so that a document stored before names had
// to be unique still signs people in.
func (c *ConditionalAccessConfig) CheckNames() error {
	seen := map[string]string{}
	dup := func(kind, name string) bool {
		k := kind + "\x00" + strings.ToLower(strings.TrimSpace(name))
		if _, ok := seen[k]; ok {
			return true
		}
		seen[k] = name
		return false
	}
	for _, s := range BuiltInStrengths() {
		dup("strength", s.Name)
	}
	for _, s := range c.Strengths {
		if dup("strength", s.Name) {
			return latchkey.Errorf(latchkey.ECONFLICT, "strength_exists", "An authentication strength with this name already exists. Choose another name.",
				"two strengths are named %q", s.Name)
		}
	}
	for _, l := range c.NamedLocations {
		if dup("location", l.Name) {
			return latchkey.Errorf(latchkey.ECONFLICT, "location_exists", "A named location with this name already exists. Choose another name.",
				"two named locations are named %q", l.Name)
		}
	}
	for _, p := range c.Policies {
		if dup("policy", p.Name) {
			return latchkey.Errorf(latchkey.ECONFLICT, "policy_exists", "A conditional access policy with this name already exists. Choose another name.",
				"two conditional access policies are named %q", p.Name)
		}
	}
	return nil
}

// StrengthMap returns every strength, built-in and custom, by id. Call Validate first; before it
// only the built-in strengths are returned.
func (c *ConditionalAccessConfig) StrengthMap() map[string]Strength {
	if c.strengths == nil {
		return BuiltInStrengths()
	}
	return c.strengths
}

// LocationMap returns every named location's prefixes by id. Call Validate first.
func (c *ConditionalAccessConfig) LocationMap() map[string][]netip.Prefix { return c.locations }

// StrengthUsedBy returns the names of the policies that demand strength id.
func (c *ConditionalAccessConfig) StrengthUsedBy(id string) []string {
	var out []string
	for _, p := range c.Policies {
		if p.Grant.StrengthID == id {
			out = append(out, p.Name)
		}
	}
	return out
}

// LocationUsedBy returns the names of the policies that name location id.
func (c *ConditionalAccessConfig) LocationUsedBy(id string) []string {
	var out []string
	for _, p := range c.Policies {
		if slices.Contains(p.Conditions.Locations.IncludeLocations, id) || slices.Contains(p.Conditions.Locations.ExcludeLocations, id) {
			out = append(out, p.Name)
		}
	}
	return out
}

// Evaluate evaluates c's policies for req with c's strengths and named locations.
func (c *ConditionalAccessConfig) Evaluate(req Request) Evaluation {
	req.NamedLocations = c.LocationMap()
	return EvaluateConditionalAccess(c.Policies, c.StrengthMap(), req)
}
