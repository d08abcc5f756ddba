package policyadmin

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// Who may see and change the policies: every exported method decides first, through authz,
// whether its actor may read or change the methods policy (with its passkey profiles and TAP
// settings) or conditional access (with strengths, named locations, the lint and what-if). The
// reads below shadow the sign-in service's actor-free ones, which sign-in itself keeps using.

// policyTarget is the target of every policy action: the tenant's policies.
var policyTarget = authz.Target{Kind: authz.TargetPolicy}

// decide returns nil when a may do action on the policies, and authz's refusal otherwise.
func decide(a latchkey.Actor, action authz.Action) error {
	return authz.Decide(a, action, policyTarget)
}

// MethodsPolicy returns the stored authentication methods policy, for an actor who may read it.
func (s *Service) MethodsPolicy(ctx context.Context, a latchkey.Actor) (policy.MethodsPolicy, error) {
	if err := decide(a, authz.ActionReadMethodsPolicy); err != nil {
		return policy.MethodsPolicy{}, err
	}
	return s.Service.MethodsPolicy(ctx)
}

// TAPPolicy returns the methods policy's Temporary Access Pass settings, for an actor who may
// read the methods policy.
func (s *Service) TAPPolicy(ctx context.Context, a latchkey.Actor) (signin.TAPPolicy, error) {
	if err := decide(a, authz.ActionReadMethodsPolicy); err != nil {
		return signin.TAPPolicy{}, err
	}
	return s.Service.TAPPolicy(ctx)
}

// ConditionalAccess returns the stored conditional access configuration (policies, custom
// strengths, named locations), for an actor who may read it.
func (s *Service) ConditionalAccess(ctx context.Context, a latchkey.Actor) (*policy.ConditionalAccessConfig, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return nil, err
	}
	return s.Service.ConditionalAccess(ctx)
}

// MayInspect returns nil when a may inspect passkey registrations (reading the methods policy),
// and the refusal otherwise: for the page that offers the inspection form.
func (s *Service) MayInspect(a latchkey.Actor) error {
	return decide(a, authz.ActionReadMethodsPolicy)
}

// Named is a directory object (user, group, application) as the policy pages offer it: its id
// and the name an admin recognises (a user's principal name, a group's or an application's
// display name).
type Named struct {
	ID, Name string
}

// PolicyGroups returns every group, in the store's order, for the methods policy's targets and
// passkey profiles: for an actor who may read the methods policy.
func (s *Service) PolicyGroups(ctx context.Context, a latchkey.Actor) ([]Named, error) {
	if err := decide(a, authz.ActionReadMethodsPolicy); err != nil {
		return nil, err
	}
	return s.groups(ctx)
}

// CADirectory is what conditional access names by id, with the names to show: every user,
// group and application.
type CADirectory struct {
	Users, Groups, Apps []Named
}

// CADirectory returns the users, groups and applications that conditional access policies may
// name, for an actor who may read conditional access.
func (s *Service) CADirectory(ctx context.Context, a latchkey.Actor) (*CADirectory, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return nil, err
	}
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	d := &CADirectory{Users: make([]Named, len(users))}
	for i, u := range users {
		d.Users[i] = Named{ID: u.ID, Name: u.UserPrincipalName}
	}
	if d.Groups, err = s.groups(ctx); err != nil {
		return nil, err
	}
	cls, err := s.Store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	d.Apps = make([]Named, len(cls))
	for i, c := range cls {
		d.Apps[i] = Named{ID: c.ID, Name: c.Name}
	}
	return d, nil
}

// groups returns every group with its display name.
func (s *Service) groups(ctx context.Context) ([]Named, error) {
	gs, err := s.Store.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	out := make([]Named, len(gs))
	for i, g := range gs {
		out[i] = Named{ID: g.ID, Name: g.DisplayName}
	}
	return out, nil
}
