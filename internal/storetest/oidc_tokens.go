package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Refresh tokens, signing keys, expiry and the OIDC races.

func newRefreshToken(clientID, userID string, expiresAt time.Time) *latchkey.RefreshToken {
	return &latchkey.RefreshToken{
		ID:        "rt-" + latchkey.NewID(),
		GrantID:   "grant-" + latchkey.NewID(),
		ClientID:  clientID,
		UserID:    userID,
		Scopes:    []string{"openid", "profile", "offline_access"},
		AMR:       []string{"hwk", "user"},
		ACR:       "urn:latchkey:acr:phishing-resistant",
		AuthTime:  t0.Add(-time.Minute),
		CreatedAt: t0,
		ExpiresAt: expiresAt,
	}
}

// mustCreateRefreshToken stores a refresh token as a grant's first, the one way the store takes
// one: an authorization request for the client, completed by the user, whose code is redeemed
// with the token.
func mustCreateRefreshToken(t *testing.T, s latchkey.Store, clientID, userID string, expiresAt time.Time) *latchkey.RefreshToken {
	t.Helper()
	tok := newRefreshToken(clientID, userID, expiresAt)
	must(t, "RedeemAuthCode", redeemWithToken(t, s, tok))
	return tok
}

// redeemWithToken redeems the code of a new request for tok's client, completed by tok's user,
// storing tok as its grant's first refresh token. The request expires a day after t0, so that
// the record of its spent code outlives what the tests expire.
func redeemWithToken(t *testing.T, s latchkey.Store, tok *latchkey.RefreshToken) error {
	t.Helper()
	ctx := t.Context()
	clientID := tok.ClientID
	if _, err := s.FindClient(ctx, clientID); errors.Is(err, latchkey.ErrNotFound) {
		clientID = mustCreateClient(t, s, "Client of "+tok.ID).ID // the request needs one
	}
	r := mustCreateAuthRequest(t, s, clientID, t0.Add(24*time.Hour))
	must(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, r.ID, "session-"+r.ID, tok.UserID, t0, []string{"hwk"}, ""))
	code := "code-" + latchkey.NewID()
	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, r.ID, code))
	_, err := s.RedeemAuthCode(ctx, code, tok.GrantID, tok, t0)
	return err
}

func findRefreshToken(t *testing.T, s latchkey.Store, id string) *latchkey.RefreshToken {
	t.Helper()
	tok, err := s.FindRefreshToken(t.Context(), id, t0)
	must(t, "FindRefreshToken", err)
	return tok
}

// testRedeemAuthCodeRefreshToken: the refresh token stored with a redeemed code keeps every
// field, empty lists come back empty, not nil, and a token for an unknown client or a taken id
// is refused.
func testRedeemAuthCodeRefreshToken(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	tok := newRefreshToken(c.ID, u.ID, t0.Add(30*24*time.Hour))
	want := *tok
	must(t, "RedeemAuthCode", redeemWithToken(t, s, tok))
	unchanged(t, "RedeemAuthCode refresh argument", tok, &want)
	diff(t, "FindRefreshToken", findRefreshToken(t, s, tok.ID), &want)

	bare := &latchkey.RefreshToken{ID: latchkey.NewID(), GrantID: latchkey.NewID(), ClientID: c.ID, UserID: u.ID, AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	must(t, "RedeemAuthCode bare", redeemWithToken(t, s, bare))
	got := findRefreshToken(t, s, bare.ID)
	diff(t, "FindRefreshToken bare", got, bare)
	nonNilLists(t, "FindRefreshToken bare", map[string][]string{"Scopes": got.Scopes, "AMR": got.AMR})

	dup := newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
	dup.ID = tok.ID
	wantErr(t, "RedeemAuthCode taken id", redeemWithToken(t, s, dup), latchkey.ErrConflict)
	diff(t, "token after refused redeem", findRefreshToken(t, s, tok.ID), &want)
	wantErr(t, "RedeemAuthCode unknown client", redeemWithToken(t, s, newRefreshToken(latchkey.NewID(), u.ID, t0.Add(time.Hour))), latchkey.ErrNotFound)
	_, err := s.FindRefreshToken(ctx, latchkey.NewID(), t0)
	wantErr(t, "FindRefreshToken unknown", err, latchkey.ErrNotFound)
}

func testFindRefreshTokenExpired(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	exp := t0.Add(time.Hour)
	tok := mustCreateRefreshToken(t, s, c.ID, u.ID, exp)
	_, err := s.FindRefreshToken(ctx, tok.ID, exp.Add(-time.Microsecond))
	must(t, "FindRefreshToken a microsecond before expiry", err)
	_, err = s.FindRefreshToken(ctx, tok.ID, exp)
	wantErr(t, "FindRefreshToken at expiry", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, tok.ID, exp.Add(24*time.Hour))
	wantErr(t, "FindRefreshToken a day after expiry", err, latchkey.ErrNotFound)
}

func testRotateRefreshToken(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	old := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	other := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))

	// The new token keeps nothing of the old one but what the caller puts in it.
	next := &latchkey.RefreshToken{ID: "rt-" + latchkey.NewID(), ClientID: c.ID, UserID: u.ID, Scopes: []string{"openid"},
		AMR: []string{"swk"}, ACR: "urn:latchkey:acr:mfa", AuthTime: t0.Add(time.Second), CreatedAt: t0.Add(time.Minute),
		ExpiresAt: t0.Add(2 * time.Hour)}
	wantNext := *next
	got, err := s.RotateRefreshToken(ctx, old.ID, next, t0.Add(time.Minute))
	must(t, "RotateRefreshToken", err)
	diff(t, "RotateRefreshToken returns the old token", got, old)
	unchanged(t, "RotateRefreshToken argument", next, &wantNext)
	_, err = s.FindRefreshToken(ctx, old.ID, t0)
	wantErr(t, "FindRefreshToken rotated", err, latchkey.ErrNotFound)
	diff(t, "new token", findRefreshToken(t, s, next.ID), &wantNext)
	diff(t, "other token kept", findRefreshToken(t, s, other.ID), other)

	// Rotating the new one in turn.
	third := newRefreshToken(c.ID, u.ID, t0.Add(3*time.Hour))
	_, err = s.RotateRefreshToken(ctx, next.ID, third, t0.Add(2*time.Minute))
	must(t, "RotateRefreshToken new", err)
	diff(t, "third token", findRefreshToken(t, s, third.ID), third)
}

func testRotateRefreshTokenRefused(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	old := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	next := newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
	_, err := s.RotateRefreshToken(ctx, old.ID, next, t0)
	must(t, "RotateRefreshToken", err)

	// A used token rotates no more, and nothing is stored.
	replay := newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
	_, err = s.RotateRefreshToken(ctx, old.ID, replay, t0)
	wantErr(t, "RotateRefreshToken used token", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, replay.ID, t0)
	wantErr(t, "token of a refused rotation", err, latchkey.ErrNotFound)

	unknown := newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
	_, err = s.RotateRefreshToken(ctx, latchkey.NewID(), unknown, t0)
	wantErr(t, "RotateRefreshToken unknown token", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, unknown.ID, t0)
	wantErr(t, "token of a rotation of an unknown token", err, latchkey.ErrNotFound)

	// An expired token rotates no more, and nothing is stored.
	expired := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	late := newRefreshToken(c.ID, u.ID, t0.Add(3*time.Hour))
	_, err = s.RotateRefreshToken(ctx, expired.ID, late, t0.Add(time.Hour))
	wantErr(t, "RotateRefreshToken expired token", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, late.ID, t0)
	wantErr(t, "token of a rotation of an expired token", err, latchkey.ErrNotFound)

	// A new token that cannot be stored leaves the old one in place.
	live := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	clash := newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
	clash.ID = next.ID
	_, err = s.RotateRefreshToken(ctx, live.ID, clash, t0)
	wantErr(t, "RotateRefreshToken to a taken id", err, latchkey.ErrConflict)
	diff(t, "old token after a refused rotation", findRefreshToken(t, s, live.ID), live)
	diff(t, "token whose id was taken", findRefreshToken(t, s, next.ID), next)
	orphan := newRefreshToken(c.ID, latchkey.NewID(), t0.Add(2*time.Hour))
	_, err = s.RotateRefreshToken(ctx, live.ID, orphan, t0)
	wantErr(t, "RotateRefreshToken to an unknown user", err, latchkey.ErrNotFound)
	diff(t, "old token after a rotation to an unknown user", findRefreshToken(t, s, live.ID), live)
}

func testDeleteRefreshTokens(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	wiki, chat := mustCreateClient(t, s, "Wiki"), mustCreateClient(t, s, "Chat")
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	a1 := mustCreateRefreshToken(t, s, wiki.ID, alice.ID, t0.Add(time.Hour))
	a2 := mustCreateRefreshToken(t, s, wiki.ID, alice.ID, t0.Add(time.Hour))
	a3 := mustCreateRefreshToken(t, s, chat.ID, alice.ID, t0.Add(time.Hour))
	b1 := mustCreateRefreshToken(t, s, wiki.ID, bob.ID, t0.Add(time.Hour))

	n, err := s.DeleteRefreshTokens(ctx, alice.ID, wiki.ID)
	must(t, "DeleteRefreshTokens one client", err)
	if n != 2 {
		t.Errorf("DeleteRefreshTokens one client = %d, want 2", n)
	}
	for _, tok := range []*latchkey.RefreshToken{a1, a2} {
		_, err := s.FindRefreshToken(ctx, tok.ID, t0)
		wantErr(t, "FindRefreshToken deleted", err, latchkey.ErrNotFound)
	}
	diff(t, "token for another client kept", findRefreshToken(t, s, a3.ID), a3)

	n, err = s.DeleteRefreshTokens(ctx, alice.ID, "")
	must(t, "DeleteRefreshTokens all clients", err)
	if n != 1 {
		t.Errorf("DeleteRefreshTokens all clients = %d, want 1", n)
	}
	_, err = s.FindRefreshToken(ctx, a3.ID, t0)
	wantErr(t, "FindRefreshToken deleted for all clients", err, latchkey.ErrNotFound)

	n, err = s.DeleteRefreshTokens(ctx, alice.ID, "")
	must(t, "DeleteRefreshTokens again", err)
	if n != 0 {
		t.Errorf("DeleteRefreshTokens again = %d, want 0", n)
	}
	diff(t, "other user's token kept", findRefreshToken(t, s, b1.ID), b1)
}

func newSigningKey(createdAt time.Time) *latchkey.SigningKey {
	return &latchkey.SigningKey{ID: latchkey.NewID(), Algorithm: "ES256", PrivateKey: randomBytes(138), CreatedAt: createdAt}
}

func listSigningKeys(t *testing.T, s latchkey.Store) []*latchkey.SigningKey {
	t.Helper()
	keys, err := s.ListSigningKeys(t.Context())
	must(t, "ListSigningKeys", err)
	return keys
}

func testCreateSigningKey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	if keys := listSigningKeys(t, s); len(keys) != 0 {
		t.Errorf("ListSigningKeys empty = %d keys, want 0", len(keys))
	}
	oldest := newSigningKey(t0.Add(-48 * time.Hour))
	oldest.Algorithm = "RS256"
	oldest.PrivateKey = randomBytes(1218)
	retired := t0.Add(-24 * time.Hour)
	oldest.RetiredAt = &retired
	newest := newSigningKey(t0)
	middle := newSigningKey(t0.Add(-24 * time.Hour))
	for _, k := range []*latchkey.SigningKey{oldest, newest, middle} {
		want := *k
		must(t, "CreateSigningKey", s.CreateSigningKey(ctx, k))
		unchanged(t, "CreateSigningKey argument", k, &want)
	}
	diff(t, "ListSigningKeys", listSigningKeys(t, s), []*latchkey.SigningKey{newest, middle, oldest})

	dup := newSigningKey(t0)
	dup.ID = newest.ID
	wantErr(t, "CreateSigningKey taken id", s.CreateSigningKey(ctx, dup), latchkey.ErrConflict)
	diff(t, "ListSigningKeys after refused create", listSigningKeys(t, s), []*latchkey.SigningKey{newest, middle, oldest})
}

func testRetireSigningKey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	a, b := newSigningKey(t0.Add(-time.Hour)), newSigningKey(t0)
	must(t, "CreateSigningKey a", s.CreateSigningKey(ctx, a))
	must(t, "CreateSigningKey b", s.CreateSigningKey(ctx, b))

	at := t0.Add(time.Minute)
	must(t, "RetireSigningKey", s.RetireSigningKey(ctx, a.ID, at))
	wantA := *a
	wantA.RetiredAt = &at
	diff(t, "ListSigningKeys after retiring", listSigningKeys(t, s), []*latchkey.SigningKey{b, &wantA})

	// A retired key keeps its first retirement time.
	wantErr(t, "RetireSigningKey again", s.RetireSigningKey(ctx, a.ID, at.Add(time.Hour)), latchkey.ErrNotFound)
	wantErr(t, "RetireSigningKey unknown", s.RetireSigningKey(ctx, latchkey.NewID(), at), latchkey.ErrNotFound)
	diff(t, "ListSigningKeys after refused retirements", listSigningKeys(t, s), []*latchkey.SigningKey{b, &wantA})
}

func testDeleteExpiredOIDC(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	mustCreateAuthRequest(t, s, c.ID, t0.Add(-time.Hour))
	withCode := mustCreateAuthRequest(t, s, c.ID, t0) // expires exactly now
	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, withCode.ID, "code-expired"))
	liveReq := mustCreateAuthRequest(t, s, c.ID, t0.Add(time.Millisecond))
	mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(-24*time.Hour))
	mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(-time.Microsecond))
	mustCreateRefreshToken(t, s, c.ID, u.ID, t0)
	liveTok := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	key := newSigningKey(t0.Add(-365 * 24 * time.Hour))
	must(t, "CreateSigningKey", s.CreateSigningKey(ctx, key))
	// A spent token whose record ends now, one whose record lives on; a revoked-grant record that
	// ends now and one that lives on (the revocations delete the tokens the rotations stored).
	before := t0.Add(-time.Minute)
	spentOld, spentLive := mustCreateRefreshToken(t, s, c.ID, u.ID, t0), mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	for _, old := range []*latchkey.RefreshToken{spentOld, spentLive} {
		next := newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
		next.GrantID = old.GrantID
		_, err := s.RotateRefreshToken(ctx, old.ID, next, before)
		must(t, "RotateRefreshToken", err)
	}
	_, err := s.RevokeSpentGrant(ctx, spentLive.ID, before, t0)
	must(t, "RevokeSpentGrant ending now", err)
	_, err = s.RevokeSpentGrant(ctx, spentOld.ID, before, t0.Add(time.Hour))
	must(t, "RevokeSpentGrant", err)

	n, err := s.DeleteExpiredOIDC(ctx, t0)
	must(t, "DeleteExpiredOIDC", err)
	if n != 7 {
		t.Errorf("DeleteExpiredOIDC = %d, want 7 (2 requests, 3 tokens, 1 spent token, 1 revoked grant)", n)
	}
	n, err = s.DeleteExpiredOIDC(ctx, t0)
	must(t, "DeleteExpiredOIDC again", err)
	if n != 0 {
		t.Errorf("DeleteExpiredOIDC again = %d, want 0", n)
	}
	diff(t, "live request kept", findAuthRequest(t, s, liveReq.ID), liveReq)
	diff(t, "live token kept", findRefreshToken(t, s, liveTok.ID), liveTok)
	diff(t, "client kept", findClient(t, s, c.ID), c)
	diff(t, "signing keys kept", listSigningKeys(t, s), []*latchkey.SigningKey{key})
	// The deleted request's code is free again.
	must(t, "SaveAuthCode reusing an expired code", s.SaveAuthCode(ctx, liveReq.ID, "code-expired"))
	if n, err := s.DeleteRefreshTokens(ctx, u.ID, ""); err != nil || n != 1 {
		t.Errorf("DeleteRefreshTokens after DeleteExpiredOIDC = %d, %v; want 1, nil", n, err)
	}
	if revoked, err := s.GrantRevoked(ctx, spentOld.GrantID, before); err != nil || !revoked {
		t.Errorf("GrantRevoked of the live record after DeleteExpiredOIDC = %v, %v; want true", revoked, err)
	}
	if revoked, err := s.GrantRevoked(ctx, spentLive.GrantID, before); err != nil || revoked {
		t.Errorf("GrantRevoked of the deleted record = %v, %v; want false", revoked, err)
	}
	_, err = s.RevokeSpentGrant(ctx, spentOld.ID, before, t0.Add(time.Hour))
	wantErr(t, "RevokeSpentGrant of a deleted spent record", err, latchkey.ErrNotFound)
	_, err = s.RevokeSpentGrant(ctx, spentLive.ID, before, t0.Add(time.Hour))
	must(t, "RevokeSpentGrant of a kept spent record", err)
}

func testRaceRedeemAuthCode(t *testing.T, s latchkey.Store) {
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	r := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	must(t, "SaveAuthCode", s.SaveAuthCode(t.Context(), r.ID, "code-race"))
	want := *r
	want.CodeHash = "code-race"
	got := make([]*latchkey.AuthRequest, racers)
	toks := make([]*latchkey.RefreshToken, racers)
	for i := range toks {
		toks[i] = newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
	}
	errs := race(func(i int) error {
		var err error
		got[i], err = s.RedeemAuthCode(t.Context(), "code-race", toks[i].GrantID, toks[i], t0)
		return err
	})
	winner := checkOneWinner(t, "RedeemAuthCode", errs, latchkey.ErrNotFound)
	if winner >= 0 {
		diff(t, "request won", got[winner], &want)
	}
	_, err := s.FindAuthRequest(t.Context(), r.ID, t0)
	wantErr(t, "FindAuthRequest after race", err, latchkey.ErrNotFound)
	// Only the winner's refresh token is stored, and the code is spent on its grant.
	if n, err := s.DeleteRefreshTokens(t.Context(), u.ID, ""); err != nil || n != 1 {
		t.Errorf("tokens after race = %d, %v; want 1, nil", n, err)
	}
	if g, err := s.RevokeSpentGrant(t.Context(), "code-race", t0, t0.Add(time.Hour)); winner >= 0 && (err != nil || g != toks[winner].GrantID) {
		t.Errorf("RevokeSpentGrant of the raced code = %q, %v; want the winner's grant %q", g, err, toks[winner].GrantID)
	}
}

// testRaceRevokeSpentGrant: the rotated first token of a grant comes back while the client
// rotates the newest one, from many goroutines at once. However they interleave, no refresh
// token of the grant is left, and every revocation succeeds.
func testRaceRevokeSpentGrant(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	first := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	newest := newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
	newest.GrantID = first.GrantID
	_, err := s.RotateRefreshToken(ctx, first.ID, newest, t0)
	must(t, "RotateRefreshToken", err)
	next := make([]*latchkey.RefreshToken, racers)
	for i := range next {
		next[i] = newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
		next[i].GrantID = first.GrantID
	}
	errs := race(func(i int) error {
		if i%2 == 0 {
			_, err := s.RevokeSpentGrant(ctx, first.ID, t0, t0.Add(time.Hour))
			return err
		}
		_, err := s.RotateRefreshToken(ctx, newest.ID, next[i], t0)
		if errors.Is(err, latchkey.ErrNotFound) {
			return nil // lost to another rotation or to the revocation
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	for i, tok := range append([]*latchkey.RefreshToken{newest}, next...) {
		if _, err := s.FindRefreshToken(ctx, tok.ID, t0); !errors.Is(err, latchkey.ErrNotFound) {
			t.Errorf("token %d of the revoked grant after the race: %v, want ErrNotFound", i, err)
		}
	}
	if revoked, err := s.GrantRevoked(ctx, first.GrantID, t0); err != nil || !revoked {
		t.Errorf("GrantRevoked after the race = %v, %v; want true", revoked, err)
	}
}

func testRaceRotateRefreshToken(t *testing.T, s latchkey.Store) {
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	old := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))
	next := make([]*latchkey.RefreshToken, racers)
	for i := range next {
		next[i] = newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
		next[i].ID = fmt.Sprintf("rt-race-%02d", i)
	}
	got := make([]*latchkey.RefreshToken, racers)
	errs := race(func(i int) error {
		var err error
		got[i], err = s.RotateRefreshToken(t.Context(), old.ID, next[i], t0)
		return err
	})
	winner := checkOneWinner(t, "RotateRefreshToken", errs, latchkey.ErrNotFound)
	if winner >= 0 {
		diff(t, "old token returned to the winner", got[winner], old)
	}
	for i, n := range next {
		found, err := s.FindRefreshToken(t.Context(), n.ID, t0)
		switch {
		case i == winner:
			must(t, "FindRefreshToken of the winner", err)
			diff(t, "winner's token", found, n)
		default:
			wantErr(t, fmt.Sprintf("FindRefreshToken of loser %d", i), err, latchkey.ErrNotFound)
		}
	}
	_, err := s.FindRefreshToken(t.Context(), old.ID, t0)
	wantErr(t, "FindRefreshToken old after race", err, latchkey.ErrNotFound)
	// Exactly one token is left of the user's.
	if n, err := s.DeleteRefreshTokens(t.Context(), u.ID, ""); err != nil || n != 1 {
		t.Errorf("tokens left after race = %d, %v; want 1, nil", n, err)
	}
}
