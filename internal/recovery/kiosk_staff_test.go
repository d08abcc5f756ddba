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
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

type rig struct {
	svc *Service
	now time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	sig := signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sig.Now = func() time.Time { return r.now }
	r.svc = New(directory.New(sig))
	return r
}

func (r *rig) user(t *testing.T, upn, managerID string, roles ...string) *latchkey.User {
	t.Helper()
	u := &latchkey.User{UserPrincipalName: upn, DisplayName: upn, Enabled: true, ManagerID: managerID, Roles: roles}
	if err := r.svc.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (r *rig) passkey(t *testing.T, u *latchkey.User, synced bool) *latchkey.Passkey {
	t.Helper()
	pk := &latchkey.Passkey{UserID: u.ID, CredentialID: []byte(latchkey.NewID()), PublicKey: []byte("k"), BackupEligible: synced,
		BackupState: synced, Kind: "deviceBound", Nickname: "laptop", AttestationTrust: latchkey.AttestationNone}
	if err := r.svc.Store.CreatePasskey(context.Background(), pk); err != nil {
		t.Fatal(err)
	}
	return pk
}

func actor(u *latchkey.User, at time.Time) latchkey.Actor {
	return latchkey.Actor{Kind: latchkey.ActorPerson, UserID: u.ID, UPN: u.UserPrincipalName, Roles: nil, AuthenticatedAt: at, PhishingResistant: true}
}

func (r *rig) setPolicy(t *testing.T, change func(*policy.MethodsPolicy)) {
	t.Helper()
	if _, err := policyadmin.New(r.svc.Signin).ChangeMethodsPolicy(context.Background(), latchkey.SystemActor, 0, func(p *policy.MethodsPolicy) error {
		change(p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func wantPlainRefusal(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want %q", err, got, code)
	}
	if e, ok := err.(*latchkey.Error); !ok || e.Message == "" || e.Detail == "" {
		t.Fatalf("refusal %v lacks a sentence or a detail", err)
	}
}

// events returns the audit events of action on targetID.
func (r *rig) events(t *testing.T, action, targetID string) []*latchkey.AuditEvent {
	t.Helper()
	evs, err := r.svc.Store.ListAuditEvents(context.Background(), latchkey.AuditFilter{Action: action, Target: targetID})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestKioskIssuesAfterDeviceBoundSignIn: a recent sign-in with a device-bound passkey gets a
// one-time recovery pass of the kiosk's lifetime, an audit event saying "claimed", and the
// recovery mail queued with it.
func TestKioskIssuesAfterDeviceBoundSignIn(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.user(t, "ada@example.com", "")
	pk := r.passkey(t, u, false)
	r.setPolicy(t, func(p *policy.MethodsPolicy) { p.TemporaryAccessPass.Kiosk.LifetimeInMinutes = 10 })
	sess := &latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: pk.ID, AuthenticatedAt: r.now.Add(-4 * time.Minute)}
	o, err := r.svc.Kiosk(ctx, actor(u, sess.AuthenticatedAt), sess)
	if err != nil || o.Refusal != nil || o.LifetimeMinutes != 10 {
		t.Fatalf("Kiosk = %+v, %v; want offered for 10 minutes", o, err)
	}
	pass, ap, err := r.svc.IssueKioskPass(ctx, actor(u, sess.AuthenticatedAt), sess)
	if err != nil || pass == "" || !ap.OneTime || ap.LifetimeMinutes != 10 {
		t.Fatalf("IssueKioskPass = %q, %+v, %v", pass, ap, err)
	}
	evs := r.events(t, AuditKiosk, u.ID)
	if len(evs) != 1 || evs[0].Summary["deviceBound"] != "claimed" || evs[0].ActorID != u.ID {
		t.Fatalf("audit events %+v; want one kiosk event by the person, deviceBound claimed", evs)
	}
	items, err := r.svc.Store.ListMail(ctx, latchkey.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range items {
		if it.Kind == MailKindRecovery && it.SubjectID == u.ID && it.Params["path"] == PathKiosk {
			found = true
		}
	}
	if !found {
		t.Fatalf("no recovery mail queued for %s among %d items", u.ID, len(items))
	}
}

// TestKioskBurstIsLimited: twenty requests from one laptop at once read the same count of
// earlier passes; still only KioskPerHour passes are issued and the rest are refused with
// kiosk_throttled.
func TestKioskBurstIsLimited(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.user(t, "ada@example.com", "")
	bound := r.passkey(t, u, false)
	recent := r.now.Add(-time.Minute)
	sess := &latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: bound.ID, AuthenticatedAt: recent}
	errs := make(chan error, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, _, err := r.svc.IssueKioskPass(ctx, actor(u, recent), sess)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	issued := 0
	for err := range errs {
		switch {
		case err == nil:
			issued++
		case latchkey.ErrorCode(err) != CodeKioskThrottled:
			t.Errorf("unexpected refusal: %v", err)
		}
	}
	if issued != KioskPerHour {
		t.Errorf("%d kiosk passes issued by a burst of 20; want %d", issued, KioskPerHour)
	}
	if n := len(r.events(t, AuditKiosk, u.ID)); n != KioskPerHour {
		t.Errorf("%d kiosk audit events; want %d", n, KioskPerHour)
	}
}

// TestKioskRefusals: a synced passkey, an old sign-in, a pass or password sign-in, an
// unattested passkey when attestation is enforced, someone else's session, and a fourth pass
// in an hour are each refused with their code.
func TestKioskRefusals(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.user(t, "ada@example.com", "")
	other := r.user(t, "bob@example.com", "")
	bound, synced := r.passkey(t, u, false), r.passkey(t, u, true)
	recent := r.now.Add(-time.Minute)
	refused := func(sess *latchkey.Session, code string) {
		t.Helper()
		_, _, err := r.svc.IssueKioskPass(ctx, actor(u, sess.AuthenticatedAt), sess)
		wantPlainRefusal(t, err, code)
	}
	refused(&latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: synced.ID, AuthenticatedAt: recent}, CodeKioskSynced)
	refused(&latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: bound.ID, AuthenticatedAt: r.now.Add(-6 * time.Minute)}, CodeKioskTooOld)
	refused(&latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodTAP}, AccessPassID: "x", AuthenticatedAt: recent}, CodeKioskNotPasskey)
	refused(&latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodPassword}, AuthenticatedAt: recent}, CodeKioskNotPasskey)
	// Someone else's session is not the actor's.
	sess := &latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: bound.ID, AuthenticatedAt: recent}
	if _, _, err := r.svc.IssueKioskPass(ctx, actor(other, recent), sess); latchkey.ErrorKind(err) != latchkey.EFORBIDDEN {
		t.Fatalf("another person's kiosk = %v; want forbidden", err)
	}
	if _, _, err := r.svc.IssueKioskPass(ctx, latchkey.SystemActor, sess); latchkey.ErrorKind(err) != latchkey.EFORBIDDEN {
		t.Fatalf("the kiosk for Latchkey itself = %v; want forbidden", err)
	}
	if len(r.events(t, AuditKiosk, u.ID)) != 0 {
		t.Fatal("a refused kiosk left an audit event")
	}
	// Three passes an hour, then throttled.
	for range KioskPerHour {
		if _, _, err := r.svc.IssueKioskPass(ctx, actor(u, recent), sess); err != nil {
			t.Fatal(err)
		}
	}
	refused(sess, CodeKioskThrottled)
	// Attestation enforced by every profile: a claimed device-bound passkey is not enough.
	r.setPolicy(t, func(p *policy.MethodsPolicy) {
		for i := range p.Passkey.Profiles {
			p.Passkey.Profiles[i].AttestationEnforcement = policy.AttestationEnforcementRegistrationOnly
		}
	})
	v := r.user(t, "vera@example.com", "")
	vpk := r.passkey(t, v, false)
	vs := &latchkey.Session{UserID: v.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: vpk.ID, AuthenticatedAt: recent}
	if _, _, err := r.svc.IssueKioskPass(ctx, actor(v, recent), vs); latchkey.ErrorCode(err) != CodeKioskNotAttest {
		t.Fatalf("unattested under enforcement = %v; want %s", err, CodeKioskNotAttest)
	}
}

// TestStaffIssuesToReport: a manager allowed by the policy sees their reports (and who has a
// passkey) and issues a report a recovery pass, audited and notified.
func TestStaffIssuesToReport(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := r.user(t, "grace@example.com", "")
	rep := r.user(t, "alan@example.com", m.ID)
	r.passkey(t, rep, false)
	r.user(t, "nobody@example.com", "")
	r.setPolicy(t, func(p *policy.MethodsPolicy) {
		p.TemporaryAccessPass.MyStaff = policy.MyStaff{State: policy.StateEnabled, LifetimeInMinutes: 12}
	})
	st, err := r.svc.MyStaff(ctx, actor(m, r.now))
	if err != nil || st.Refusal != nil || len(st.Reports) != 1 || st.Reports[0].User.ID != rep.ID || !st.Reports[0].HasPasskey {
		t.Fatalf("MyStaff = %+v, %v; want alan with a passkey", st, err)
	}
	pass, ap, err := r.svc.IssueStaffPass(ctx, actor(m, r.now), rep.ID)
	if err != nil || pass == "" || ap.LifetimeMinutes != 12 || !ap.OneTime {
		t.Fatalf("IssueStaffPass = %q, %+v, %v", pass, ap, err)
	}
	evs := r.events(t, AuditStaff, rep.ID)
	if len(evs) != 1 || evs[0].ActorID != m.ID {
		t.Fatalf("audit events %+v; want one by the manager", evs)
	}
	items, err := r.svc.Store.ListMail(ctx, latchkey.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var by string
	for _, it := range items {
		if it.Kind == MailKindRecovery && it.SubjectID == rep.ID {
			by = it.Params["by"]
		}
	}
	if by != "grace@example.com (your manager)" {
		t.Fatalf("recovery mail by %q", by)
	}
}

// TestStaffRefusals: a report with a role, the policy off, a manager outside the allowed
// groups, and someone who is not the manager are refused.
func TestStaffRefusals(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := r.user(t, "grace@example.com", "")
	rep := r.user(t, "alan@example.com", m.ID)
	admin := r.user(t, "root@example.com", m.ID, latchkey.RoleAuthenticationAdmin)
	stranger := r.user(t, "eve@example.com", "")
	// Off by default.
	_, _, err := r.svc.IssueStaffPass(ctx, actor(m, r.now), rep.ID)
	wantPlainRefusal(t, err, CodeStaffOff)
	r.setPolicy(t, func(p *policy.MethodsPolicy) { p.TemporaryAccessPass.MyStaff.State = policy.StateEnabled })
	_, _, err = r.svc.IssueStaffPass(ctx, actor(m, r.now), admin.ID)
	wantPlainRefusal(t, err, authz.CodePrivilegedTarget)
	_, _, err = r.svc.IssueStaffPass(ctx, actor(stranger, r.now), rep.ID)
	wantPlainRefusal(t, err, authz.CodeNotAllowed)
	// Only managers in a group.
	g := &latchkey.Group{DisplayName: "Team leads"}
	if err := r.svc.Store.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	r.setPolicy(t, func(p *policy.MethodsPolicy) { p.TemporaryAccessPass.MyStaff.IncludeGroups = []string{g.ID} })
	_, _, err = r.svc.IssueStaffPass(ctx, actor(m, r.now), rep.ID)
	wantPlainRefusal(t, err, CodeStaffOff)
	if err := r.svc.Store.AddGroupMember(ctx, g.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.svc.IssueStaffPass(ctx, actor(m, r.now), rep.ID); err != nil {
		t.Fatalf("manager in the group: %v", err)
	}
	if n := len(r.events(t, AuditStaff, rep.ID)); n != 1 {
		t.Fatalf("%d My Staff audit events; want 1 (refusals leave none)", n)
	}
}
