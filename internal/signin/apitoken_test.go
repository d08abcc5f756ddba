package signin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestTokenActor: a working token gives a token actor with its scopes and records its last use
// at most once a minute; a token that does not work is refused with EUNAUTHORIZED, one message
// and a detail that says why without the secret.
func TestTokenActor(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	secret := NewAPIToken()
	exp := clk.Now().Add(time.Hour)
	tok := &latchkey.APIToken{ID: latchkey.NewID(), Name: "ci", Hash: APITokenHash(secret), Scopes: []string{latchkey.ScopeUserReadAll},
		CreatedAt: clk.Now(), ExpiresAt: &exp}
	if err := svc.Store.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	lastUsed := func() *time.Time {
		t.Helper()
		got, err := svc.Store.FindAPITokenByHash(ctx, tok.Hash)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsedAt
	}

	a, err := svc.TokenActor(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != latchkey.ActorToken || a.TokenID != tok.ID || a.TokenName != "ci" || len(a.Scopes) != 1 || a.Name() != "token:ci" {
		t.Fatalf("actor %+v", a)
	}
	first := lastUsed()
	if first == nil || !first.Equal(clk.Now()) {
		t.Fatalf("last use %v, want %v", first, clk.Now())
	}
	clk.Add(30 * time.Second)
	if _, err := svc.TokenActor(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(*first) {
		t.Errorf("last use moved to %v within a minute", got)
	}
	clk.Add(31 * time.Second)
	if _, err := svc.TokenActor(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(clk.Now()) {
		t.Errorf("last use %v after a minute, want %v", got, clk.Now())
	}

	var message string
	for _, c := range []struct {
		name, bearer, detail string
		before               func()
	}{
		{"empty", "", "no bearer token", nil},
		{"not ours", "ghp_" + NewToken(), "not a Latchkey API token", nil},
		{"too long", secret + strings.Repeat("a", 200), "not a Latchkey API token", nil},
		{"unknown", NewAPIToken(), "no API token has this secret", nil},
		{"expired", secret, "expired", func() { clk.Add(time.Hour) }},
		{"revoked", secret, "revoked", func() {
			if err := svc.Store.RevokeAPIToken(ctx, tok.ID, clk.Now()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		if c.before != nil {
			c.before()
		}
		_, err := svc.TokenActor(ctx, c.bearer)
		e, ok := err.(*latchkey.Error)
		if !ok || e.Kind != latchkey.EUNAUTHORIZED || e.Code != CodeInvalidToken || !strings.Contains(e.Detail, c.detail) {
			t.Errorf("%s: %v, want EUNAUTHORIZED invalid_token saying %q", c.name, err, c.detail)
			continue
		}
		if strings.Contains(e.Detail, secret[3:]) || strings.Contains(e.Message, secret[3:]) {
			t.Errorf("%s: the refusal carries the secret: %v", c.name, e)
		}
		if message == "" {
			message = e.Message
		} else if e.Message != message {
			t.Errorf("%s: message %q differs from %q", c.name, e.Message, message)
		}
	}
}
