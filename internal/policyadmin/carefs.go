package policyadmin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// What a conditional access policy names (users, groups, applications, locations, strengths),
// resolved to ids and checked to exist before it is stored.

// resolvePolicyRefs checks that everything p names exists, replacing user principal names by
// user ids, group names by group ids, location and strength names by their ids, and empty lists
// by [] so that the stored JSON has no nulls.
func (s *Service) resolvePolicyRefs(ctx context.Context, cfg *policy.ConditionalAccessConfig, p *policy.ConditionalAccessPolicy) error {
	u := &p.Users
	if len(u.IncludeUsers) == 0 && len(u.IncludeGroups) == 0 && len(u.IncludeRoles) == 0 && !u.IncludeGuests {
		return invalidCAPolicy("policy %q covers nobody: include All users, or chosen users, groups, roles or guests", p.Name)
	}
	var err error
	if u.IncludeUsers, err = s.resolveUsers(ctx, u.IncludeUsers, true); err != nil {
		return err
	}
	if u.ExcludeUsers, err = s.resolveUsers(ctx, u.ExcludeUsers, false); err != nil {
		return err
	}
	if u.IncludeGroups, err = s.resolveGroups(ctx, u.IncludeGroups); err != nil {
		return err
	}
	if u.ExcludeGroups, err = s.resolveGroups(ctx, u.ExcludeGroups); err != nil {
		return err
	}
	for _, roles := range []*[]string{&u.IncludeRoles, &u.ExcludeRoles} {
		*roles = cleanList(*roles)
		for _, r := range *roles {
			if !slices.Contains(knownRoles, r) {
				return latchkey.Errorf(latchkey.EINVALID, "unknown_role", "The policy names a role that does not exist. Choose "+strings.Join(knownRoles, ", ")+".",
					"role %q does not exist (roles: %s)", r, strings.Join(knownRoles, ", "))
			}
		}
	}
	a := &p.Applications
	if a.IncludeApplications, err = s.resolveApps(ctx, a.IncludeApplications, true); err != nil {
		return err
	}
	if a.ExcludeApplications, err = s.resolveApps(ctx, a.ExcludeApplications, false); err != nil {
		return err
	}
	a.IncludeUserActions = cleanList(a.IncludeUserActions)
	c := &p.Conditions
	c.Platforms.IncludePlatforms = cleanList(c.Platforms.IncludePlatforms)
	c.Platforms.ExcludePlatforms = cleanList(c.Platforms.ExcludePlatforms)
	for pl, v := range c.Platforms.MinimumVersions {
		if strings.TrimSpace(v) == "" {
			delete(c.Platforms.MinimumVersions, pl)
		} else if !slices.Contains(c.Platforms.IncludePlatforms, pl) && !slices.Contains(c.Platforms.IncludePlatforms, policy.All) {
			return invalidCAPolicy("policy %q: a minimum version for %s needs %s among the included platforms", p.Name, pl, pl)
		}
	}
	c.ClientTypes = cleanList(c.ClientTypes)
	for _, ct := range c.ClientTypes {
		if !slices.Contains(ClientTypes, ct) && ct != policy.All {
			return invalidCAPolicy("policy %q: %q is not a client type (use %s)", p.Name, ct, strings.Join(ClientTypes, ", "))
		}
	}
	for _, locs := range []*[]string{&c.Locations.IncludeLocations, &c.Locations.ExcludeLocations} {
		*locs = cleanList(*locs)
		for i, ref := range *locs {
			if id, ok := locationID(cfg, ref); ok {
				(*locs)[i] = id
			} else if ref != policy.All {
				return latchkey.Errorf(latchkey.EINVALID, "unknown_location", "The policy names a network location that does not exist. Choose an existing named location.",
					"policy %q names location %q, which is neither the id nor the name of a named location", p.Name, ref)
			}
		}
	}
	if id := strings.TrimSpace(p.Grant.StrengthID); id != "" {
		if _, ok := cfg.StrengthMap()[id]; !ok {
			for _, st := range cfg.StrengthMap() {
				if strings.EqualFold(st.Name, id) {
					p.Grant.StrengthID = st.ID
				}
			}
		}
		if _, ok := cfg.StrengthMap()[p.Grant.StrengthID]; !ok {
			return latchkey.Errorf(latchkey.EINVALID, "unknown_strength", "The policy asks for an authentication strength that does not exist. Choose an existing strength.",
				"policy %q demands strength %q, which is neither the id nor the name of a strength", p.Name, id)
		}
	}
	return nil
}

// ClientTypes are the client types a policy condition may name.
var ClientTypes = []string{policy.ClientBrowser, policy.ClientMobileDesktop, policy.ClientOther}

// Platforms are the device platforms a policy condition may name.
var Platforms = []string{policy.PlatformWindows, policy.PlatformMacOS, policy.PlatformIOS, policy.PlatformAndroid, policy.PlatformLinux, policy.PlatformOther}

// cleanList trims, drops empty entries and duplicates, and never returns nil.
func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) resolveUsers(ctx context.Context, refs []string, allowAll bool) ([]string, error) {
	out := []string{}
	for _, ref := range cleanList(refs) {
		if ref == policy.All {
			if !allowAll {
				return nil, invalidCAPolicy("%q cannot be excluded: a policy that excludes every user does nothing", policy.All)
			}
			out = append(out, ref)
			continue
		}
		u, err := s.findUserRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, u.ID) {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// findUserRef finds a user by id or UPN.
func (s *Service) findUserRef(ctx context.Context, ref string) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.Store.FindUserByUPN(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "unknown_user", fmt.Sprintf("The policy names a user who does not exist (%q). Check the user name.", ref),
			"no user with id or UPN %q", ref)
	}
	return u, err
}

func (s *Service) resolveGroups(ctx context.Context, refs []string) ([]string, error) {
	out := []string{}
	for _, ref := range cleanList(refs) {
		g, err := s.Store.FindGroupByID(ctx, ref)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			g, err = s.Store.FindGroupByName(ctx, ref)
		}
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, latchkey.Errorf(latchkey.EINVALID, "unknown_group", fmt.Sprintf("The policy names a group that does not exist (%q). Choose an existing group.", ref),
				"no group with id or name %q", ref)
		} else if err != nil {
			return nil, err
		}
		if !slices.Contains(out, g.ID) {
			out = append(out, g.ID)
		}
	}
	return out, nil
}

func (s *Service) resolveApps(ctx context.Context, refs []string, allowAll bool) ([]string, error) {
	out := cleanList(refs)
	for _, ref := range out {
		if ref == policy.All {
			if !allowAll {
				return nil, invalidCAPolicy("%q cannot be excluded: choose applications to exclude", policy.All)
			}
			continue
		}
		if _, err := s.Store.FindClient(ctx, ref); latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, latchkey.Errorf(latchkey.EINVALID, "unknown_application", "The policy names an application that does not exist. Choose an existing application.",
				"no application (OpenID Connect client) with client id %q", ref)
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// locationID returns the id of the named location ref names, by id or by name.
func locationID(cfg *policy.ConditionalAccessConfig, ref string) (string, bool) {
	for _, l := range cfg.NamedLocations {
		if l.ID == ref {
			return l.ID, true
		}
	}
	for _, l := range cfg.NamedLocations {
		if strings.EqualFold(l.Name, ref) {
			return l.ID, true
		}
	}
	return "", false
}
