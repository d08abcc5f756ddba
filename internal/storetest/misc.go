package storetest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var miscTests = []test{
	{"FindThrottle/Missing", testFindThrottleMissing},
	{"ReserveAttempt/Counts", testCountAttempt},
	{"ReserveAttempt/CountsDrain", testCountAttemptDrain},
	{"ResetThrottle", testResetThrottle},
	{"ReserveAttempt", testReserveAttempt},
	{"ReserveAttempt/Limit", testReserveAttemptLimit},
	{"ReserveAttempt/Drain", testReserveAttemptDrain},
	{"ReleaseAttempt", testReleaseAttempt},
	{"ListSignIns", testListSignIns},
	{"ListSignInsFiltered", testListSignInsFiltered},
	{"ListSignInsFiltered/Limit", testListSignInsFilteredLimit},
	{"GetSetting/NotFound", testGetSettingNotFound},
	{"UpdateSetting/Replace", testReplaceSetting},
	{"CreateSetting", testCreateSetting},
	{"MarkChallengeUsed", testMarkChallengeUsed},
	{"Ping", testPing},
}

func testFindThrottleMissing(t *testing.T, s latchkey.Store) {
	got, err := s.FindThrottle(t.Context(), "tap:user:nobody")
	must(t, "FindThrottle missing", err)
	if got.Failures != 0 || !got.LastFailureAt.IsZero() {
		t.Errorf("FindThrottle missing = %+v, want zero failures and no time", got)
	}
}

// testCountAttempt: every admitted attempt adds one to its own key, returned and found.
func testCountAttempt(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	const key = "tap:ip:192.0.2.7"
	for i := 1; i <= 3; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		got, err := countAttempt(ctx, s, key, at, 0)
		must(t, "countAttempt", err)
		want := latchkey.Throttle{Key: key, Failures: i, LastFailureAt: at}
		diff(t, "countAttempt", got, want)
		got, err = s.FindThrottle(ctx, key)
		must(t, "FindThrottle", err)
		diff(t, "FindThrottle", got, want)
	}
	// Keys count separately.
	got, err := countAttempt(ctx, s, "tap:user:alice", t0, 0)
	must(t, "countAttempt other key", err)
	diff(t, "countAttempt other key", got, latchkey.Throttle{Key: "tap:user:alice", Failures: 1, LastFailureAt: t0})
	got, err = s.FindThrottle(ctx, key)
	must(t, "FindThrottle", err)
	if got.Failures != 3 {
		t.Errorf("FindThrottle after failure on another key: Failures = %d, want 3", got.Failures)
	}
}

// testCountAttemptDrain: with a drain, one failure drains away per whole drain since the last
// failure before the new one counts; never below zero, and not for a last failure in the future.
func testCountAttemptDrain(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	const key, drain = "tap:ip:198.51.100.9", 10 * time.Minute
	at := t0
	for range 5 {
		_, err := countAttempt(ctx, s, key, at, drain)
		must(t, "countAttempt", err)
	}
	for _, step := range []struct {
		after time.Duration
		want  int
	}{
		{9 * time.Minute, 6},         // less than a drain: nothing drained
		{25 * time.Minute, 5},        // two whole drains (the remainder is not kept)
		{-time.Hour, 6},              // a last failure "in the future": nothing drained
		{2*time.Hour + time.Hour, 1}, // far more drains than failures: from zero
		{drain, 1},                   // exactly one drain
	} {
		at = at.Add(step.after)
		got, err := countAttempt(ctx, s, key, at, drain)
		must(t, "countAttempt", err)
		diff(t, fmt.Sprintf("countAttempt %v later", step.after), got, latchkey.Throttle{Key: key, Failures: step.want, LastFailureAt: at})
		// What the store kept drains as the upsert does: two drains later, two fewer.
		if n, want := got.FailuresAt(at.Add(2*drain+time.Second), drain), max(0, step.want-2); n != want {
			t.Errorf("FailuresAt(two drains later) = %d, want %d", n, want)
		}
	}
}

func testResetThrottle(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	for range 2 {
		_, err := countAttempt(ctx, s, "a", t0, 0)
		must(t, "countAttempt a", err)
	}
	_, err := countAttempt(ctx, s, "b", t0, 0)
	must(t, "countAttempt b", err)

	must(t, "ResetThrottle", s.ResetThrottle(ctx, "a"))
	got, err := s.FindThrottle(ctx, "a")
	must(t, "FindThrottle after reset", err)
	if got.Failures != 0 || !got.LastFailureAt.IsZero() {
		t.Errorf("FindThrottle after reset = %+v, want zero failures and no time", got)
	}
	must(t, "ResetThrottle missing key", s.ResetThrottle(ctx, "never"))

	got, err = s.FindThrottle(ctx, "b")
	must(t, "FindThrottle b", err)
	if got.Failures != 1 {
		t.Errorf("FindThrottle b after resetting a: Failures = %d, want 1", got.Failures)
	}
	got, err = countAttempt(ctx, s, "a", t0.Add(time.Hour), 0)
	must(t, "countAttempt after reset", err)
	diff(t, "countAttempt after reset", got, latchkey.Throttle{Key: "a", Failures: 1, LastFailureAt: t0.Add(time.Hour)})
}

// reserveStep is one ReserveAttempt call, at t0 + after, and whether it must be admitted.
type reserveStep struct {
	after time.Duration
	admit bool
}

// checkReserveSteps runs steps against key under rule: each is admitted exactly when the step
// says, and when the rule's own Admits, on the counter stored before, says; an admitted one
// counts one more at its time, a refused one changes nothing.
func checkReserveSteps(t *testing.T, s latchkey.Store, key string, rule latchkey.AttemptRule, steps []reserveStep) {
	t.Helper()
	ctx := t.Context()
	for i, st := range steps {
		at := t0.Add(st.after)
		before, err := s.FindThrottle(ctx, key)
		must(t, "FindThrottle", err)
		if ok, _ := rule.Admits(before, at); ok != st.admit {
			t.Fatalf("step %d (+%v): AttemptRule.Admits(%+v) = %v, the test wants %v", i, st.after, before, ok, st.admit)
		}
		got, ok, err := s.ReserveAttempt(ctx, key, at, rule)
		must(t, "ReserveAttempt", err)
		if ok != st.admit {
			t.Fatalf("step %d (+%v): ReserveAttempt admitted = %v, want %v (counter before %+v)", i, st.after, ok, st.admit, before)
		}
		want := before
		if ok {
			want = latchkey.Throttle{Key: key, Failures: before.FailuresAt(at, rule.Drain) + 1, LastFailureAt: at}
		}
		diff(t, fmt.Sprintf("step %d (+%v): ReserveAttempt", i, st.after), got, want)
		stored, err := s.FindThrottle(ctx, key)
		must(t, "FindThrottle", err)
		diff(t, fmt.Sprintf("step %d (+%v): stored", i, st.after), stored, want)
	}
}

// testReserveAttempt: the free attempts go ahead at once, then one per doubling wait (1 s, 2 s,
// then capped at MaxDelay) after the last counted one; a refused attempt is not counted.
func testReserveAttempt(t *testing.T, s latchkey.Store) {
	rule := latchkey.AttemptRule{Free: 3, MaxDelay: 4 * time.Second}
	const s1 = time.Second
	checkReserveSteps(t, s, "tap:name-ip:alice@example.com|192.0.2.1", rule, []reserveStep{
		{0, true}, {0, true}, {0, true}, // free
		{0, false}, {999 * time.Millisecond, false}, // wait 1 s after the last
		{s1, true},
		{s1 + 1999*time.Millisecond, false}, {3 * s1, true}, // then 2 s
		{6 * s1, false}, {7 * s1, true}, // then 4 s
		{10 * s1, false}, {11 * s1, true}, // 8 s capped at 4 s
		{-time.Hour, false}, // a time before the last counted attempt (another node's clock)
	})
	// Keys count apart.
	got, ok, err := s.ReserveAttempt(t.Context(), "tap:ip:192.0.2.1", t0, rule)
	must(t, "ReserveAttempt other key", err)
	if !ok || got.Failures != 1 {
		t.Errorf("ReserveAttempt other key = %+v, %v; want 1 failure, admitted", got, ok)
	}
}

// testReserveAttemptLimit: at the limit nothing goes ahead however long one waits, until a reset.
func testReserveAttemptLimit(t *testing.T, s latchkey.Store) {
	const key = "tap:user:alice"
	rule := latchkey.AttemptRule{Free: 2, Limit: 2}
	checkReserveSteps(t, s, key, rule, []reserveStep{{0, true}, {time.Second, true}, {2 * time.Second, false}, {24 * time.Hour, false}})
	must(t, "ResetThrottle", s.ResetThrottle(t.Context(), key))
	checkReserveSteps(t, s, key, rule, []reserveStep{{25 * time.Hour, true}})
}

// testReserveAttemptDrain: with a drain, the count is drained to the attempt's time before the
// rule is applied, as countAttempt drains it; never for a time before the last attempt.
func testReserveAttemptDrain(t *testing.T, s latchkey.Store) {
	const drain = 10 * time.Minute
	rule := latchkey.AttemptRule{Free: 2, Limit: 2, Drain: drain}
	checkReserveSteps(t, s, "tap:ip:198.51.100.9", rule, []reserveStep{
		{0, true}, {0, true},
		{9 * time.Minute, false},                                    // nothing drained yet
		{drain, true},                                               // one drained: one more goes ahead, counted at its time
		{drain + 9*time.Minute, false},                              // less than a drain since it
		{2*drain + time.Minute, true},                               // whole drains count from the last attempt
		{time.Minute, false},                                        // a time before the last attempt drains nothing
		{10 * drain, true}, {10 * drain, true}, {10 * drain, false}, // all drained: both free again
	})
}

// testReleaseAttempt: a released attempt is taken back from the count, never below zero, and
// the next attempt is judged on what is left.
func testReleaseAttempt(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	const key = "tap:ip:203.0.113.5"
	rule := latchkey.AttemptRule{Free: 2, MaxDelay: time.Hour}
	checkReserveSteps(t, s, key, rule, []reserveStep{{0, true}, {0, true}, {0, false}})
	must(t, "ReleaseAttempt", s.ReleaseAttempt(ctx, key))
	got, err := s.FindThrottle(ctx, key)
	must(t, "FindThrottle", err)
	diff(t, "after release", got, latchkey.Throttle{Key: key, Failures: 1, LastFailureAt: t0})
	checkReserveSteps(t, s, key, rule, []reserveStep{{0, true}, {0, false}})
	for range 3 {
		must(t, "ReleaseAttempt", s.ReleaseAttempt(ctx, key))
	}
	got, err = s.FindThrottle(ctx, key)
	must(t, "FindThrottle", err)
	diff(t, "after releasing more than counted", got, latchkey.Throttle{Key: key, Failures: 0, LastFailureAt: t0})
	must(t, "ReleaseAttempt on a missing key", s.ReleaseAttempt(ctx, "tap:ip:never"))
	if got, err := s.FindThrottle(ctx, "tap:ip:never"); err != nil || got.Failures != 0 {
		t.Errorf("FindThrottle after releasing a missing key = %+v, %v; want no failures", got, err)
	}
}

func newSignIn(userID string, at time.Time) *latchkey.SignInEvent {
	return &latchkey.SignInEvent{
		ID:            latchkey.NewID(),
		CreatedAt:     at,
		UserID:        userID,
		UPN:           "user@example.com",
		IP:            "198.51.100.4",
		UserAgent:     "Mozilla/5.0",
		Method:        latchkey.MethodPasskey,
		PasskeyID:     latchkey.NewID(),
		PasskeyKind:   latchkey.KindDeviceBound,
		AAGUID:        "cb69481e-8ff7-4039-93ec-0a2729a154a8",
		Result:        latchkey.SignInSuccess,
		CorrelationID: latchkey.NewID(),
		AppID:         "crm",
		Platform:      "windows", PlatformVersion: "15.0.0",
		Strength: "phishingResistantMfa",
		ACR:      "phr", AMR: []string{"mfa", "pop", "swk", "user"},
		ConditionalAccess: []latchkey.PolicyResult{
			{PolicyID: "p1", Name: "Phishing-resistant for all apps", Result: "success", Detail: "met by passkey"},
			{PolicyID: "p2", Name: "Block Linux (report-only)", Result: "reportOnlyNotApplied"},
		},
	}
}

func testListSignIns(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListSignIns(ctx, "", 10)
	must(t, "ListSignIns empty", err)
	if len(got) != 0 {
		t.Errorf("ListSignIns on an empty store returned %d events", len(got))
	}

	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	a1 := newSignIn(alice.ID, t0)
	a2 := newSignIn(alice.ID, t0.Add(2*time.Minute))
	b1 := newSignIn(bob.ID, t0.Add(time.Minute))
	// A failed attempt for an unknown user.
	x := &latchkey.SignInEvent{
		ID: latchkey.NewID(), CreatedAt: t0.Add(3 * time.Minute), UPN: "mallory@example.com", Method: latchkey.MethodTAP,
		Result: latchkey.SignInFailure, ErrorCode: "tap_invalid", Detail: "no such user", CorrelationID: latchkey.NewID(),
	}
	// Recorded out of order, with IDs in yet another order, listed newest first.
	a1.ID, a2.ID, b1.ID, x.ID = "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
		"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	for _, e := range []*latchkey.SignInEvent{a2, x, a1, b1} {
		want := *e
		must(t, "RecordSignIn", s.RecordSignIn(ctx, e))
		unchanged(t, "RecordSignIn argument", e, &want)
	}

	got, err = s.ListSignIns(ctx, "", 10)
	must(t, "ListSignIns", err)
	diff(t, "ListSignIns", got, []*latchkey.SignInEvent{x, a2, b1, a1})
	got, err = s.ListSignIns(ctx, alice.ID, 10)
	must(t, "ListSignIns alice", err)
	diff(t, "ListSignIns alice", got, []*latchkey.SignInEvent{a2, a1})
	got, err = s.ListSignIns(ctx, "", 2)
	must(t, "ListSignIns limit 2", err)
	diff(t, "ListSignIns limit 2", got, []*latchkey.SignInEvent{x, a2})
	got, err = s.ListSignIns(ctx, alice.ID, 1)
	must(t, "ListSignIns alice limit 1", err)
	diff(t, "ListSignIns alice limit 1", got, []*latchkey.SignInEvent{a2})
	got, err = s.ListSignIns(ctx, latchkey.NewID(), 10)
	must(t, "ListSignIns unknown user", err)
	if len(got) != 0 {
		t.Errorf("ListSignIns for an unknown user returned %d events", len(got))
	}
}

func testListSignInsFiltered(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListSignInsFiltered(ctx, latchkey.SignInFilter{})
	must(t, "ListSignInsFiltered empty", err)
	if len(got) != 0 {
		t.Errorf("ListSignInsFiltered on an empty store returned %d events", len(got))
	}

	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	a1 := newSignIn(alice.ID, t0)
	b1 := newSignIn(bob.ID, t0.Add(time.Minute))
	a2 := newSignIn(alice.ID, t0.Add(2*time.Minute))
	a2.Method, a2.PasskeyID, a2.PasskeyKind, a2.AAGUID = latchkey.MethodTAP, "", "", ""
	a3 := newSignIn(alice.ID, t0.Add(3*time.Minute))
	a3.Result, a3.ErrorCode, a3.Detail = latchkey.SignInFailure, "passkey_unknown", "no such passkey"
	a3.AppID = "payroll"
	x := &latchkey.SignInEvent{
		ID: latchkey.NewID(), CreatedAt: t0.Add(4 * time.Minute), UPN: "mallory@example.com", Method: latchkey.MethodTAP,
		Result: latchkey.SignInFailure, ErrorCode: "tap_invalid", Detail: "no such user", CorrelationID: latchkey.NewID(),
	}
	// The same time as a3: ordered by ID after time.
	b2 := newSignIn(bob.ID, t0.Add(3*time.Minute))
	a3.ID, b2.ID = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	for _, e := range []*latchkey.SignInEvent{a3, x, a1, b2, a2, b1} {
		must(t, "RecordSignIn", s.RecordSignIn(ctx, e))
	}

	for _, tc := range []struct {
		name string
		f    latchkey.SignInFilter
		want []*latchkey.SignInEvent
	}{
		{"none", latchkey.SignInFilter{}, []*latchkey.SignInEvent{x, b2, a3, a2, b1, a1}},
		{"user", latchkey.SignInFilter{UserID: alice.ID}, []*latchkey.SignInEvent{a3, a2, a1}},
		{"unknown user", latchkey.SignInFilter{UserID: latchkey.NewID()}, nil},
		{"result failure", latchkey.SignInFilter{Result: latchkey.SignInFailure}, []*latchkey.SignInEvent{x, a3}},
		{"result success", latchkey.SignInFilter{Result: latchkey.SignInSuccess}, []*latchkey.SignInEvent{b2, a2, b1, a1}},
		{"method tap", latchkey.SignInFilter{Method: latchkey.MethodTAP}, []*latchkey.SignInEvent{x, a2}},
		{"method passkey", latchkey.SignInFilter{Method: latchkey.MethodPasskey}, []*latchkey.SignInEvent{b2, a3, b1, a1}},
		{"error code", latchkey.SignInFilter{ErrorCode: "tap_invalid"}, []*latchkey.SignInEvent{x}},
		{"app", latchkey.SignInFilter{AppID: "payroll"}, []*latchkey.SignInEvent{a3}},
		{"since", latchkey.SignInFilter{Since: t0.Add(3 * time.Minute)}, []*latchkey.SignInEvent{x, b2, a3}},
		{"until", latchkey.SignInFilter{Until: t0.Add(2 * time.Minute)}, []*latchkey.SignInEvent{b1, a1}},
		{"since and until", latchkey.SignInFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)},
			[]*latchkey.SignInEvent{a2, b1}},
		{"since in another zone", latchkey.SignInFilter{Since: t0.Add(4 * time.Minute).UTC()}, []*latchkey.SignInEvent{x}},
		{"user and result", latchkey.SignInFilter{UserID: alice.ID, Result: latchkey.SignInFailure}, []*latchkey.SignInEvent{a3}},
		{"user and method", latchkey.SignInFilter{UserID: alice.ID, Method: latchkey.MethodTAP}, []*latchkey.SignInEvent{a2}},
		{"result and method", latchkey.SignInFilter{Result: latchkey.SignInFailure, Method: latchkey.MethodPasskey},
			[]*latchkey.SignInEvent{a3}},
		{"user and since and until", latchkey.SignInFilter{UserID: bob.ID, Since: t0, Until: t0.Add(3 * time.Minute)},
			[]*latchkey.SignInEvent{b1}},
		{"no match", latchkey.SignInFilter{UserID: bob.ID, Result: latchkey.SignInFailure}, nil},
		{"limit", latchkey.SignInFilter{Limit: 2}, []*latchkey.SignInEvent{x, b2}},
		{"user and limit", latchkey.SignInFilter{UserID: alice.ID, Limit: 2}, []*latchkey.SignInEvent{a3, a2}},
		{"negative limit", latchkey.SignInFilter{Limit: -1}, []*latchkey.SignInEvent{x, b2, a3, a2, b1, a1}},
	} {
		got, err := s.ListSignInsFiltered(ctx, tc.f)
		must(t, "ListSignInsFiltered "+tc.name, err)
		diff(t, "ListSignInsFiltered "+tc.name, got, tc.want)
	}
}

// testListSignInsFilteredLimit checks that no more than MaxSignInFilterLimit events are returned,
// whatever the limit asked for.
func testListSignInsFilteredLimit(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	total := latchkey.MaxSignInFilterLimit + 5
	for i := range total {
		must(t, "RecordSignIn", s.RecordSignIn(ctx, newSignIn("", t0.Add(time.Duration(i)*time.Second))))
	}
	for _, limit := range []int{0, -3, latchkey.MaxSignInFilterLimit + 1, 1 << 30} {
		got, err := s.ListSignInsFiltered(ctx, latchkey.SignInFilter{Limit: limit})
		must(t, "ListSignInsFiltered", err)
		if len(got) != latchkey.MaxSignInFilterLimit {
			t.Errorf("ListSignInsFiltered with limit %d returned %d events, want %d", limit, len(got), latchkey.MaxSignInFilterLimit)
			continue
		}
		if want := t0.Add(time.Duration(total-1) * time.Second).Truncate(time.Microsecond); !got[0].CreatedAt.Equal(want) {
			t.Errorf("ListSignInsFiltered with limit %d: first event at %v, want the newest", limit, got[0].CreatedAt)
		}
	}
}

func testGetSettingNotFound(t *testing.T, s latchkey.Store) {
	putSetting(t, s, "policy", []byte(`{}`))
	_, err := s.GetSetting(t.Context(), "missing")
	wantErr(t, "GetSetting missing", err, latchkey.ErrNotFound)
}

func testReplaceSetting(t *testing.T, s latchkey.Store) {
	get := func(key, want string) { t.Helper(); getSetting(t, s, key, want) }
	putSetting(t, s, "methods-policy", []byte(`{"passkey":{"enabled":true}}`))
	putSetting(t, s, "signing-keys", []byte(`[{"kid":"k1"}]`))
	get("methods-policy", `{"passkey":{"enabled":true}}`)
	get("signing-keys", `[{"kid":"k1"}]`)

	putSetting(t, s, "methods-policy", []byte(`{"passkey":{"enabled":false}}`))
	get("methods-policy", `{"passkey":{"enabled":false}}`)
	get("signing-keys", `[{"kid":"k1"}]`)
}

func testCreateSetting(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	get := func(key, want string) {
		t.Helper()
		got, err := s.GetSetting(ctx, key)
		must(t, "GetSetting "+key, err)
		if string(got) != want {
			t.Errorf("GetSetting %s = %q, want %q", key, got, want)
		}
	}
	must(t, "CreateSetting", s.CreateSetting(ctx, "cookie-key", []byte(`{"k":"first"}`)))
	get("cookie-key", `{"k":"first"}`)
	wantErr(t, "CreateSetting again", s.CreateSetting(ctx, "cookie-key", []byte(`{"k":"second"}`)), latchkey.ErrConflict)
	get("cookie-key", `{"k":"first"}`)

	// A value stored by UpdateSetting counts too.
	putSetting(t, s, "methods-policy", []byte(`{}`))
	wantErr(t, "CreateSetting over UpdateSetting", s.CreateSetting(ctx, "methods-policy", []byte(`{"x":1}`)), latchkey.ErrConflict)
	get("methods-policy", `{}`)

	// UpdateSetting still replaces a created value.
	putSetting(t, s, "cookie-key", []byte(`{"k":"third"}`))
	get("cookie-key", `{"k":"third"}`)
}

func testPing(t *testing.T, s latchkey.Store) {
	must(t, "Ping", s.Ping(t.Context()))
}

func testMarkChallengeUsed(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	now := time.Now().UTC()
	must(t, "MarkChallengeUsed", s.MarkChallengeUsed(ctx, "challenge-a", now.Add(time.Minute)))
	wantErr(t, "MarkChallengeUsed again", s.MarkChallengeUsed(ctx, "challenge-a", now.Add(time.Minute)), latchkey.ErrChallengeUsed)
	must(t, "MarkChallengeUsed other", s.MarkChallengeUsed(ctx, "challenge-b", now.Add(time.Hour)))
	n, err := s.DeleteExpiredChallenges(ctx, now.Add(2*time.Minute))
	must(t, "DeleteExpiredChallenges", err)
	if n != 1 {
		t.Errorf("DeleteExpiredChallenges removed %d, want 1 (the expired record of challenge-a)", n)
	}
	wantErr(t, "MarkChallengeUsed unexpired", s.MarkChallengeUsed(ctx, "challenge-b", now.Add(time.Hour)), latchkey.ErrChallengeUsed)
}

// countAttempt counts one attempt against key through ReserveAttempt, with a rule that admits
// every attempt and drains one per whole drain (none for 0).
func countAttempt(ctx context.Context, s latchkey.Store, key string, at time.Time, drain time.Duration) (latchkey.Throttle, error) {
	th, ok, err := s.ReserveAttempt(ctx, key, at, latchkey.AttemptRule{Free: math.MaxInt32, Drain: drain})
	if err == nil && !ok {
		err = fmt.Errorf("ReserveAttempt refused an attempt on %s that the rule admits", key)
	}
	return th, err
}
