package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var countTests = []test{
	{"CountAttentionEmpty", testCountAttentionEmpty},
	{"CountAttention", testCountAttention},
	{"CountNeedingSecondPasskey", testCountNeedingSecondPasskey},
}

func testCountAttentionEmpty(t *testing.T, s latchkey.Store) {
	c, err := s.CountAttention(t.Context(), t0, t0.Add(-time.Hour))
	must(t, "CountAttention", err)
	diff(t, "counts of an empty store", c, latchkey.AttentionCounts{})
}

// testCountAttention: the people with no passkey and the usable passes count enabled users only,
// a pass is usable exactly when AccessPass.State says so (at its first microsecond, not at its
// last), and failed sign-ins count from since on, successes not.
func testCountAttention(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	now := t0.Add(24 * time.Hour)
	user := func(upn string, enabled, passkey bool) *latchkey.User {
		t.Helper()
		u := newUser(upn)
		u.Enabled = enabled
		must(t, "CreateUser "+upn, s.CreateUser(ctx, u))
		if passkey {
			mustCreatePasskey(t, s, u.ID, t0)
		}
		return u
	}
	// Passes, each on its own enabled person with a passkey, so that they change only UsablePasses.
	passes := map[string]func(p *latchkey.AccessPass){
		"usable":          func(p *latchkey.AccessPass) { p.StartAt, p.LifetimeMinutes = now.Add(-time.Hour), 120 },
		"starts now":      func(p *latchkey.AccessPass) { p.StartAt = now },
		"not yet valid":   func(p *latchkey.AccessPass) { p.StartAt = now.Add(time.Microsecond) },
		"starts later":    func(p *latchkey.AccessPass) { p.StartAt, p.LifetimeMinutes = now.Add(2*time.Hour), 120 },
		"expires now":     func(p *latchkey.AccessPass) { p.StartAt, p.LifetimeMinutes = now.Add(-time.Hour), 60 },
		"expired":         func(p *latchkey.AccessPass) { p.StartAt, p.LifetimeMinutes = now.Add(-3*time.Hour), 60 },
		"one-time used":   func(p *latchkey.AccessPass) { p.StartAt, p.UsedAt = now.Add(-time.Minute), &now },
		"multi-use, used": func(p *latchkey.AccessPass) { p.StartAt, p.OneTime, p.UsedAt = now.Add(-time.Minute), false, &now },
	}
	wantPasses := 0
	for name, set := range passes {
		u := user(name+"@example.com", true, true)
		p := newAccessPass(u.ID)
		set(p)
		must(t, "ReplaceAccessPass "+name, s.ReplaceAccessPass(ctx, p))
		if p.State(now.Truncate(time.Microsecond)) == latchkey.TAPUsable {
			wantPasses++
		}
	}
	if wantPasses != 3 {
		t.Fatalf("the fixtures have %d usable passes, want 3 (usable, starts now, multi-use used)", wantPasses)
	}
	user("nopasskey1@example.com", true, false)
	user("nopasskey2@example.com", true, false)
	user("haspasskey@example.com", true, true)
	user("disabled-nopasskey@example.com", false, false)
	off := user("disabled-pass@example.com", false, false)
	p := newAccessPass(off.ID)
	p.StartAt = now.Add(-time.Minute)
	must(t, "ReplaceAccessPass disabled", s.ReplaceAccessPass(ctx, p))

	since := now.Add(-7 * 24 * time.Hour)
	for i, at := range []time.Time{since, since.Add(time.Hour), now, since.Add(-time.Microsecond)} {
		e := newSignIn("", at)
		e.Result, e.ErrorCode = latchkey.SignInFailure, "tap_expired"
		must(t, "RecordSignIn failure", s.RecordSignIn(ctx, e))
		if i == 0 {
			must(t, "RecordSignIn success", s.RecordSignIn(ctx, newSignIn("", at)))
		}
	}

	c, err := s.CountAttention(ctx, now, since)
	must(t, "CountAttention", err)
	diff(t, "counts", c, latchkey.AttentionCounts{NoPasskey: 2, UsablePasses: wantPasses, FailedSignIns: 3})

	// Three hours on, only the pass that started later can be used, and a new person has no
	// passkey yet.
	user("newhire@example.com", true, false)
	c, err = s.CountAttention(ctx, now.Add(3*time.Hour), since)
	must(t, "CountAttention later", err)
	diff(t, "counts later", c, latchkey.AttentionCounts{NoPasskey: 3, UsablePasses: 1, FailedSignIns: 3})
}

// testCountNeedingSecondPasskey: enabled users with exactly one passkey count, and those with
// several none of which was used or created at or after the cutoff (a use exactly at the cutoff
// is recent); users with none, or turned off, do not.
func testCountNeedingSecondPasskey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	cutoff := t0.Add(90 * 24 * time.Hour)
	n, err := s.CountNeedingSecondPasskey(ctx, cutoff)
	must(t, "CountNeedingSecondPasskey empty", err)
	if n != 0 {
		t.Fatalf("empty store: %d, want 0", n)
	}
	old, atCutoff, before := t0, cutoff, cutoff.Add(-time.Microsecond)
	person := func(upn string, enabled bool, passkeys ...[2]*time.Time) {
		t.Helper()
		u := newUser(upn)
		u.Enabled = enabled
		must(t, "CreateUser "+upn, s.CreateUser(ctx, u))
		for _, pk := range passkeys {
			p := newPasskey(u.ID, *pk[0])
			p.LastUsedAt = pk[1]
			must(t, "CreatePasskey "+upn, s.CreatePasskey(ctx, p))
		}
	}
	unused := [2]*time.Time{&old, nil}
	usedBefore := [2]*time.Time{&old, &before}
	person("none@example.com", true)
	person("one@example.com", true, [2]*time.Time{&atCutoff, &atCutoff})         // counts: one device
	person("one-off@example.com", false, unused)                                 // turned off
	person("two-unused@example.com", true, unused, usedBefore)                   // counts: unused
	person("two-used@example.com", true, unused, [2]*time.Time{&old, &atCutoff}) // used at the cutoff
	person("two-new@example.com", true, unused, [2]*time.Time{&atCutoff, nil})   // created at the cutoff
	person("two-unused-off@example.com", false, unused, unused)
	n, err = s.CountNeedingSecondPasskey(ctx, cutoff)
	must(t, "CountNeedingSecondPasskey", err)
	if n != 2 {
		t.Errorf("CountNeedingSecondPasskey = %d, want 2 (one@, two-unused@)", n)
	}
}
