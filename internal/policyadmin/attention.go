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
	if authz.Decide(a, authz.ActionReadUsers, authz.Target{Kind: authz.TargetUser}) == nil {
		if err := s.countPeople(ctx, now, out); err != nil {
			return nil, err
		}
	}
	var events []*latchkey.SignInEvent
	readLog := authz.Decide(a, authz.ActionReadSignInLog, authz.Target{Kind: authz.TargetLog}) == nil
	if readLog {
		var err error
		events, err = s.Store.ListSignInsFiltered(ctx, latchkey.SignInFilter{Since: out.Since})
		if err != nil {
			return nil, fmt.Errorf("list sign-ins: %w", err)
		}
		n := 0
		for _, e := range events {
			if e.Result == latchkey.SignInFailure {
				n++
			}
		}
		out.LogShown, out.Failures = true, n
	}
	if decide(a, authz.ActionReadConditionalAccess) == nil {
		if err := s.reportOnly(ctx, a, events, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countPeople counts the enabled people with no passkey and the passes still usable at now.
func (s *Service) countPeople(ctx context.Context, now time.Time, out *Attention) error {
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	none, passes := 0, 0
	for _, u := range users {
		if !u.Enabled {
			continue
		}
		pks, err := s.Store.ListPasskeysByUser(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("list passkeys: %w", err)
		}
		if len(pks) == 0 {
			none++
		}
		p, err := s.Store.FindAccessPassByUser(ctx, u.ID)
		switch {
		case err == nil && p.State(now) == latchkey.TAPUsable:
			passes++
		case err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND):
			return fmt.Errorf("find access pass: %w", err)
		}
	}
	out.PeopleShown, out.NoPasskey, out.ActivePasses = true, none, passes
	return nil
}

// reportOnly fills the report-only policies, with what they would have blocked among events,
// and the number of lint findings.
func (s *Service) reportOnly(ctx context.Context, a latchkey.Actor, events []*latchkey.SignInEvent, out *Attention) error {
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return err
	}
	out.ReportOnlyShown = true
	for _, p := range cfg.Policies {
		if p.State != policy.CAStateReportOnly {
			continue
		}
		imp := ReportOnlyImpact{ID: p.ID, Name: p.Name}
		for _, e := range events {
			for _, r := range e.ConditionalAccess {
				if r.PolicyID == p.ID && r.Result == policy.ResultReportOnlyFailure {
					imp.WouldBlock++
				}
			}
		}
		out.ReportOnly = append(out.ReportOnly, imp)
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
