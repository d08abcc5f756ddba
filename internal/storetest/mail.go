package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var mailTests = []test{
	{"MailQueuedWithItsWrite", testMailQueuedWithItsWrite},
	{"MailFailedWriteQueuesNothing", testMailFailedWriteQueuesNothing},
	{"MailSameContextTwice", testMailSameContextTwice},
	{"MailKeyReplacement", testMailKeyReplacement},
	{"MailCancel", testMailCancel},
	{"MailClaim", testMailClaim},
	{"MailExpiredClaim", testMailExpiredClaim},
	{"MailMarks", testMailMarks},
	{"MailListAndCount", testMailListAndCount},
}

var mailConcurrencyTests = []test{
	{"ClaimMail", func(t *testing.T, s latchkey.Store) { raceClaimMail(t, s, s) }},
}

func newMailItem(kind, key string, notBefore time.Time) latchkey.MailItem {
	return latchkey.MailItem{Kind: kind, Key: key, SubjectID: "subject-" + key, NotBefore: notBefore,
		Params: map[string]string{"to": "manager", "note": "ünïcode"}}
}

func listMail(t *testing.T, s latchkey.Store, f latchkey.MailFilter) []*latchkey.MailItem {
	t.Helper()
	items, err := s.ListMail(t.Context(), f)
	must(t, "ListMail", err)
	return items
}

// testMailQueuedWithItsWrite: an item on the context is stored by the next write, in a
// transaction-wide write (CreateUser) and a single-statement one (CreateAPIToken) alike, with
// and without audit events beside it, and reads back as it was queued.
func testMailQueuedWithItsWrite(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	before := time.Now()
	item := newMailItem("onboarding", "onboarding:u1", t0.Add(time.Hour))
	qctx := latchkey.QueueMail(ctx, item)
	must(t, "CreateUser", s.CreateUser(qctx, newUser("a@example.com")))
	items := listMail(t, s, latchkey.MailFilter{})
	if len(items) != 1 {
		t.Fatalf("after a write carrying one mail: %d items", len(items))
	}
	got := items[0]
	checkAssigned(t, "queued mail", got.ID, got.CreatedAt, before, time.Now())
	checkUTC(t, "listed mail", items)
	want := &latchkey.MailItem{ID: got.ID, Kind: "onboarding", Key: "onboarding:u1", SubjectID: "subject-onboarding:u1",
		Params: item.Params, NotBefore: t0.Add(time.Hour), State: latchkey.MailPending, CreatedAt: got.CreatedAt}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Errorf("stored mail (-want +got):\n%s", d)
	}

	actx := latchkey.WithAuditEvent(latchkey.QueueMail(ctx, newMailItem("notice", "", t0)), newAuditEvent("token.create", "t"))
	must(t, "CreateAPIToken", s.CreateAPIToken(actx, newAPIToken("t", t0)))
	if n := len(listMail(t, s, latchkey.MailFilter{Kind: "notice"})); n != 1 {
		t.Errorf("after a single-statement write carrying mail and an event: %d notice items, want 1", n)
	}
	if n := len(auditEvents(t, s)); n != 1 {
		t.Errorf("the event beside the mail: %d events, want 1", n)
	}
	must(t, "CreateAPIToken with only mail", s.CreateAPIToken(latchkey.QueueMail(ctx, newMailItem("alone", "", t0)), newAPIToken("u", t0)))
	if n := len(listMail(t, s, latchkey.MailFilter{Kind: "alone"})); n != 1 {
		t.Errorf("after a single-statement write carrying only mail: %d items, want 1", n)
	}
}

// testMailFailedWriteQueuesNothing: a write that fails, or changes nothing, leaves no item.
func testMailFailedWriteQueuesNothing(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := newUser("a@example.com")
	must(t, "CreateUser", s.CreateUser(ctx, u))
	dup := newUser("a@example.com")
	wantErr(t, "CreateUser duplicate", s.CreateUser(latchkey.QueueMail(ctx, newMailItem("onboarding", "k", t0)), dup), latchkey.ErrConflict)
	wantErr(t, "RevokeAPIToken unknown", s.RevokeAPIToken(latchkey.QueueMail(ctx, newMailItem("onboarding", "k", t0)), latchkey.NewID(), t0),
		latchkey.ErrNotFound)
	if items := listMail(t, s, latchkey.MailFilter{}); len(items) != 0 {
		t.Errorf("failed writes queued %d items", len(items))
	}
}

// testMailSameContextTwice: a context used for two writes stores its item once.
func testMailSameContextTwice(t *testing.T, s latchkey.Store) {
	ctx := latchkey.QueueMail(t.Context(), newMailItem("onboarding", "", t0))
	must(t, "CreateUser", s.CreateUser(ctx, newUser("a@example.com")))
	must(t, "CreateUser", s.CreateUser(ctx, newUser("b@example.com")))
	if items := listMail(t, s, latchkey.MailFilter{}); len(items) != 1 {
		t.Errorf("one item on a context used twice: %d items", len(items))
	}
}

// testMailKeyReplacement: queuing a Key that has a pending item replaces its NotBefore,
// SubjectID and Params; once that item is sent, the same Key queues a new one.
func testMailKeyReplacement(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	must(t, "EnqueueMail", s.EnqueueMail(ctx, newMailItem("onboarding", "k", t0)))
	first := listMail(t, s, latchkey.MailFilter{})[0]
	again := latchkey.MailItem{Kind: "onboarding", Key: "k", SubjectID: "someone else", NotBefore: t0.Add(48 * time.Hour),
		Params: map[string]string{"to": "personal"}}
	must(t, "EnqueueMail again", s.EnqueueMail(ctx, again))
	items := listMail(t, s, latchkey.MailFilter{})
	if len(items) != 1 {
		t.Fatalf("the same Key twice: %d items, want 1", len(items))
	}
	got := items[0]
	if got.ID != first.ID || got.SubjectID != "someone else" || !sameTime(got.NotBefore, t0.Add(48*time.Hour)) ||
		!cmp.Equal(got.Params, again.Params) {
		t.Errorf("replaced item = %+v, want id %s with the new subject, time and params", got, first.ID)
	}
	// Sent: the Key is free again.
	claimed, err := s.ClaimMail(ctx, t0.Add(72*time.Hour), "h", time.Minute, 10)
	must(t, "ClaimMail", err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d items, want 1", len(claimed))
	}
	must(t, "MarkMailSent", s.MarkMailSent(ctx, got.ID, "h", t0.Add(72*time.Hour)))
	must(t, "EnqueueMail after sent", s.EnqueueMail(ctx, newMailItem("onboarding", "k", t0)))
	if n := len(listMail(t, s, latchkey.MailFilter{State: latchkey.MailPending})); n != 1 {
		t.Errorf("after the sent item, the same Key: %d pending, want 1", n)
	}
	if n := len(listMail(t, s, latchkey.MailFilter{})); n != 2 {
		t.Errorf("after the sent item, the same Key: %d items, want 2", n)
	}
}

// testMailCancel: CancelMail on a write's context cancels the pending item of its Key and no
// other; in order with a QueueMail on the same context.
func testMailCancel(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	must(t, "EnqueueMail", s.EnqueueMail(ctx, newMailItem("onboarding", "a", t0), newMailItem("onboarding", "b", t0)))
	must(t, "CreateUser", s.CreateUser(latchkey.CancelMail(ctx, "a"), newUser("x@example.com")))
	states := map[string]string{}
	for _, m := range listMail(t, s, latchkey.MailFilter{}) {
		states[m.Key] = m.State
	}
	if states["a"] != latchkey.MailCancelled || states["b"] != latchkey.MailPending {
		t.Errorf("states after cancelling a: %v", states)
	}
	// Cancel then queue on one context: the new item is pending.
	cctx := latchkey.QueueMail(latchkey.CancelMail(ctx, "b"), newMailItem("onboarding", "b", t0.Add(time.Hour)))
	must(t, "CreateUser", s.CreateUser(cctx, newUser("y@example.com")))
	pending := listMail(t, s, latchkey.MailFilter{State: latchkey.MailPending})
	if len(pending) != 1 || pending[0].Key != "b" || !sameTime(pending[0].NotBefore, t0.Add(time.Hour)) {
		t.Errorf("cancel then queue b: pending = %v", mailIDs(pending))
	}
	if n := len(listMail(t, s, latchkey.MailFilter{State: latchkey.MailCancelled})); n != 2 {
		t.Errorf("cancelled items: %d, want 2", n)
	}
	// Cancelling a key with nothing pending is no error and changes nothing.
	must(t, "EnqueueMail with cancel", s.EnqueueMail(latchkey.CancelMail(ctx, "none")))
}

// testMailClaim: only pending items due at now and not claimed are claimed, oldest first, at
// most limit; another holder does not get a live claim.
func testMailClaim(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	var ids []string
	for i := range 4 {
		m := newMailItem("onboarding", fmt.Sprint("k", i), t0)
		m.ID, m.CreatedAt = fmt.Sprint("m", i), t0.Add(time.Duration(i)*time.Second)
		must(t, "EnqueueMail", s.EnqueueMail(ctx, m))
		ids = append(ids, m.ID)
	}
	later := newMailItem("onboarding", "later", t0.Add(time.Hour))
	must(t, "EnqueueMail later", s.EnqueueMail(ctx, later))

	got, err := s.ClaimMail(ctx, t0, "a", time.Minute, 3)
	must(t, "ClaimMail", err)
	if g := mailIDs(got); !cmp.Equal(g, ids[:3]) {
		t.Errorf("first claim = %v, want the three oldest %v", g, ids[:3])
	}
	got, err = s.ClaimMail(ctx, t0, "b", time.Minute, 10)
	must(t, "ClaimMail b", err)
	if g := mailIDs(got); !cmp.Equal(g, ids[3:]) {
		t.Errorf("second holder's claim = %v, want only %v (the rest is claimed or not due)", g, ids[3:])
	}
	got, err = s.ClaimMail(ctx, t0.Add(30*time.Second), "c", time.Minute, 10)
	must(t, "ClaimMail c", err)
	if len(got) != 0 {
		t.Errorf("with every due item under a live claim: claimed %v", mailIDs(got))
	}
	got, err = s.ClaimMail(ctx, t0.Add(time.Hour), "c", time.Minute, 10)
	must(t, "ClaimMail at the later time", err)
	if len(got) != 5 {
		t.Errorf("an hour later, with every claim expired: claimed %d, want 5", len(got))
	}
}

// testMailExpiredClaim: a claim whose lease has run out is claimable again, and the first
// holder can then no longer mark the item.
func testMailExpiredClaim(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	must(t, "EnqueueMail", s.EnqueueMail(ctx, newMailItem("onboarding", "k", t0)))
	a, err := s.ClaimMail(ctx, t0, "a", time.Minute, 1)
	must(t, "ClaimMail a", err)
	if len(a) != 1 {
		t.Fatalf("claimed %d, want 1", len(a))
	}
	b, err := s.ClaimMail(ctx, t0.Add(time.Minute), "b", time.Minute, 1)
	must(t, "ClaimMail b at expiry", err)
	if len(b) != 1 || b[0].ID != a[0].ID {
		t.Fatalf("the expired claim: b claimed %v, want %s", mailIDs(b), a[0].ID)
	}
	wantErr(t, "MarkMailSent by the old holder", s.MarkMailSent(ctx, a[0].ID, "a", t0), latchkey.ErrConflict)
	must(t, "MarkMailSent by b", s.MarkMailSent(ctx, b[0].ID, "b", t0.Add(time.Minute)))
	checkUTC(t, "claimed mail", b)
	got := listMail(t, s, latchkey.MailFilter{})[0]
	checkUTC(t, "sent mail", got)
	if got.State != latchkey.MailSent || got.SentAt == nil || !sameTime(*got.SentAt, t0.Add(time.Minute)) {
		t.Errorf("after b sent it: %+v", got)
	}
}

// testMailMarks: failures count attempts, keep the sentence and move NotBefore; giving up
// fails the item; a cancelled or sent item cannot be marked again; an unknown id is not found.
func testMailMarks(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	must(t, "EnqueueMail", s.EnqueueMail(ctx, newMailItem("onboarding", "k", t0), newMailItem("onboarding", "c", t0)))
	claimed, err := s.ClaimMail(ctx, t0, "h", 48*time.Hour, 10) // c stays claimed throughout
	must(t, "ClaimMail", err)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d, want 2", len(claimed))
	}
	byKey := map[string]*latchkey.MailItem{}
	for _, m := range claimed {
		byKey[m.Key] = m
	}
	id := byKey["k"].ID
	wantErr(t, "MarkMailFailed by another holder", s.MarkMailFailed(ctx, id, "other", "x", t0, false), latchkey.ErrConflict)
	wantErr(t, "MarkMailSent unknown", s.MarkMailSent(ctx, "no-such-id", "h", t0), latchkey.ErrNotFound)
	must(t, "MarkMailFailed", s.MarkMailFailed(ctx, id, "h", "The mail server did not answer.", t0.Add(time.Minute), false))
	got := listMail(t, s, latchkey.MailFilter{State: latchkey.MailPending, Kind: "onboarding", SubjectID: "subject-k"})
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "The mail server did not answer." ||
		!sameTime(got[0].NotBefore, t0.Add(time.Minute)) {
		t.Fatalf("after one failure: %d items, first %+v", len(got), got)
	}
	if again, _ := s.ClaimMail(ctx, t0.Add(59*time.Second), "h", time.Minute, 10); len(again) != 0 {
		t.Errorf("before the retry time: claimed %v", mailIDs(again))
	}
	again, err := s.ClaimMail(ctx, t0.Add(time.Minute), "h", time.Minute, 10)
	must(t, "ClaimMail at the retry time", err)
	if len(again) != 1 || again[0].ID != id {
		t.Fatalf("at the retry time: claimed %v, want %s", mailIDs(again), id)
	}
	must(t, "MarkMailFailed giving up", s.MarkMailFailed(ctx, id, "h", "Refused.", t0.Add(time.Hour), true))
	failed := listMail(t, s, latchkey.MailFilter{State: latchkey.MailFailed})
	if len(failed) != 1 || failed[0].Attempts != 2 || failed[0].LastError != "Refused." {
		t.Errorf("after giving up: %+v", failed)
	}
	if more, _ := s.ClaimMail(ctx, t0.Add(24*time.Hour), "h", time.Minute, 10); len(more) != 0 {
		t.Errorf("a failed item was claimed again: %v", mailIDs(more))
	}
	wantErr(t, "MarkMailSent on a failed item", s.MarkMailSent(ctx, id, "h", t0), latchkey.ErrConflict)

	must(t, "MarkMailCancelled", s.MarkMailCancelled(ctx, byKey["c"].ID, "h"))
	if c := listMail(t, s, latchkey.MailFilter{State: latchkey.MailCancelled}); len(c) != 1 || c[0].ID != byKey["c"].ID {
		t.Errorf("cancelled: %v", mailIDs(c))
	}
	wantErr(t, "MarkMailCancelled twice", s.MarkMailCancelled(ctx, byKey["c"].ID, "h"), latchkey.ErrConflict)
}

// testMailListAndCount: ListMail filters and orders newest first; CountMail counts by state.
func testMailListAndCount(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	for i, kind := range []string{"onboarding", "recovery", "onboarding"} {
		m := newMailItem(kind, fmt.Sprint("k", i), t0)
		m.ID, m.CreatedAt = fmt.Sprint("m", i), t0.Add(time.Duration(i)*time.Second)
		must(t, "EnqueueMail", s.EnqueueMail(ctx, m))
	}
	if g := mailIDs(listMail(t, s, latchkey.MailFilter{})); !cmp.Equal(g, []string{"m2", "m1", "m0"}) {
		t.Errorf("ListMail = %v, want newest first", g)
	}
	if g := mailIDs(listMail(t, s, latchkey.MailFilter{Kind: "onboarding", Limit: 1})); !cmp.Equal(g, []string{"m2"}) {
		t.Errorf("ListMail onboarding limit 1 = %v", g)
	}
	if g := mailIDs(listMail(t, s, latchkey.MailFilter{SubjectID: "subject-k1", State: latchkey.MailPending})); !cmp.Equal(g, []string{"m1"}) {
		t.Errorf("ListMail by subject = %v", g)
	}
	claimed, err := s.ClaimMail(ctx, t0, "h", time.Minute, 1)
	must(t, "ClaimMail", err)
	must(t, "MarkMailSent", s.MarkMailSent(ctx, claimed[0].ID, "h", t0))
	counts, err := s.CountMail(ctx)
	must(t, "CountMail", err)
	if want := map[string]int{latchkey.MailPending: 2, latchkey.MailSent: 1}; !cmp.Equal(counts, want) {
		t.Errorf("CountMail = %v, want %v", counts, want)
	}
}

// sameTime compares times as the stores keep them: microseconds, any zone.
func sameTime(a, b time.Time) bool {
	return a.UTC().Truncate(time.Microsecond).Equal(b.UTC().Truncate(time.Microsecond))
}

func mailIDs(items []*latchkey.MailItem) []string {
	ids := []string{}
	for _, m := range items {
		ids = append(ids, m.ID)
	}
	return ids
}

// raceClaimMail: two holders (on a and b, which may be one store or two nodes) claim at once,
// many times over; no item is ever claimed by both, and every item is claimed.
func raceClaimMail(t *testing.T, a, b latchkey.Store) {
	ctx := t.Context()
	const items = 60
	var all []latchkey.MailItem
	for i := range items {
		all = append(all, newMailItem("onboarding", fmt.Sprint("k", i), t0))
	}
	must(t, "EnqueueMail", a.EnqueueMail(ctx, all...))
	var mu sync.Mutex
	owner := map[string]string{}
	errs := race(func(i int) error {
		s, holder := a, "a"
		if i%2 == 1 {
			s, holder = b, "b"
		}
		got, err := s.ClaimMail(context.WithoutCancel(ctx), t0, holder, time.Hour, 5)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			if prev, ok := owner[m.ID]; ok {
				return fmt.Errorf("item %s claimed by %s and again by %s", m.ID, prev, holder)
			}
			owner[m.ID] = holder
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("claimer %d: %v", i, err)
		}
	}
	if len(owner) != min(items, racers*5) {
		t.Errorf("claimed %d distinct items, want %d", len(owner), min(items, racers*5))
	}
}
