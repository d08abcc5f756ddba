package scim

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestEntraSequence replays Microsoft Entra ID's documented provisioning requests
// (testdata/entra.json, each step naming its source) and then checks what they left in the
// directory: people made by SCIM carry source "scim", and each change is an audit event whose
// actor is the token.
func TestEntraSequence(t *testing.T) {
	h := newHarness(t)
	vars := h.replay("entra.json")
	ctx := context.Background()
	if _, err := h.store.FindUserByID(ctx, vars["user"]); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("deleted user: %v, want not found", err)
	}
	m, err := h.store.FindUserByID(ctx, vars["manager"])
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != latchkey.UserSourceSCIM || m.ExternalID != "jyoung" || m.Mail != "jyoung@Contoso.com" {
		t.Errorf("jyoung: source %q externalId %q mail %q, want scim, jyoung, jyoung@Contoso.com", m.Source, m.ExternalID, m.Mail)
	}
	events, err := h.store.ListAuditEvents(ctx, latchkey.AuditFilter{Target: vars["user"]})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, e := range events {
		actions[e.Action] = true
		if e.ActorKind != latchkey.ActorToken || e.ActorName != "token:HR provisioning" {
			t.Errorf("audit %s: actor %s %q, want the token HR provisioning", e.Action, e.ActorKind, e.ActorName)
		}
	}
	for _, want := range []string{"user.create", "user.update", "user.disable", "user.enable", "user.delete"} {
		if !actions[want] {
			t.Errorf("no %s audit event for the user; have %v", want, actions)
		}
	}
}

// TestOktaSequence replays Okta's documented provisioning requests and the SPEC test's steps
// (testdata/okta.json), then checks that the password Okta sent is nowhere in the store.
func TestOktaSequence(t *testing.T) {
	h := newHarness(t)
	vars := h.replay("okta.json")
	ctx := context.Background()
	u, err := h.store.FindUserByID(ctx, vars["user"])
	if err != nil {
		t.Fatal(err)
	}
	if u.Source != latchkey.UserSourceSCIM || !u.Enabled || u.GivenName != "Another" {
		t.Errorf("test.user: source %q enabled %v given name %q, want scim, true, Another", u.Source, u.Enabled, u.GivenName)
	}
	second, err := h.store.FindUserByID(ctx, vars["second"])
	if err != nil {
		t.Fatal(err)
	}
	if second.Enabled {
		t.Errorf("second.user is enabled after a PUT with active false")
	}
	if !h.storeHolds("00ujl29u0le5T6Aj10h7") {
		t.Fatal("the store files do not hold the externalId either: the password check below could not fail")
	}
	if h.storeHolds("1mz050nq") {
		t.Error("the password Okta sent is in the store")
	}
}
