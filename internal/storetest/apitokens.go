package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var apiTokenTests = []test{
	{"CreateAPIToken/RoundTrip", testAPITokenRoundTrip},
	{"CreateAPIToken/Conflict", testAPITokenConflict},
	{"FindAPITokenByHash/RevokedAndExpired", testFindAPITokenUnusable},
	{"ListAPITokens/NewestFirst", testListAPITokens},
	{"RevokeAPIToken/KeepsFirstTime", testRevokeAPIToken},
	{"TouchAPIToken/OnceAMinute", testTouchAPIToken},
}

func newAPIToken(name string, createdAt time.Time) *latchkey.APIToken {
	expires := createdAt.Add(90 * 24 * time.Hour)
	return &latchkey.APIToken{
		ID:        latchkey.NewID(),
		Name:      name,
		Hash:      latchkey.NewID(), // any unique text
		Scopes:    []string{latchkey.ScopeUserReadWriteAll, latchkey.ScopeGroupReadWriteAll},
		CreatedBy: latchkey.NewID(),
		CreatedAt: createdAt,
		ExpiresAt: &expires,
	}
}

func mustCreateAPIToken(t *testing.T, s latchkey.Store, name string, createdAt time.Time) *latchkey.APIToken {
	t.Helper()
	tok := newAPIToken(name, createdAt)
	must(t, "CreateAPIToken "+name, s.CreateAPIToken(t.Context(), tok))
	return tok
}

func findAPIToken(t *testing.T, s latchkey.Store, hash string) *latchkey.APIToken {
	t.Helper()
	got, err := s.FindAPITokenByHash(t.Context(), hash)
	must(t, "FindAPITokenByHash", err)
	return got
}

func testAPITokenRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	used, revoked := t0.Add(time.Hour), t0.Add(2*time.Hour)
	full := newAPIToken("HR sync", t0)
	full.Scopes = latchkey.Scopes
	full.LastUsedAt, full.RevokedAt = &used, &revoked
	want := *full
	must(t, "CreateAPIToken", s.CreateAPIToken(ctx, full))
	unchanged(t, "CreateAPIToken argument", full, &want)
	diff(t, "FindAPITokenByHash", findAPIToken(t, s, full.Hash), &want) // diff checks every time is UTC

	// Made on the server's CLI to never expire, never used.
	bare := &latchkey.APIToken{ID: latchkey.NewID(), Name: "cli", Hash: "sha256-of-cli", Scopes: []string{latchkey.ScopeAuditLogReadAll}, CreatedAt: t0}
	must(t, "CreateAPIToken without expiry", s.CreateAPIToken(ctx, bare))
	got := findAPIToken(t, s, bare.Hash)
	diff(t, "FindAPITokenByHash without expiry", got, bare)
	if got.ExpiresAt != nil || got.LastUsedAt != nil || got.RevokedAt != nil || got.CreatedBy != "" {
		t.Errorf("token without expiry, use or creator came back as %+v", got)
	}
	if !got.Usable(t0.Add(100 * 365 * 24 * time.Hour)) {
		t.Errorf("a token without expiry is not usable a century later")
	}
	_, err := s.FindAPITokenByHash(ctx, "no such hash")
	wantErr(t, "FindAPITokenByHash unknown", err, latchkey.ErrNotFound)
}

func testAPITokenConflict(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	first := mustCreateAPIToken(t, s, "first", t0)
	sameID := newAPIToken("same id", t0)
	sameID.ID = first.ID
	wantErr(t, "CreateAPIToken with a taken id", s.CreateAPIToken(ctx, sameID), latchkey.ErrConflict)
	sameHash := newAPIToken("same hash", t0)
	sameHash.Hash = first.Hash
	wantErr(t, "CreateAPIToken with a taken hash", s.CreateAPIToken(ctx, sameHash), latchkey.ErrConflict)
	got, err := s.ListAPITokens(ctx)
	must(t, "ListAPITokens", err)
	diff(t, "ListAPITokens after refused duplicates", got, []*latchkey.APIToken{first})
}

func testFindAPITokenUnusable(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	expired := newAPIToken("expired", t0.Add(-48*time.Hour))
	past := t0.Add(-24 * time.Hour)
	expired.ExpiresAt = &past
	must(t, "CreateAPIToken expired", s.CreateAPIToken(ctx, expired))
	revoked := mustCreateAPIToken(t, s, "revoked", t0)
	must(t, "RevokeAPIToken", s.RevokeAPIToken(ctx, revoked.ID, t0.Add(time.Minute)))

	got := findAPIToken(t, s, expired.Hash)
	diff(t, "FindAPITokenByHash expired", got, expired)
	if got.Usable(t0) {
		t.Errorf("expired token is usable")
	}
	got = findAPIToken(t, s, revoked.Hash)
	if got.RevokedAt == nil || got.Usable(t0.Add(2*time.Minute)) {
		t.Errorf("revoked token came back as %+v, usable", got)
	}
}

func testListAPITokens(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListAPITokens(ctx)
	must(t, "ListAPITokens empty", err)
	if got == nil || len(got) != 0 {
		t.Errorf("ListAPITokens on an empty store = %v, want an empty slice", got)
	}
	middle := mustCreateAPIToken(t, s, "middle", t0)
	oldest := mustCreateAPIToken(t, s, "oldest", t0.Add(-time.Hour))
	newest := mustCreateAPIToken(t, s, "newest", t0.Add(time.Microsecond))
	got, err = s.ListAPITokens(ctx)
	must(t, "ListAPITokens", err)
	diff(t, "ListAPITokens newest first", got, []*latchkey.APIToken{newest, middle, oldest})
}

func testRevokeAPIToken(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	tok := mustCreateAPIToken(t, s, "sync", t0)
	other := mustCreateAPIToken(t, s, "other", t0)
	first := t0.Add(time.Hour)
	must(t, "RevokeAPIToken", s.RevokeAPIToken(ctx, tok.ID, first))
	must(t, "RevokeAPIToken again", s.RevokeAPIToken(ctx, tok.ID, first.Add(time.Hour)))
	want := *tok
	want.RevokedAt = &first
	diff(t, "token after two revocations", findAPIToken(t, s, tok.Hash), &want)
	diff(t, "another token", findAPIToken(t, s, other.Hash), other)
	wantErr(t, "RevokeAPIToken unknown", s.RevokeAPIToken(ctx, latchkey.NewID(), first), latchkey.ErrNotFound)
}

func testTouchAPIToken(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	tok := mustCreateAPIToken(t, s, "sync", t0)
	other := mustCreateAPIToken(t, s, "other", t0)
	for _, step := range []struct {
		what string
		at   time.Time
		want time.Time // LastUsedAt after the touch
	}{
		{"first use", t0, t0},
		{"30 seconds later", t0.Add(30 * time.Second), t0},
		{"a minute later", t0.Add(time.Minute), t0},
		{"a minute and a microsecond later", t0.Add(time.Minute + time.Microsecond), t0.Add(time.Minute + time.Microsecond)},
		{"an earlier time", t0.Add(-time.Hour), t0.Add(time.Minute + time.Microsecond)},
		{"an hour later", t0.Add(time.Hour), t0.Add(time.Hour)},
	} {
		must(t, "TouchAPIToken "+step.what, s.TouchAPIToken(ctx, tok.ID, step.at))
		got := findAPIToken(t, s, tok.Hash)
		if got.LastUsedAt == nil {
			t.Fatalf("after TouchAPIToken %s: LastUsedAt is nil", step.what)
		}
		diff(t, "LastUsedAt after TouchAPIToken "+step.what, *got.LastUsedAt, step.want)
	}
	diff(t, "a token not touched", findAPIToken(t, s, other.Hash), other)
}
