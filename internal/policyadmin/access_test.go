package policyadmin

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// actorWith creates upn, assigns them role (over unitID, "" for the whole directory; no role
// when role is "") through the store, and returns their actor as a request would resolve it.
func actorWith(t *testing.T, svc *Service, upn, role, unitID string) latchkey.Actor {
	t.Helper()
	ctx := context.Background()
	u := addUser(t, svc, upn)
	if role != "" {
		if err := svc.Store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: role, UnitID: unitID}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := svc.PersonActor(ctx, nil, u)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// policyCalls are every kind of read and change of the policies, each as one call for an actor,
// with the action it needs.
func policyCalls(svc *Service, subject string) []struct {
	name   string
	action authz.Action
	call   func(latchkey.Actor) error
} {
	ctx := context.Background()
	type c = struct {
		name   string
		action authz.Action
		call   func(latchkey.Actor) error
	}
	errOf := func(_ any, err error) error { return err }
	return []c{
		{"MethodsPolicy", authz.ActionReadMethodsPolicy, func(a latchkey.Actor) error { return errOf(svc.MethodsPolicy(ctx, a)) }},
		{"TAPPolicy", authz.ActionReadMethodsPolicy, func(a latchkey.Actor) error { return errOf(svc.TAPPolicy(ctx, a)) }},
		{"PolicyGroups", authz.ActionReadMethodsPolicy, func(a latchkey.Actor) error { return errOf(svc.PolicyGroups(ctx, a)) }},
		{"Inspect", authz.ActionReadMethodsPolicy, func(a latchkey.Actor) error {
			return errOf(svc.Inspect(ctx, a, []byte(`{}`), InspectRequest{User: subject}))
		}},
		{"MayInspect", authz.ActionReadMethodsPolicy, func(a latchkey.Actor) error { return svc.MayInspect(a) }},
		{"ChangeMethodsPolicy", authz.ActionWriteMethodsPolicy, func(a latchkey.Actor) error {
			return errOf(svc.ChangeMethodsPolicy(ctx, a, 0, func(p *policy.MethodsPolicy) error {
				p.RegistrationCampaign.SnoozesAllowed = 7
				return nil
			}))
		}},
		{"SetTAPPolicy", authz.ActionWriteMethodsPolicy, func(a latchkey.Actor) error {
			t, err := svc.Service.TAPPolicy(ctx)
			if err != nil {
				return err
			}
			t.DefaultLifetimeInMinutes = 90
			return svc.SetTAPPolicy(ctx, a, t)
		}},
		{"ConditionalAccess", authz.ActionReadConditionalAccess, func(a latchkey.Actor) error { return errOf(svc.ConditionalAccess(ctx, a)) }},
		{"CADirectory", authz.ActionReadConditionalAccess, func(a latchkey.Actor) error { return errOf(svc.CADirectory(ctx, a)) }},
		{"Strengths", authz.ActionReadConditionalAccess, func(a latchkey.Actor) error { return errOf(svc.Strengths(ctx, a)) }},
		{"LintAll", authz.ActionReadConditionalAccess, func(a latchkey.Actor) error { return errOf(svc.LintAll(ctx, a)) }},
		{"LintDirectory", authz.ActionReadConditionalAccess, func(a latchkey.Actor) error {
			_, _, err := svc.LintDirectory(ctx, a)
			return err
		}},
		{"WhatIf", authz.ActionReadConditionalAccess, func(a latchkey.Actor) error {
			return errOf(svc.WhatIf(ctx, a, WhatIfInput{User: subject, UserAction: policy.UserActionRegisterSecurityInfo}))
		}},
		{"CreateNamedLocation", authz.ActionWriteConditionalAccess, func(a latchkey.Actor) error {
			return errOf(svc.CreateNamedLocation(ctx, a, policy.NamedLocation{Name: "Office", CIDRs: []string{"192.0.2.0/24"}}))
		}},
		{"CreateStrength", authz.ActionWriteConditionalAccess, func(a latchkey.Actor) error {
			return errOf(svc.CreateStrength(ctx, a, policy.Strength{Name: "Passkeys only", AllowedCombinations: []string{policy.CombinationPasskey}}))
		}},
		{"CreateCAPolicy", authz.ActionWriteConditionalAccess, func(a latchkey.Actor) error {
			_, _, err := svc.CreateCAPolicy(ctx, a, prmfaAllApps(policy.CAStateReportOnly), 0)
			return err
		}},
	}
}

// TestPolicyAccessRefused: the helpdesk, a reports reader, a person with no role and an
// authentication policy admin scoped to an administrative unit may neither read nor change the
// policies; each call is refused with authz's code before anything is stored.
func TestPolicyAccessRefused(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	unit := &latchkey.AdministrativeUnit{DisplayName: "Sales"}
	if err := svc.Store.CreateUnit(ctx, unit); err != nil {
		t.Fatal(err)
	}
	before, err := svc.Service.MethodsPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, role, unitID, code string
	}{
		{"helpdesk", latchkey.RoleAuthenticationAdmin, "", authz.CodeNotAllowed},
		{"reports reader", latchkey.RoleReportsReader, "", authz.CodeNotAllowed},
		{"privileged authentication admin", latchkey.RolePrivilegedAuthenticationAdmin, "", authz.CodeNotAllowed},
		{"no role", "", "", authz.CodeNotAllowed},
		{"unit-scoped policy admin", latchkey.RoleAuthenticationPolicyAdmin, unit.ID, authz.CodeOutsideUnit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := actorWith(t, svc, "refused-"+latchkey.NewID()[:8]+"@example.com", tc.role, tc.unitID)
			for _, c := range policyCalls(svc, a.UPN) {
				err := c.call(a)
				if !latchkey.IsKind(err, latchkey.EFORBIDDEN) {
					t.Errorf("%s: %v, want a refusal", c.name, err)
					continue
				}
				wantCode(t, err, tc.code)
			}
		})
	}
	// A person who is not signed in is told to sign in.
	_, err = svc.ChangeMethodsPolicy(ctx, latchkey.Actor{}, 0, func(*policy.MethodsPolicy) error { return nil })
	if !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		t.Errorf("no actor: %v, want EUNAUTHORIZED", err)
	}
	after, err := svc.Service.MethodsPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.RegistrationCampaign.SnoozesAllowed != before.RegistrationCampaign.SnoozesAllowed ||
		after.TemporaryAccessPass.DefaultLifetimeInMinutes != before.TemporaryAccessPass.DefaultLifetimeInMinutes {
		t.Errorf("a refused change was stored: %+v", after)
	}
	cfg, err := svc.Service.ConditionalAccess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.NamedLocations) != 0 || len(cfg.Strengths) != 0 || len(cfg.Policies) != 0 {
		t.Errorf("a refused change was stored: %+v", cfg)
	}
}

// TestPolicyAccessPolicyAdmin: an authentication policy admin over the whole directory reads
// and changes every policy; so does the CLI.
func TestPolicyAccessPolicyAdmin(t *testing.T) {
	for _, who := range []string{"policy admin", "cli"} {
		t.Run(who, func(t *testing.T) {
			svc, _ := newService(t)
			ctx := context.Background()
			addUser(t, svc, "subject@example.com")
			a := latchkey.CLIActor
			if who == "policy admin" {
				a = actorWith(t, svc, "policy@example.com", latchkey.RoleAuthenticationPolicyAdmin, "")
			}
			for _, c := range policyCalls(svc, "subject@example.com") {
				if err := c.call(a); err != nil {
					t.Errorf("%s (%s): %v", c.name, c.action, err)
				}
			}
			p, err := svc.Service.MethodsPolicy(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if p.RegistrationCampaign.SnoozesAllowed != 7 || p.TemporaryAccessPass.DefaultLifetimeInMinutes != 90 {
				t.Errorf("the policy admin's changes were not stored: %+v", p)
			}
			cfg, err := svc.Service.ConditionalAccess(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.NamedLocations) != 1 || len(cfg.Strengths) != 1 || len(cfg.Policies) != 1 {
				t.Errorf("the policy admin's changes were not stored: %+v", cfg)
			}
		})
	}
}
