package policyadmin

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// TestAttentionCountsAndRoles: Attention counts enabled people with no passkey, usable passes,
// report-only policies with what they would have blocked this week, lint findings and this
// week's failures; a reports reader gets the people and the log but not conditional access, and
// a person with no role gets nothing.
func TestAttentionCountsAndRoles(t *testing.T) {
	d := newCADirectory(t)
	ctx := context.Background()
	// newHire has a pass and no passkey; the leaver is disabled and not counted.
	p := prmfaAllApps(policy.CAStateReportOnly)
	p.Users.ExcludeUsers = []string{d.breakGlass.ID}
	if _, _, err := d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, p, 0); err != nil {
		t.Fatal(err)
	}
	ps, err := d.svc.ConditionalAccess(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	id := ps.Policies[0].ID
	would := []latchkey.PolicyResult{{PolicyID: id, Result: policy.ResultReportOnlyFailure}}
	now := d.svc.Now()
	for _, e := range []*latchkey.SignInEvent{
		{UPN: "a", Method: "tap", Result: latchkey.SignInSuccess, ConditionalAccess: would, CreatedAt: now.Add(-time.Hour)},
		{UPN: "b", Method: "tap", Result: latchkey.SignInFailure, CreatedAt: now.Add(-6 * 24 * time.Hour)},
		{UPN: "c", Method: "tap", Result: latchkey.SignInFailure, ConditionalAccess: would, CreatedAt: now.Add(-8 * 24 * time.Hour)},
	} {
		if err := d.svc.Store.RecordSignIn(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	lints, err := d.svc.LintAll(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	findings := 0
	for _, l := range lints {
		findings += len(l.Findings)
	}
	if findings == 0 {
		t.Fatal("the report-only policy has no lint finding (newHire cannot meet it); the test needs one")
	}

	got, err := d.svc.Attention(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PeopleShown || got.NoPasskey != 1 || got.ActivePasses != 1 {
		t.Errorf("people: shown %v, no passkey %d, passes %d; want 1 and 1", got.PeopleShown, got.NoPasskey, got.ActivePasses)
	}
	if !got.ReportOnlyShown || len(got.ReportOnly) != 1 || got.ReportOnly[0].ID != id || got.ReportOnly[0].WouldBlock != 1 {
		t.Errorf("report-only: %+v, want the policy with 1 sign-in it would have blocked this week", got.ReportOnly)
	}
	if got.LintFindings != findings {
		t.Errorf("lint findings %d, want %d", got.LintFindings, findings)
	}
	if !got.LogShown || got.Failures != 1 {
		t.Errorf("failures: shown %v, %d; want 1 this week", got.LogShown, got.Failures)
	}

	reader := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: d.alice.ID, UPN: d.alice.UserPrincipalName,
		Roles: []latchkey.RoleAssignment{{UserID: d.alice.ID, Role: latchkey.RoleReportsReader}}}
	got, err = d.svc.Attention(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PeopleShown || !got.LogShown || got.ReportOnlyShown || got.ReportOnly != nil {
		t.Errorf("reports reader sees people %v, log %v, conditional access %v %v; want people and log only",
			got.PeopleShown, got.LogShown, got.ReportOnlyShown, got.ReportOnly)
	}
	nobody := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: d.newHire.ID, UPN: d.newHire.UserPrincipalName}
	if got, err = d.svc.Attention(ctx, nobody); err != nil || got.PeopleShown || got.LogShown || got.ReportOnlyShown {
		t.Errorf("a person with no role: %+v, %v; want nothing shown", got, err)
	}
}
