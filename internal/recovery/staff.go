package recovery

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// AuditStaff is the audit action of a pass a manager issued on My Staff.
const AuditStaff = "recovery.manager"

// CodeStaffOff is the refusal when the methods policy does not let this manager issue passes.
const CodeStaffOff = "my_staff_off"

// Report is one of a manager's direct reports as My Staff shows them.
type Report struct {
	User *latchkey.User
	// HasPasskey reports whether they have at least one passkey.
	HasPasskey bool
	// Privileged reports whether they hold a role (a manager cannot issue them a pass).
	Privileged bool
}

// Staff is what My Staff shows a manager.
type Staff struct {
	Reports []Report
	// Refusal is why the manager cannot issue passes (nil when they can).
	Refusal *latchkey.Error
	// LifetimeMinutes is how long a pass they issue works.
	LifetimeMinutes int
}

// MyStaff returns the direct reports of the person a (people whose ManagerID is theirs), and
// whether the methods policy lets a issue them passes.
func (s *Service) MyStaff(ctx context.Context, a latchkey.Actor) (*Staff, error) {
	if a.Kind != latchkey.ActorPerson || a.UserID == "" {
		return nil, authz.Decide(a, authz.ActionIssueStaffTAP, authz.Target{Kind: authz.TargetUser, ID: "-"})
	}
	reports, err := s.reportsOf(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	st := &Staff{}
	if st.Refusal, st.LifetimeMinutes, err = s.staffPolicy(ctx, a.UserID); err != nil {
		return nil, err
	}
	for _, u := range reports {
		pks, err := s.Store.ListPasskeysByUser(ctx, u.ID)
		if err != nil {
			return nil, fmt.Errorf("list passkeys: %w", err)
		}
		st.Reports = append(st.Reports, Report{User: u, HasPasskey: len(pks) > 0, Privileged: slices.ContainsFunc(u.Roles, func(r string) bool { return r != "" })})
	}
	return st, nil
}

// HasReports reports whether userID manages anyone.
func (s *Service) HasReports(ctx context.Context, userID string) (bool, error) {
	r, err := s.reportsOf(ctx, userID)
	return len(r) > 0, err
}

// reportsOf returns the people whose manager is userID, by UPN.
func (s *Service) reportsOf(ctx context.Context, userID string) ([]*latchkey.User, error) {
	reports, err := s.Store.ListDirectReports(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list direct reports: %w", err)
	}
	return reports, nil
}

// staffPolicy returns why the methods policy does not let managerID issue passes on My Staff
// (nil when it does) and the passes' lifetime.
func (s *Service) staffPolicy(ctx context.Context, managerID string) (*latchkey.Error, int, error) {
	m, err := s.Store.FindUserByID(ctx, managerID)
	if err != nil {
		return nil, 0, fmt.Errorf("find manager: %w", err)
	}
	mp, pu, err := s.Signin.PolicyFor(ctx, m)
	if err != nil {
		return nil, 0, fmt.Errorf("read methods policy: %w", err)
	}
	ms := mp.TemporaryAccessPass.MyStaff
	switch {
	case mp.TemporaryAccessPass.State != policy.StateEnabled || !ms.Enabled():
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeStaffOff, "Your organisation does not let managers issue passes. Send your team member to IT.",
			"My Staff is off in the methods policy (temporaryAccessPass %s, myStaff %q)", mp.TemporaryAccessPass.State, ms.State), ms.Lifetime(), nil
	case !ms.AllowsManager(pu.GroupIDs):
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeStaffOff, "Your organisation lets only some managers issue passes, and you are not one of them. Send your team member to IT.",
			"manager %s is in none of My Staff's groups %v", m.UserPrincipalName, ms.IncludeGroups), ms.Lifetime(), nil
	}
	return nil, ms.Lifetime(), nil
}

// IssueStaffPass issues the direct report reportID a recovery pass from their manager a, when
// authz allows it (ActionIssueStaffTAP: a is their manager, and they hold no role) and the
// methods policy lets a use My Staff. It records the audit event and queues the recovery mail
// (PathManager) in the pass's transaction.
func (s *Service) IssueStaffPass(ctx context.Context, a latchkey.Actor, reportID string) (string, *latchkey.AccessPass, error) {
	u, err := s.Store.FindUserByID(ctx, reportID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		// The same refusal as for someone who is not a report: no probing for ids.
		return "", nil, authz.Decide(a, authz.ActionIssueStaffTAP, authz.Target{Kind: authz.TargetUser, ID: reportID})
	} else if err != nil {
		return "", nil, fmt.Errorf("find user: %w", err)
	}
	if err := authz.Decide(a, authz.ActionIssueStaffTAP, authz.UserTarget(u, nil)); err != nil {
		return "", nil, err
	}
	refusal, lifetime, err := s.staffPolicy(ctx, a.UserID)
	if err != nil {
		return "", nil, err
	}
	if refusal != nil {
		return "", nil, refusal
	}
	manager, err := s.Store.FindUserByID(ctx, a.UserID)
	if err != nil {
		return "", nil, fmt.Errorf("find manager: %w", err)
	}
	name := manager.DisplayName
	if name == "" {
		name = manager.UserPrincipalName
	}
	ctx = latchkey.Audit(ctx, a, AuditStaff, "user", u.ID, u.UserPrincipalName, map[string]any{
		"path": PathManager, "lifetimeInMinutes": lifetime})
	ctx = Notify(ctx, Notice{UserID: u.ID, Path: PathManager, By: name + " (your manager)", At: s.now()})
	// A manager holds no ActionIssueTAP: authz decided above (ActionIssueStaffTAP), so
	// Latchkey issues the pass.
	return s.Dir.IssueAccessPass(ctx, latchkey.SystemActor, u.ID, signin.IssueOptions{Recovery: true, OneTime: true, LifetimeMinutes: lifetime})
}
