package recovery

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// helpdeskWorld is a recovery service over a real SQLite store with a clock the test moves,
// and the people of a helpdesk: a helpdesk admin (hal), two privileged authentication admins
// (pat, pia), another helpdesk admin (hank), an admin who needs a pass (ada) and a person
// with no role (nora).
type helpdeskWorld struct {
	svc    *Service
	now    time.Time
	mu     sync.Mutex
	people map[string]*latchkey.User
}

func (w *helpdeskWorld) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
func (w *helpdeskWorld) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

func newHelpdeskWorld(t *testing.T) *helpdeskWorld {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	w := &helpdeskWorld{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), people: map[string]*latchkey.User{}}
	sig := signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sig.Now = w.clock
	dir := directory.New(sig)
	w.svc = New(dir)
	for name, role := range map[string]string{"hal": latchkey.RoleAuthenticationAdmin, "hank": latchkey.RoleAuthenticationAdmin,
		"pat": latchkey.RolePrivilegedAuthenticationAdmin, "pia": latchkey.RolePrivilegedAuthenticationAdmin,
		"ada": latchkey.RoleAuthenticationPolicyAdmin, "nora": ""} {
		u := &latchkey.User{UserPrincipalName: name + "@example.com", DisplayName: name, Enabled: true}
		if err := dir.CreateUser(ctx, latchkey.CLIActor, u); err != nil {
			t.Fatal(err)
		}
		if role != "" {
			if _, err := dir.AssignRole(ctx, latchkey.CLIActor, u.ID, role, ""); err != nil {
				t.Fatal(err)
			}
		}
		w.people[name] = u
	}
	return w
}

// actor returns name's actor, signed in with a passkey (phishing resistant) ago before now.
func (w *helpdeskWorld) actor(t *testing.T, name string, passkey bool, ago time.Duration) latchkey.Actor {
	t.Helper()
	u, err := w.svc.Store.FindUserByID(context.Background(), w.people[name].ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.svc.Signin.PersonActor(context.Background(), nil, u)
	if err != nil {
		t.Fatal(err)
	}
	a.AuthenticatedAt, a.PhishingResistant = w.clock().Add(-ago), passkey
	return a
}

func (w *helpdeskWorld) request(t *testing.T, target string) *latchkey.HelpdeskRequest {
	t.Helper()
	r, err := w.svc.RequestHelpdeskPass(context.Background(), w.actor(t, "hal", false, time.Hour), HelpdeskInput{
		UserRef: w.people[target].UserPrincipalName, Reason: "lost her phone", Ticket: "INC-42",
		IdentityCheck: latchkey.IdentityCheckVideoWithManager})
	if err != nil {
		t.Fatalf("request a pass for %s: %v", target, err)
	}
	return r
}

func wantRefusal(t *testing.T, what string, err error, code string) {
	t.Helper()
	if latchkey.ErrorCode(err) != code {
		t.Errorf("%s: %v; want %s", what, err, code)
	}
}

// TestHelpdeskRefusals: every refusal of the helpdesk path, and that a refused step changes
// nothing.
func TestHelpdeskRefusals(t *testing.T) {
	w := newHelpdeskWorld(t)
	ctx := context.Background()
	svc := w.svc

	_, err := svc.RequestHelpdeskPass(ctx, w.actor(t, "hal", false, 0), HelpdeskInput{UserRef: "nora@example.com",
		Reason: "x", Ticket: "1", IdentityCheck: latchkey.IdentityCheckCallback})
	wantRefusal(t, "request for a person with no role", err, CodeNoApprovalNeeded)
	_, err = svc.RequestHelpdeskPass(ctx, w.actor(t, "hal", false, 0), HelpdeskInput{UserRef: "ada@example.com",
		Reason: "x", Ticket: "1", IdentityCheck: latchkey.IdentityCheckOther})
	wantRefusal(t, "other without a description", err, CodeRequestInvalid)
	_, err = svc.RequestHelpdeskPass(ctx, w.actor(t, "ada", true, 0), HelpdeskInput{UserRef: "pat@example.com",
		Reason: "x", Ticket: "1", IdentityCheck: latchkey.IdentityCheckCallback})
	wantRefusal(t, "request by a policy admin", err, authz.CodeNotAllowed)

	_, err = svc.RequestHelpdeskPass(ctx, latchkey.SystemActor, HelpdeskInput{UserRef: "ada@example.com",
		Reason: "x", Ticket: "1", IdentityCheck: latchkey.IdentityCheckCallback})
	wantRefusal(t, "request by Latchkey itself", err, authz.CodeNotAllowed)
	if _, err := svc.HelpdeskRequests(ctx, latchkey.CLIActor); latchkey.ErrorCode(err) != authz.CodeNotAllowed {
		t.Errorf("list for the CLI: %v; want %s", err, authz.CodeNotAllowed)
	}

	r := w.request(t, "ada")
	wantRefusal(t, "approval by the helpdesk requester", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "hal", true, 0), r.ID), authz.CodeNotAllowed)
	// Self-approval: the requester promoted after asking still may not approve their request.
	pam := &latchkey.User{UserPrincipalName: "pam@example.com", DisplayName: "pam", Enabled: true}
	if err := svc.Dir.CreateUser(ctx, latchkey.CLIActor, pam); err != nil {
		t.Fatal(err)
	}
	w.people["pam"] = pam
	if _, err := svc.Dir.AssignRole(ctx, latchkey.CLIActor, pam.ID, latchkey.RoleAuthenticationAdmin, ""); err != nil {
		t.Fatal(err)
	}
	own, err := svc.RequestHelpdeskPass(ctx, w.actor(t, "pam", false, 0), HelpdeskInput{UserRef: "ada@example.com",
		Reason: "x", Ticket: "1", IdentityCheck: latchkey.IdentityCheckInPersonWithID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Dir.AssignRole(ctx, latchkey.CLIActor, pam.ID, latchkey.RolePrivilegedAuthenticationAdmin, ""); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "self-approval", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pam", true, 0), own.ID), authz.CodeOwnRequest)
	wantRefusal(t, "a helpdesk approver", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "hank", true, 0), r.ID), authz.CodeNotAllowed)
	wantRefusal(t, "approval by Latchkey itself", svc.ApproveHelpdeskRequest(ctx, latchkey.SystemActor, r.ID), authz.CodeNotAllowed)
	wantRefusal(t, "stale sign-in", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pat", true, 6*time.Minute), r.ID),
		authz.CodeFreshSignInRequired)
	wantRefusal(t, "pass sign-in", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pat", false, 0), r.ID),
		authz.CodeFreshSignInRequired)
	_, _, err = svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hal", false, 0), r.ID)
	wantRefusal(t, "execute before approval", err, CodeNotApproved)
	if got, _ := svc.Store.FindHelpdeskRequest(ctx, r.ID); got.State != latchkey.HelpdeskPending {
		t.Errorf("after refusals the request is %s, want pending", got.State)
	}

	// The approver who is the target: a request for pat, approved by pat.
	forPat := w.request(t, "pat")
	wantRefusal(t, "approver who is the target", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pat", true, 0), forPat.ID),
		authz.CodeNotForYourself)

	// Rejected: neither approvable nor executable.
	if err := svc.RejectHelpdeskRequest(ctx, w.actor(t, "pia", true, time.Minute), forPat.ID); err != nil {
		t.Fatalf("reject: %v", err)
	}
	wantRefusal(t, "approving a rejected one", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pia", true, 0), forPat.ID), CodeRequestDecided)
	_, _, err = svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hal", false, 0), forPat.ID)
	wantRefusal(t, "executing a rejected one", err, CodeRequestDecided)

	// Approved, then executed once, by the requester only.
	if err := svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pat", true, 4*time.Minute), r.ID); err != nil {
		t.Fatalf("approve: %v", err)
	}
	_, _, err = svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hank", false, 0), r.ID)
	wantRefusal(t, "execute by another helpdesk admin", err, CodeNotRequester)
	pass, ap, err := svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hal", false, 0), r.ID)
	if err != nil || pass == "" || ap.UserID != w.people["ada"].ID || !ap.OneTime || ap.LifetimeMinutes != signin.RecoveryMaxLifetime {
		t.Fatalf("execute = %q, %+v, %v; want a one-time recovery pass for ada", pass, ap, err)
	}
	_, _, err = svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hal", false, 0), r.ID)
	wantRefusal(t, "executing twice", err, CodeRequestDecided)
	got, _ := svc.Store.FindHelpdeskRequest(ctx, r.ID)
	if got.State != latchkey.HelpdeskExecuted || got.PassID != ap.ID || got.ApproverID != w.people["pat"].ID {
		t.Errorf("executed request = %+v; want executed with pass %s approved by pat", got, ap.ID)
	}
	if stored, err := svc.Store.FindAccessPassByUser(ctx, w.people["ada"].ID); err != nil || stored.ID != ap.ID {
		t.Errorf("ada's pass = %v, %v; want %s", stored, err, ap.ID)
	}

	// Expired: after the hour, neither approval nor execution.
	late := w.request(t, "ada")
	approvedLate := w.request(t, "pia")
	if err := svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pat", true, 0), approvedLate.ID); err != nil {
		t.Fatal(err)
	}
	w.advance(latchkey.HelpdeskRequestLifetime)
	wantRefusal(t, "approving an expired request", svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pia", true, 0), late.ID), CodeRequestExpired)
	_, _, err = svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hal", false, 0), approvedLate.ID)
	wantRefusal(t, "executing an expired request", err, CodeRequestExpired)
	if _, err := svc.Store.FindAccessPassByUser(ctx, w.people["pia"].ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("pia has a pass after an expired request: %v", err)
	}
}

// TestHelpdeskAuditAndNotice: every step is an audit event, and the execution queues the
// recovery mail naming the requester and the approver.
func TestHelpdeskAuditAndNotice(t *testing.T) {
	w := newHelpdeskWorld(t)
	ctx := context.Background()
	r := w.request(t, "ada")
	if err := w.svc.ApproveHelpdeskRequest(ctx, w.actor(t, "pat", true, 0), r.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.ExecuteHelpdeskRequest(ctx, w.actor(t, "hal", false, 0), r.ID); err != nil {
		t.Fatal(err)
	}
	rejected := w.request(t, "pat")
	if err := w.svc.RejectHelpdeskRequest(ctx, w.actor(t, "pia", true, 0), rejected.ID); err != nil {
		t.Fatal(err)
	}
	expiring := w.request(t, "pia")
	w.advance(2 * time.Hour)
	if _, err := w.svc.HelpdeskRequests(ctx, w.actor(t, "pat", true, 0)); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.svc.Store.FindHelpdeskRequest(ctx, expiring.ID); got.State != latchkey.HelpdeskExpired {
		t.Errorf("request past its hour is %s, want expired", got.State)
	}
	evs, err := w.svc.Store.ListAuditEvents(ctx, latchkey.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range evs {
		count[e.Action]++
		if e.Action == "helpdesk.execute" && e.ActorID != w.people["hal"].ID {
			t.Errorf("helpdesk.execute by %s, want hal", e.ActorName)
		}
	}
	for action, want := range map[string]int{"helpdesk.request": 3, "helpdesk.approve": 1, "helpdesk.reject": 1,
		"helpdesk.execute": 1, "helpdesk.expire": 1, "accessPass.issue": 1} {
		if count[action] != want {
			t.Errorf("%d %s events, want %d (all: %v)", count[action], action, want, count)
		}
	}
	items, err := w.svc.Store.ListMail(ctx, latchkey.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range items {
		if m.Kind == MailKindRecovery && m.SubjectID == w.people["ada"].ID {
			found = m.Params["path"] == PathHelpdesk && m.Params["by"] == "Helpdesk: hal, approved by pat"
			if !found {
				t.Errorf("recovery mail params = %v", m.Params)
			}
		}
	}
	if !found {
		t.Errorf("no recovery mail queued for ada among %d outbox items", len(items))
	}
}

// TestHelpdeskRace: two approvers approve and the requester executes twice, all at once:
// exactly one approval and one execution win, and exactly one pass results.
func TestHelpdeskRace(t *testing.T) {
	w := newHelpdeskWorld(t)
	ctx := context.Background()
	r := w.request(t, "ada")
	approvers := []latchkey.Actor{w.actor(t, "pat", true, 0), w.actor(t, "pia", true, 0)}
	hal := w.actor(t, "hal", false, 0)
	var approveErrs, executeErrs [2]error
	var passes [2]*latchkey.AccessPass
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { <-start; approveErrs[i] = w.svc.ApproveHelpdeskRequest(ctx, approvers[i], r.ID) })
		wg.Go(func() {
			<-start
			for {
				_, passes[i], executeErrs[i] = w.svc.ExecuteHelpdeskRequest(ctx, hal, r.ID)
				if latchkey.ErrorCode(executeErrs[i]) != CodeNotApproved {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	wins := func(errs [2]error, loser string) int {
		n := 0
		for _, err := range errs {
			if err == nil {
				n++
			} else if latchkey.ErrorCode(err) != loser {
				t.Errorf("loser's error %v, want %s", err, loser)
			}
		}
		return n
	}
	if n := wins(approveErrs, CodeRequestDecided); n != 1 {
		t.Errorf("%d approvals won, want 1", n)
	}
	if n := wins(executeErrs, CodeRequestDecided); n != 1 {
		t.Errorf("%d executions won, want 1", n)
	}
	stored, err := w.svc.Store.FindAccessPassByUser(ctx, w.people["ada"].ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range passes {
		if p != nil && p.ID != stored.ID {
			t.Errorf("execution %d made pass %s, but ada's pass is %s", i, p.ID, stored.ID)
		}
	}
}
