package policypages

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/policyadmin"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// A conditional access policy in the words an admin reads on /admin/ca: names instead of ids,
// who, what and the grant in sentences.

// caNames turns the ids a policy stores into what an admin recognises.
type caNames struct {
	users     map[string]string // id → UPN
	groups    map[string]string
	apps      map[string]string
	locations map[string]string
	strengths map[string]policy.Strength
	// lists for the forms
	Groups    []policyGroup
	Apps      []policyGroup
	Locations []policyGroup
	Strengths []policy.Strength
	Users     []string // UPNs, for the what-if suggestions
}

func (s *Pages) caNames(ctx context.Context, a latchkey.Actor, cfg *policy.ConditionalAccessConfig) (*caNames, error) {
	n := &caNames{users: map[string]string{}, groups: map[string]string{}, apps: map[string]string{}, locations: map[string]string{},
		strengths: cfg.StrengthMap(), Strengths: policyadmin.AllStrengths(cfg)}
	d, err := s.policies.CADirectory(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, u := range d.Users {
		n.users[u.ID] = u.Name
		n.Users = append(n.Users, u.Name)
	}
	for _, g := range d.Groups {
		n.groups[g.ID] = g.Name
		n.Groups = append(n.Groups, policyGroup{ID: g.ID, Name: g.Name})
	}
	for _, c := range d.Apps {
		n.apps[c.ID] = c.Name
		n.Apps = append(n.Apps, policyGroup{ID: c.ID, Name: c.Name})
	}
	for _, l := range cfg.NamedLocations {
		n.locations[l.ID] = l.Name
		n.Locations = append(n.Locations, policyGroup{ID: l.ID, Name: l.Name})
	}
	return n, nil
}

func nameOr(m map[string]string, id, gone string) string {
	if v, ok := m[id]; ok {
		return v
	}
	return id + " (" + gone + ")"
}

func (n *caNames) list(m map[string]string, ids []string, gone string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = nameOr(m, id, gone)
	}
	return strings.Join(out, ", ")
}

// who says in words whom p covers.
func (n *caNames) who(p policy.ConditionalAccessPolicy) string {
	u := p.Users
	var in []string
	if slices.Contains(u.IncludeUsers, policy.All) {
		in = append(in, "All users")
	} else if len(u.IncludeUsers) > 0 {
		in = append(in, n.list(n.users, u.IncludeUsers, "deleted user"))
	}
	if len(u.IncludeGroups) > 0 {
		in = append(in, "members of "+n.list(n.groups, u.IncludeGroups, "deleted group"))
	}
	if slices.Contains(u.IncludeRoles, latchkey.RoleGlobalAdmin) {
		in = append(in, "global admins")
	}
	if u.IncludeGuests {
		in = append(in, "guests")
	}
	s := strings.Join(in, "; ")
	var ex []string
	if ids := slices.DeleteFunc(slices.Clone(u.ExcludeUsers), func(id string) bool { return id == policy.All }); len(ids) > 0 {
		ex = append(ex, n.list(n.users, ids, "deleted user"))
	}
	if len(u.ExcludeGroups) > 0 {
		ex = append(ex, "members of "+n.list(n.groups, u.ExcludeGroups, "deleted group"))
	}
	if slices.Contains(u.ExcludeRoles, latchkey.RoleGlobalAdmin) {
		ex = append(ex, "global admins")
	}
	if u.ExcludeGuests {
		ex = append(ex, "guests")
	}
	if len(ex) > 0 {
		s += ", except " + strings.Join(ex, "; ")
	}
	return s
}

// what says in words what p covers, with its conditions.
func (n *caNames) what(p policy.ConditionalAccessPolicy) string {
	a := p.Applications
	var s string
	switch {
	case slices.Contains(a.IncludeUserActions, policy.UserActionRegisterSecurityInfo):
		s = "Registering security info"
	case slices.Contains(a.IncludeApplications, policy.All):
		s = "All applications"
	default:
		s = n.list(n.apps, a.IncludeApplications, "deleted application")
	}
	if len(a.ExcludeApplications) > 0 {
		s += ", except " + n.list(n.apps, a.ExcludeApplications, "deleted application")
	}
	c := p.Conditions
	var conds []string
	if pl := c.Platforms; len(pl.IncludePlatforms) > 0 || len(pl.ExcludePlatforms) > 0 {
		var parts []string
		for _, x := range pl.IncludePlatforms {
			w := device.Name(x)
			if v := pl.MinimumVersions[x]; v != "" {
				w += " " + v + " or later"
			}
			parts = append(parts, w)
		}
		w := "on " + strings.Join(parts, ", ")
		if len(parts) == 0 {
			w = "on any platform"
		}
		if len(pl.ExcludePlatforms) > 0 {
			var names []string
			for _, x := range pl.ExcludePlatforms {
				names = append(names, device.Name(x))
			}
			w += " but not " + strings.Join(names, ", ")
		}
		conds = append(conds, w)
	}
	if l := c.Locations; len(l.IncludeLocations) > 0 || len(l.ExcludeLocations) > 0 {
		w := "from anywhere"
		if len(l.IncludeLocations) > 0 && !slices.Contains(l.IncludeLocations, policy.All) {
			w = "from " + n.list(n.locations, l.IncludeLocations, "deleted location")
		}
		if len(l.ExcludeLocations) > 0 {
			w += " except " + n.list(n.locations, l.ExcludeLocations, "deleted location")
		}
		conds = append(conds, w)
	}
	if len(c.ClientTypes) > 0 && !slices.Contains(c.ClientTypes, policy.All) {
		conds = append(conds, "from "+strings.Join(c.ClientTypes, ", ")+" clients")
	}
	if len(conds) > 0 {
		s += ", " + strings.Join(conds, ", ")
	}
	return s
}

// grant says in words what p demands.
func (n *caNames) grant(p policy.ConditionalAccessPolicy) string {
	s := "Block access"
	if !p.Grant.Block {
		st, ok := n.strengths[p.Grant.StrengthID]
		name := st.Name
		if !ok {
			name = p.Grant.StrengthID + " (deleted strength)"
		}
		s = "Require " + name
	}
	if p.SignInFrequency != nil {
		s += fmt.Sprintf("; sign in again every %s", hoursWords(p.SignInFrequency.Duration))
	}
	return s
}

func hoursWords(d time.Duration) string {
	h := d.Hours()
	if h == 1 {
		return "hour"
	}
	return strconv.FormatFloat(h, 'f', -1, 64) + " hours"
}

// stateWords names a policy state the way the page offers it.
func stateWords(state string) string {
	switch state {
	case policy.CAStateEnabled:
		return "On"
	case policy.CAStateReportOnly:
		return "Report-only"
	case policy.CAStateDisabled:
		return "Off"
	}
	return state
}
