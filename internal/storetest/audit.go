package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/audit"
	"github.com/latchkey/latchkey/internal/latchkey"
)

var auditTests = []test{
	{"AuditEventWithItsWrite", testAuditEventWithItsWrite},
	{"AuditFailedWriteLeavesNoEvent", testAuditFailedWriteLeavesNoEvent},
	{"AuditSealAndVerify", testAuditSealAndVerify},
	{"AuditListFilters", testAuditListFilters},
	{"AuditStaleSealerFails", testAuditStaleSealerFails},
}

// testAuditStaleSealerFails: a sealer working from a stale view of the log (as a second,
// split-brain sealer would) reuses a seq and a checkpoint size; the store refuses the whole
// seal rather than forking the log, and the log still verifies.
func testAuditStaleSealerFails(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	for i := range 2 {
		u := newUser(fmt.Sprintf("u%d@example.com", i))
		must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, newAuditEvent("user.create", u.UserPrincipalName)), u))
	}
	_, err := audit.Seal(ctx, s)
	must(t, "Seal", err)
	u := newUser("late@example.com")
	must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, newAuditEvent("user.create", "late")), u))
	n, err := s.SealAudit(ctx, func(_ *latchkey.AuditCheckpoint, pending []*latchkey.AuditEvent) (*latchkey.AuditCheckpoint, error) {
		for i, e := range pending { // as if the log were empty
			seq := int64(i)
			e.Seq, e.LeafHash = &seq, audit.LeafHash(e, seq)
		}
		return &latchkey.AuditCheckpoint{Size: int64(len(pending)), Root: make([]byte, 32), Note: "stale", SealedAt: t0}, nil
	})
	if err == nil {
		t.Fatalf("a stale sealer sealed %d events: the log forked", n)
	}
	rep, err := audit.Verify(ctx, s, nil)
	must(t, "Verify", err)
	if !rep.OK || rep.Events != 2 || rep.Pending != 1 {
		t.Errorf("after the refused seal: %+v, want OK with 2 sealed and 1 pending", rep)
	}
}

func newAuditEvent(action, target string) *latchkey.AuditEvent {
	a := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "u-admin", UPN: "admin@example.com"}
	return latchkey.NewAuditEvent(context.Background(), a, action, "user", "id-"+target, target,
		map[string]any{"displayName": "Display " + target, "roles": []any{"authenticationAdmin"}})
}

func auditEvents(t *testing.T, s latchkey.Store) []*latchkey.AuditEvent {
	t.Helper()
	evs, err := s.ListAuditEvents(t.Context(), latchkey.AuditFilter{})
	must(t, "ListAuditEvents", err)
	return evs
}

func auditIDs(evs []*latchkey.AuditEvent) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// testAuditEventWithItsWrite: an event on the context is stored by the write that uses the
// context, whether the write is a transaction (CreateUser, ReplaceAccessPass) or one statement
// (CreateAPIToken, RevokeAPIToken), unsealed and with every field as given.
func testAuditEventWithItsWrite(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := newUser("ada@example.com")
	evUser := newAuditEvent("user.create", u.UserPrincipalName)
	must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, evUser), u))
	tok := newAPIToken("deploy", t0)
	evTok := newAuditEvent("token.create", "deploy")
	must(t, "CreateAPIToken", s.CreateAPIToken(latchkey.WithAuditEvent(ctx, evTok), tok))
	evRevoke := newAuditEvent("token.revoke", "deploy")
	must(t, "RevokeAPIToken", s.RevokeAPIToken(latchkey.WithAuditEvent(ctx, evRevoke), tok.ID, t0))
	evPass := newAuditEvent("accessPass.issue", u.UserPrincipalName)
	pass := &latchkey.AccessPass{ID: latchkey.NewID(), UserID: u.ID, Hash: "h", CreatedAt: t0, StartAt: t0,
		LifetimeMinutes: 60, OneTime: true}
	must(t, "ReplaceAccessPass", s.ReplaceAccessPass(latchkey.WithAuditEvent(ctx, evPass), pass))

	got := auditEvents(t, s)
	want := []*latchkey.AuditEvent{evUser, evTok, evRevoke, evPass}
	diff(t, "audit events", got, want)
	for _, e := range got {
		if e.Seq != nil || e.LeafHash != nil {
			t.Errorf("event %s was sealed at insert (seq %v): events must be inserted unsealed", e.Action, *e.Seq)
		}
	}
	// A second write with the same context does not store the event twice.
	must(t, "CreateUser again", s.CreateUser(latchkey.WithAuditEvent(ctx, evUser), newUser("bob@example.com")))
	if n := len(auditEvents(t, s)); n != len(want) {
		t.Errorf("after a second write with the same event: %d events, want %d", n, len(want))
	}
}

// testAuditFailedWriteLeavesNoEvent: a write refused by the store (conflict, not found) stores
// none of the context's events.
func testAuditFailedWriteLeavesNoEvent(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "ada@example.com")
	dup := newUser(u.UserPrincipalName)
	err := s.CreateUser(latchkey.WithAuditEvent(ctx, newAuditEvent("user.create", "dup")), dup)
	wantErr(t, "CreateUser with a taken UPN", err, latchkey.ErrConflict)
	tok := mustCreateAPIToken(t, s, "deploy", t0)
	again := newAPIToken("other", t0)
	again.ID = tok.ID
	err = s.CreateAPIToken(latchkey.WithAuditEvent(ctx, newAuditEvent("token.create", "other")), again)
	wantErr(t, "CreateAPIToken with a taken id", err, latchkey.ErrConflict)
	err = s.RevokeAPIToken(latchkey.WithAuditEvent(ctx, newAuditEvent("token.revoke", "none")), latchkey.NewID(), t0)
	wantErr(t, "RevokeAPIToken of no token", err, latchkey.ErrNotFound)
	if evs := auditEvents(t, s); len(evs) != 0 {
		t.Errorf("failed writes left %d events (%v), want none", len(evs), auditIDs(evs))
	}
}

// testAuditSealAndVerify: sealing gives the pending events seq 0, 1, ... in (time, id) order
// and a signed checkpoint; verify passes; a second seal extends the same tree.
func testAuditSealAndVerify(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	for i := range 3 {
		u := newUser(fmt.Sprintf("u%d@example.com", i))
		must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, newAuditEvent("user.create", u.UserPrincipalName)), u))
	}
	n, err := audit.Seal(ctx, s)
	must(t, "Seal", err)
	if n != 3 {
		t.Errorf("Seal sealed %d events, want 3", n)
	}
	u := newUser("late@example.com")
	must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, newAuditEvent("user.create", "late")), u))
	if n, err = audit.Seal(ctx, s); err != nil || n != 1 {
		t.Errorf("second Seal = %d, %v; want 1, nil", n, err)
	}
	evs, err := s.SealedAuditEvents(ctx)
	must(t, "SealedAuditEvents", err)
	for i, e := range evs {
		if e.Seq == nil || *e.Seq != int64(i) {
			t.Errorf("sealed event %d has seq %v", i, e.Seq)
		}
	}
	cp, err := s.LatestAuditCheckpoint(ctx)
	must(t, "LatestAuditCheckpoint", err)
	if cp.Size != 4 {
		t.Errorf("checkpoint size %d, want 4", cp.Size)
	}
	rep, err := audit.Verify(ctx, s, nil)
	must(t, "Verify", err)
	if !rep.OK || rep.Events != 4 {
		t.Errorf("Verify = %+v, want OK with 4 events", rep)
	}
}

// testAuditListFilters: actor, action, target, dates and paging select events.
func testAuditListFilters(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	var all []*latchkey.AuditEvent
	for i, action := range []string{"user.create", "group.create", "user.create"} {
		ev := newAuditEvent(action, fmt.Sprintf("t%d", i))
		ev.Time = t0.Add(time.Duration(i) * time.Minute).UTC().Truncate(time.Microsecond)
		must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, ev), newUser(fmt.Sprintf("u%d@example.com", i))))
		all = append(all, ev)
	}
	list := func(f latchkey.AuditFilter) []string {
		evs, err := s.ListAuditEvents(ctx, f)
		must(t, "ListAuditEvents", err)
		return auditIDs(evs)
	}
	diff(t, "by action", list(latchkey.AuditFilter{Action: "user.create"}), []string{all[0].ID, all[2].ID})
	diff(t, "by target name", list(latchkey.AuditFilter{Target: "t1"}), []string{all[1].ID})
	diff(t, "by actor", list(latchkey.AuditFilter{Actor: "admin@example.com"}), auditIDs(all))
	diff(t, "by other actor", list(latchkey.AuditFilter{Actor: "nobody"}), []string{})
	diff(t, "since/until", list(latchkey.AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute)}), []string{all[1].ID})
	diff(t, "page 1", list(latchkey.AuditFilter{Limit: 2}), []string{all[0].ID, all[1].ID})
	diff(t, "page 2", list(latchkey.AuditFilter{Limit: 2, After: all[1].ID}), []string{all[2].ID})
	diff(t, "newest first", list(latchkey.AuditFilter{Limit: 2, Newest: true}), []string{all[2].ID, all[1].ID})
}

// RunAuditTamperTests seals a log in newStore's store and tampers with it through exec, which
// runs one SQL statement (placeholders written ?) on the same database outside the store, as
// an attacker with the database would: verify must name each problem.
func RunAuditTamperTests(t *testing.T, newStore func(t *testing.T) (latchkey.Store, func(sql string, args ...any))) {
	// setup writes 6 events, sealed as a checkpoint of 4 and one of 6, and returns the signed
	// note of the checkpoint of 6.
	setup := func(t *testing.T) (latchkey.Store, func(string, ...any), []byte) {
		s, exec := newStore(t)
		ctx := t.Context()
		for i := range 6 {
			u := newUser(fmt.Sprintf("u%d@example.com", i))
			must(t, "CreateUser", s.CreateUser(latchkey.WithAuditEvent(ctx, newAuditEvent("user.create", u.UserPrincipalName)), u))
			if i == 3 {
				_, err := audit.Seal(ctx, s)
				must(t, "Seal", err)
			}
		}
		_, err := audit.Seal(ctx, s)
		must(t, "Seal", err)
		cp, err := s.LatestAuditCheckpoint(ctx)
		must(t, "LatestAuditCheckpoint", err)
		rep, err := audit.Verify(ctx, s, []byte(cp.Note))
		must(t, "Verify", err)
		if !rep.OK {
			t.Fatalf("Verify of an untouched log: %+v", rep)
		}
		return s, exec, []byte(cp.Note)
	}
	cases := []struct {
		name     string
		sql      []string
		external bool
		want     string // in the problem
		seq      int64  // the first bad event; -1 for none
	}{
		{"AlteredField", []string{`UPDATE audit_events SET actor_name = 'mallory@example.com' WHERE seq = 2`}, false, "altered", 2},
		{"AlteredSummary", []string{`UPDATE audit_events SET summary = '{}' WHERE seq = 4`}, false, "altered", 4},
		{"DeletedRow", []string{`DELETE FROM audit_events WHERE seq = 1`}, false, "missing", 1},
		{"SwappedSeqs", []string{
			`UPDATE audit_events SET seq = -1 WHERE seq = 1`,
			`UPDATE audit_events SET seq = 1 WHERE seq = 3`,
			`UPDATE audit_events SET seq = 3 WHERE seq = -1`}, false, "altered", 1},
		{"InsertedRow", []string{`INSERT INTO audit_events SELECT 'forged', time, actor_kind, actor_id, actor_name, action,
			target_kind, target_id, target_name, summary, correlation_id, 6, leaf_hash FROM audit_events WHERE seq = 0`}, false, "", 6},
		{"RewrittenWithItsSeal", nil, false, "rewritten", -1}, // filled below: field and leaf hash both changed
		{"TruncatedTail", []string{`DELETE FROM audit_events WHERE seq >= 4`, `DELETE FROM audit_checkpoints WHERE size > 4`}, true, "truncated", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, exec, note := setup(t)
			ctx := t.Context()
			for _, q := range c.sql {
				exec(q)
			}
			if c.name == "RewrittenWithItsSeal" { // the attacker recomputes the leaf hash too
				evs, err := s.SealedAuditEvents(ctx)
				must(t, "SealedAuditEvents", err)
				e := evs[2]
				e.ActorName = "mallory@example.com"
				exec(`UPDATE audit_events SET actor_name = ?, leaf_hash = ? WHERE seq = 2`, e.ActorName, audit.LeafHash(e, 2))
			}
			var ext []byte
			if c.external {
				ext = note
			}
			rep, err := audit.Verify(ctx, s, ext)
			must(t, "Verify", err)
			if rep.OK {
				t.Fatalf("Verify after %s passed: %+v", c.name, rep)
			}
			if !strings.Contains(rep.Problem, c.want) {
				t.Errorf("Verify problem %q does not say %q", rep.Problem, c.want)
			}
			if c.seq >= 0 && (rep.BadSeq == nil || *rep.BadSeq != c.seq) {
				t.Errorf("Verify names event %v, want %d (%s)", rep.BadSeq, c.seq, rep.Problem)
			}
			if c.external { // without the checkpoint kept elsewhere, a clean truncation passes
				if rep, err := audit.Verify(ctx, s, nil); err != nil || !rep.OK {
					t.Errorf("Verify without the external checkpoint = %+v, %v; want OK (what is left is consistent)", rep, err)
				}
			}
		})
	}
}

// testTwoNodesAuditRace: many writers on two nodes while both nodes run a sealer; after a clean
// shutdown every event is sealed exactly once in one linear, verifiable log.
func testTwoNodesAuditRace(t *testing.T, a, b latchkey.Store) {
	ctx := t.Context()
	sealCtx, stop := context.WithCancel(ctx)
	var sealers sync.WaitGroup
	for _, s := range []latchkey.Store{a, b} {
		sealers.Go(func() { (&audit.Sealer{Store: s, Interval: 5 * time.Millisecond}).Run(sealCtx) })
	}
	const writers, each = 8, 15
	var wg sync.WaitGroup
	ids := make(chan string, writers*each)
	for w := range writers {
		node := []latchkey.Store{a, b}[w%2]
		wg.Go(func() {
			for i := range each {
				upn := fmt.Sprintf("w%d-%d@example.com", w, i)
				ev := newAuditEvent("user.create", upn)
				if err := node.CreateUser(latchkey.WithAuditEvent(ctx, ev), newUser(upn)); err != nil {
					t.Errorf("CreateUser %s: %v", upn, err)
					continue
				}
				ids <- ev.ID
			}
		})
	}
	wg.Wait()
	stop()
	sealers.Wait()
	close(ids)
	written := map[string]bool{}
	for id := range ids {
		written[id] = true
	}
	sealed, err := a.SealedAuditEvents(ctx)
	must(t, "SealedAuditEvents", err)
	seen := map[string]bool{}
	for i, e := range sealed {
		if *e.Seq != int64(i) {
			t.Fatalf("sealed event %d has seq %d: the log is not one line", i, *e.Seq)
		}
		if seen[e.ID] {
			t.Errorf("event %s sealed twice", e.ID)
		}
		seen[e.ID] = true
	}
	if len(seen) != len(written) || len(written) != writers*each {
		t.Errorf("%d events sealed, %d written, want %d", len(seen), len(written), writers*each)
	}
	for _, s := range []latchkey.Store{a, b} {
		rep, err := audit.Verify(ctx, s, nil)
		must(t, "Verify", err)
		if !rep.OK || rep.Pending != 0 || rep.CheckpointSize != int64(len(written)) {
			t.Errorf("Verify = %+v, want OK, nothing pending, checkpoint of %d", rep, len(written))
		}
	}
}
