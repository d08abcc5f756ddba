package storetest

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var helpdeskTests = []test{
	{"HelpdeskRequest/RoundTrip", testHelpdeskRoundTrip},
	{"UpdateHelpdeskRequest/CompareAndSet", testHelpdeskCompareAndSet},
}

var helpdeskConcurrencyTests = []test{
	{"HelpdeskRequest/ApproveAndExecute", testRaceHelpdesk},
}

func newHelpdeskRequest(targetID, requesterID string) *latchkey.HelpdeskRequest {
	return &latchkey.HelpdeskRequest{TargetID: targetID, RequesterID: requesterID, Reason: "lost phone",
		Ticket: "INC-1", IdentityCheck: latchkey.IdentityCheckOther, IdentityNote: "badge photo",
		CreatedAt: t0, ExpiresAt: t0.Add(latchkey.HelpdeskRequestLifetime), State: latchkey.HelpdeskPending}
}

func mustCreateHelpdeskRequest(t *testing.T, s latchkey.Store, targetID, requesterID string) *latchkey.HelpdeskRequest {
	t.Helper()
	r := newHelpdeskRequest(targetID, requesterID)
	must(t, "CreateHelpdeskRequest", s.CreateHelpdeskRequest(t.Context(), r))
	return r
}

func findHelpdeskRequest(t *testing.T, s latchkey.Store, id string) *latchkey.HelpdeskRequest {
	t.Helper()
	r, err := s.FindHelpdeskRequest(t.Context(), id)
	must(t, "FindHelpdeskRequest", err)
	return r
}

func testHelpdeskRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	r := newHelpdeskRequest(alice.ID, "requester")
	want := *r
	must(t, "CreateHelpdeskRequest", s.CreateHelpdeskRequest(ctx, r))
	if r.ID == "" {
		t.Fatal("CreateHelpdeskRequest assigned no ID")
	}
	want.ID = r.ID
	diff(t, "request", findHelpdeskRequest(t, s, r.ID), &want)
	older := newHelpdeskRequest(alice.ID, "requester")
	older.CreatedAt = t0.Add(-2 * time.Hour)
	must(t, "CreateHelpdeskRequest", s.CreateHelpdeskRequest(ctx, older))
	got, err := s.ListHelpdeskRequests(ctx, t0.Add(-time.Hour))
	must(t, "ListHelpdeskRequests", err)
	if len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("ListHelpdeskRequests(since an hour before) = %d requests, want only %s", len(got), r.ID)
	}
	if got, err = s.ListHelpdeskRequests(ctx, time.Time{}); err != nil || len(got) != 2 || got[0].ID != r.ID {
		t.Errorf("ListHelpdeskRequests(all) = %d requests (err %v), want 2, newest first", len(got), err)
	}
	_, err = s.FindHelpdeskRequest(ctx, "nope")
	wantErr(t, "FindHelpdeskRequest(unknown)", err, latchkey.ErrNotFound)
	wantErr(t, "CreateHelpdeskRequest(unknown user)", s.CreateHelpdeskRequest(ctx, newHelpdeskRequest("nobody", "requester")),
		latchkey.ErrNotFound)
}

func testHelpdeskCompareAndSet(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	r := mustCreateHelpdeskRequest(t, s, alice.ID, "requester")
	approved := *r
	approved.State, approved.ApproverID, approved.DecidedAt = latchkey.HelpdeskApproved, "approver", t0.Add(time.Minute)
	wantErr(t, "Update(from approved while pending)", s.UpdateHelpdeskRequest(ctx, &approved, latchkey.HelpdeskApproved, time.Time{}),
		latchkey.ErrConflict)
	wantErr(t, "Update(after expiry)", s.UpdateHelpdeskRequest(ctx, &approved, latchkey.HelpdeskPending, r.ExpiresAt),
		latchkey.ErrConflict)
	must(t, "Update(approve)", s.UpdateHelpdeskRequest(ctx, &approved, latchkey.HelpdeskPending, r.ExpiresAt.Add(-time.Microsecond)))
	diff(t, "approved request", findHelpdeskRequest(t, s, r.ID), &approved)
	rejected := approved
	rejected.State = latchkey.HelpdeskRejected
	wantErr(t, "Update(reject an approved one as pending)", s.UpdateHelpdeskRequest(ctx, &rejected, latchkey.HelpdeskPending, time.Time{}),
		latchkey.ErrConflict)
	executed := approved
	executed.State, executed.ExecutedAt, executed.PassID = latchkey.HelpdeskExecuted, t0.Add(2*time.Minute), "pass"
	must(t, "Update(execute)", s.UpdateHelpdeskRequest(ctx, &executed, latchkey.HelpdeskApproved, t0.Add(2*time.Minute)))
	diff(t, "executed request", findHelpdeskRequest(t, s, r.ID), &executed)
	wantErr(t, "Update(execute twice)", s.UpdateHelpdeskRequest(ctx, &executed, latchkey.HelpdeskApproved, time.Time{}),
		latchkey.ErrConflict)
	missing := executed
	missing.ID = "nope"
	wantErr(t, "Update(unknown)", s.UpdateHelpdeskRequest(ctx, &missing, latchkey.HelpdeskApproved, time.Time{}), latchkey.ErrNotFound)
}

// testRaceHelpdesk releases two approvers and two executors at once on one pending request: one
// approval wins, one execution wins, and exactly one pass results, recorded on the request.
func testRaceHelpdesk(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	r := mustCreateHelpdeskRequest(t, s, alice.ID, "requester")
	now := t0.Add(time.Minute)
	var approveErrs, executeErrs [2]error
	var passes [2]*latchkey.AccessPass
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			<-start
			a := *r
			a.State, a.ApproverID, a.DecidedAt = latchkey.HelpdeskApproved, []string{"carol", "dave"}[i], now
			approveErrs[i] = s.UpdateHelpdeskRequest(ctx, &a, latchkey.HelpdeskPending, now)
		})
		wg.Go(func() {
			<-start
			// An executor that arrives before the approval waits for it, as a person would.
			var cur *latchkey.HelpdeskRequest
			for cur == nil || cur.State == latchkey.HelpdeskPending {
				runtime.Gosched()
				if cur, executeErrs[i] = s.FindHelpdeskRequest(ctx, r.ID); executeErrs[i] != nil {
					return
				}
			}
			claim := *cur
			claim.State, claim.ExecutedAt = latchkey.HelpdeskExecuted, now
			if executeErrs[i] = s.UpdateHelpdeskRequest(ctx, &claim, latchkey.HelpdeskApproved, now); executeErrs[i] != nil {
				return
			}
			p := newAccessPass(alice.ID)
			if executeErrs[i] = s.ReplaceAccessPass(ctx, p); executeErrs[i] != nil {
				return
			}
			passes[i] = p
			done := claim
			done.PassID = p.ID
			executeErrs[i] = s.UpdateHelpdeskRequest(ctx, &done, latchkey.HelpdeskExecuted, time.Time{})
		})
	}
	close(start)
	wg.Wait()
	approver := checkOneWinner(t, "approve", approveErrs[:], latchkey.ErrConflict)
	executor := checkOneWinner(t, "execute", executeErrs[:], latchkey.ErrConflict)
	if approver < 0 || executor < 0 {
		return
	}
	got := findHelpdeskRequest(t, s, r.ID)
	if got.State != latchkey.HelpdeskExecuted || got.ApproverID != []string{"carol", "dave"}[approver] {
		t.Errorf("request after race: state %s approver %q, want executed by the winning approver", got.State, got.ApproverID)
	}
	made := 0
	for _, p := range passes {
		if p != nil {
			made++
		}
	}
	pass := findAccessPass(t, s, alice.ID)
	if made != 1 || pass.ID != passes[executor].ID || got.PassID != pass.ID {
		t.Errorf("passes made %d (want 1); stored pass %s, request's pass %q, winner's %s", made, pass.ID, got.PassID, passes[executor].ID)
	}
}
