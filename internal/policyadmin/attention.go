package policyadmin

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// AttentionWindow is how far back the admin home page looks in the sign-in log: failures and
// what report-only policies would have blocked.
const AttentionWindow = 7 * 24 * time.Hour

// Attention is what the admin home page says needs attention. Each part is shown (its Shown flag
// set) only when the actor's roles allow the read it needs.
type Attention struct {
	// Since is the start of the sign-in log window the counts below cover.
	Since time.Time
	// PeopleShown reports whether the actor may read every user; NoPasskey then counts enabled
	// people with no passkey and ActivePasses the passes still usable.
	PeopleShown             bool
	NoPasskey, ActivePasses int
	// SecondPasskeyShown reports whether people are counted for the second-passkey reminder
	// (PeopleShown, and the reminder is on); SecondPasskey then counts those whose only passkey is
	// on one device or whose passkeys went unused for SecondPasskeyDays (policy.SecondPasskey).
	SecondPasskeyShown bool
	SecondPasskey      int
	SecondPasskeyDays  int
	// ReportOnly lists the policies in report-only, each with the sign-ins it would have blocked.
	ReportOnly []ReportOnlyImpact
	// ReportOnlyShown reports whether the actor may read conditional access; LintFindings then
	// counts the findings of every policy that is not off, as if it were enforced.
	ReportOnlyShown bool
	LintFindings    int
	// LogShown reports whether the actor may read the sign-in log; Failures then counts failed
	// sign-ins since Since.
	LogShown bool
	Failures int
}

// ReportOnlyImpact is one report-only policy and the sign-ins it would have blocked.
type ReportOnlyImpact struct {
	ID, Name string
	// WouldBlock counts sign-ins since Attention.Since with a reportOnlyFailure result for it.
	WouldBlock int
}

// Attention gathers what needs an admin's attention, each part only when authz allows a the read
// behind it: reading users for passkeys and passes, reading conditional access for report-only
// policies and lint, reading the sign-in log for failures and what report-only policies would
// block.
func (s *Service) Attention(ctx context.Context, a latchkey.Actor) (*Attention, error) {
	now := s.now()
	out := &Attention{Since: now.Add(-AttentionWindow)}
	// One aggregate query for every count; each part is shown only when the actor may see it.
	c, err := s.Store.CountAttention(ctx, now, out.Since)
	if err != nil {
		return nil, fmt.Errorf("count attention: %w", err)
	}
	if authz.Decide(a, authz.ActionReadUsers, authz.Target{Kind: authz.TargetUser}) == nil {
		out.PeopleShown, out.NoPasskey, out.ActivePasses = true, c.NoPasskey, c.UsablePasses
		if err := s.countSecondPasskey(ctx, now, out); err != nil {
			return nil, err
		}
	}
	readLog := authz.Decide(a, authz.ActionReadSignInLog, authz.Target{Kind: authz.TargetLog}) == nil
	if readLog {
		out.LogShown, out.Failures = true, c.FailedSignIns
	}
	if decide(a, authz.ActionReadConditionalAccess) == nil {
		if err := s.reportOnly(ctx, a, readLog, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reportOnly fills the report-only policies, with what they would have blocked this week when
// readLog (the actor may read the sign-in log), and the number of lint findings. The sign-ins
// are read only when some policy is in report-only.
func (s *Service) reportOnly(ctx context.Context, a latchkey.Actor, readLog bool, out *Attention) error {
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return err
	}
	out.ReportOnlyShown = true
	for _, p := range cfg.Policies {
		if p.State == policy.CAStateReportOnly {
			out.ReportOnly = append(out.ReportOnly, ReportOnlyImpact{ID: p.ID, Name: p.Name})
		}
	}
	if readLog && len(out.ReportOnly) > 0 {
		events, err := s.Store.ListSignInsFiltered(ctx, latchkey.SignInFilter{Since: out.Since})
		if err != nil {
			return fmt.Errorf("list sign-ins: %w", err)
		}
		for i := range out.ReportOnly {
			imp := &out.ReportOnly[i]
			for _, e := range events {
				for _, r := range e.ConditionalAccess {
					if r.PolicyID == imp.ID && r.Result == policy.ResultReportOnlyFailure {
						imp.WouldBlock++
					}
				}
			}
		}
	}
	lints, err := s.LintAll(ctx, a)
	if err != nil {
		return err
	}
	n := 0
	for _, l := range lints {
		n += len(l.Findings)
	}
	out.LintFindings = n
	return nil
}

// countSecondPasskey fills the second-passkey count when the methods policy's reminder is on.
func (s *Service) countSecondPasskey(ctx context.Context, now time.Time, out *Attention) error {
	pol, err := s.Service.MethodsPolicy(ctx)
	if err != nil {
		return err
	}
	sp := pol.RegistrationCampaign.SecondPasskey
	if sp.State != policy.StateEnabled {
		return nil
	}
	n, err := s.Store.CountNeedingSecondPasskey(ctx, sp.UnusedBefore(now))
	if err != nil {
		return fmt.Errorf("count people needing a second passkey: %w", err)
	}
	out.SecondPasskeyShown, out.SecondPasskey, out.SecondPasskeyDays = true, n, sp.UnusedDays
	return nil
}
