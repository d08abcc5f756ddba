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
