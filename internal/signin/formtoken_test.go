package signin

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestFormTokensSharedAndBound checks that a second node on the same store makes the same
// tokens (so a form shown by one node posts to another), that each binding has its own token,
// and that a token is checked whole.
func TestFormTokensSharedAndBound(t *testing.T) {
	ctx := context.Background()
	a, _ := newService(t)
	b := New(a.Store, a.WebAuthn, slog.New(slog.NewTextHandler(io.Discard, nil))) // another node
	session := SessionFormBinding(NewToken())
	ta, err := a.FormToken(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	if tb, err := b.FormToken(ctx, session); err != nil || tb != ta {
		t.Fatalf("the second node's token %q (%v), want the first node's %q", tb, err, ta)
	}
	for name, tc := range map[string]struct {
		binding, token string
		want           bool
	}{
		"own":                {session, ta, true},
		"another session":    {SessionFormBinding(NewToken()), ta, false},
		"pre-session cookie": {PreSessionFormBinding(NewToken()), ta, false},
		"truncated":          {session, ta[:len(ta)-1], false},
		"extended":           {session, ta + "A", false},
		"empty":              {session, "", false},
		"the binding itself": {session, session, false},
		"other case":         {session, strings.ToUpper(ta), ta == strings.ToUpper(ta)},
	} {
		if ok, err := b.CheckFormToken(ctx, tc.binding, tc.token); err != nil || ok != tc.want {
			t.Errorf("%s: CheckFormToken = %v (%v), want %v", name, ok, err, tc.want)
		}
	}
	// The key is not the challenge key itself.
	key, _ := a.challengeKey(ctx)
	fk, _ := a.formKey.Bytes(ctx, a.challengeKey)
	if string(key) == string(fk) {
		t.Error("form tokens use the challenge key itself")
	}
}
