package directory

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// wantCode fails the test unless err is a *latchkey.Error of kind and code.
func wantKindCode(t *testing.T, what string, err error, kind, code string) {
	t.Helper()
	e, ok := err.(*latchkey.Error)
	if !ok || e.Kind != kind || e.Code != code {
		t.Fatalf("%s: got %v, want %s %s", what, err, kind, code)
	}
}

// TestCreateTokenLifetimes creates tokens with the default lifetime, a given expiry and none:
// the secret is prefixed, stored only as its hash, and the record says when it expires.
func TestCreateTokenLifetimes(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	now := svc.Signin.Now()

	secret, tok, err := svc.CreateToken(ctx, latchkey.CLIActor, " deploy ", []string{latchkey.ScopeUserReadAll}, TokenExpiry{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, signin.APITokenPrefix) || len(secret) != len(signin.APITokenPrefix)+43 {
		t.Fatalf("secret %q: want lk_ and 43 base64url characters", secret)
	}
	if tok.Name != "deploy" || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(now.Add(90*24*time.Hour)) {
		t.Fatalf("default token %+v: want name deploy, expiry in 90 days", tok)
	}
	stored, err := svc.Store.FindAPITokenByHash(ctx, signin.APITokenHash(secret))
	if err != nil || stored.ID != tok.ID || strings.Contains(stored.Hash, secret) {
		t.Fatalf("stored token %+v, %v", stored, err)
	}

	_, never, err := svc.CreateToken(ctx, latchkey.CLIActor, "forever", []string{latchkey.ScopeUserReadAll}, TokenExpiry{Never: true})
	if err != nil || never.ExpiresAt != nil {
		t.Fatalf("never-expiring token %+v, %v", never, err)
	}
	at := now.Add(time.Hour)
	_, hour, err := svc.CreateToken(ctx, latchkey.CLIActor, "hour", []string{latchkey.ScopeUserReadAll}, TokenExpiry{At: at})
	if err != nil || hour.ExpiresAt == nil || !hour.ExpiresAt.Equal(at) {
		t.Fatalf("one-hour token %+v, %v", hour, err)
	}
	_, _, err = svc.CreateToken(ctx, latchkey.CLIActor, "past", []string{latchkey.ScopeUserReadAll}, TokenExpiry{At: now.Add(-time.Hour)})
	wantKindCode(t, "expiry in the past", err, latchkey.EINVALID, latchkey.CodeInvalidExpiry)

	_, _, err = svc.CreateToken(ctx, latchkey.CLIActor, "bad", []string{"Directory.ReadWrite.All"}, TokenExpiry{})
	wantKindCode(t, "unknown scope", err, latchkey.EINVALID, latchkey.CodeInvalidScope)
	if !strings.Contains(err.(*latchkey.Error).Message, latchkey.ScopeUserReadWriteAll) {
		t.Errorf("unknown scope refusal does not list the valid scopes: %v", err)
	}
	_, _, err = svc.CreateToken(ctx, latchkey.CLIActor, "none", nil, TokenExpiry{})
	wantKindCode(t, "no scope", err, latchkey.EINVALID, latchkey.CodeInvalidScope)

	tokens, err := svc.ListTokens(ctx, latchkey.CLIActor)
	if err != nil || len(tokens) != 3 {
		t.Fatalf("ListTokens = %d tokens, %v; want 3", len(tokens), err)
	}
	if err := svc.RevokeToken(ctx, latchkey.CLIActor, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Signin.TokenActor(ctx, secret); !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		t.Fatalf("revoked token authenticates: %v", err)
	}
	wantKindCode(t, "revoke unknown", svc.RevokeToken(ctx, latchkey.CLIActor, latchkey.NewID()), latchkey.ENOTFOUND, "token_not_found")
}

// TestTokensNeedAGlobalAdmin: managing tokens is a global admin's (or the CLI's); a person with
// another role, a person with none and an API token are refused with authz's codes.
func TestTokensNeedAGlobalAdmin(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	person := func(roles ...string) latchkey.Actor {
		a := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: latchkey.NewID(), UPN: "p@example.com"}
		for _, r := range roles {
			a.Roles = append(a.Roles, latchkey.RoleAssignment{Role: r})
		}
		return a
	}
	token := latchkey.Actor{Kind: latchkey.ActorToken, TokenID: "t", TokenName: "all", Scopes: latchkey.Scopes}
	for _, c := range []struct {
		name  string
		a     latchkey.Actor
		kind  string
		code  string
		allow bool
	}{
		{"global admin", person(latchkey.RoleGlobalAdmin), "", "", true},
		{"helpdesk", person(latchkey.RoleAuthenticationAdmin), latchkey.EFORBIDDEN, authz.CodeNotAllowed, false},
		{"no role", person(), latchkey.EFORBIDDEN, authz.CodeNotAllowed, false},
		{"token with every scope", token, latchkey.EFORBIDDEN, authz.CodeNotAllowed, false},
		{"nobody", latchkey.Actor{}, latchkey.EUNAUTHORIZED, authz.CodeNotSignedIn, false},
	} {
		_, tok, err := svc.CreateToken(ctx, c.a, "t-"+strings.ReplaceAll(c.name, " ", "-"), []string{latchkey.ScopeUserReadAll}, TokenExpiry{})
		if c.allow {
			if err != nil {
				t.Fatalf("%s: create: %v", c.name, err)
			}
			if tok.CreatedBy != c.a.UserID {
				t.Errorf("%s: CreatedBy %q, want %q", c.name, tok.CreatedBy, c.a.UserID)
			}
			continue
		}
		wantKindCode(t, c.name+" creating", err, c.kind, c.code)
		_, err = svc.ListTokens(ctx, c.a)
		wantKindCode(t, c.name+" listing", err, c.kind, c.code)
		wantKindCode(t, c.name+" revoking", svc.RevokeToken(ctx, c.a, latchkey.NewID()), c.kind, c.code)
	}
}
