package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var oidcTests = []test{
	{"CreateClient/RoundTrip", testCreateClient},
	{"ListClients", testListClients},
	{"DeleteClient", testDeleteClient},
	{"CreateAuthRequest/RoundTrip", testCreateAuthRequest},
	{"FindAuthRequest/Expired", testFindAuthRequestExpired},
	{"CompleteAuthRequest", testCompleteAuthRequest},
	{"SaveAuthCode", testSaveAuthCode},
	{"RedeemAuthCode", testRedeemAuthCode},
	{"RedeemAuthCode/Expired", testRedeemAuthCodeExpired},
	{"RevokeSpentGrant", testRevokeSpentGrant},
	{"DeleteAuthRequest", testDeleteAuthRequest},
	{"RedeemAuthCode/RefreshToken", testRedeemAuthCodeRefreshToken},
	{"FindRefreshToken/Expired", testFindRefreshTokenExpired},
	{"RotateRefreshToken", testRotateRefreshToken},
	{"RotateRefreshToken/Refused", testRotateRefreshTokenRefused},
	{"DeleteRefreshTokens", testDeleteRefreshTokens},
	{"CreateSigningKey/RoundTrip", testCreateSigningKey},
	{"RetireSigningKey", testRetireSigningKey},
	{"DeleteExpiredOIDC", testDeleteExpiredOIDC},
}

// nonNilLists reports every list that came back nil: a store returns empty lists, never nil.
func nonNilLists(t *testing.T, what string, lists map[string][]string) {
	t.Helper()
	for name, l := range lists {
		if l == nil {
			t.Errorf("%s: %s is nil, want an empty slice", what, name)
		}
	}
}

func newClient(name string) *latchkey.Client {
	return &latchkey.Client{
		ID:                     latchkey.NewID(),
		Name:                   name,
		SecretHash:             "$argon2id$v=19$m=65536,t=3,p=4$" + latchkey.NewID(),
		RedirectURIs:           []string{"https://app.example.com/callback", "http://127.0.0.1:8080/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example.com/"},
		CreatedAt:              t0,
	}
}

func mustCreateClient(t *testing.T, s latchkey.Store, name string) *latchkey.Client {
	t.Helper()
	c := newClient(name)
	must(t, "CreateClient "+name, s.CreateClient(t.Context(), c))
	return c
}

func findClient(t *testing.T, s latchkey.Store, id string) *latchkey.Client {
	t.Helper()
	c, err := s.FindClient(t.Context(), id)
	must(t, "FindClient", err)
	return c
}

func testCreateClient(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := newClient("Wiki")
	want := *c
	must(t, "CreateClient", s.CreateClient(ctx, c))
	unchanged(t, "CreateClient argument", c, &want)
	diff(t, "FindClient", findClient(t, s, c.ID), &want)

	// A public client with no secret and no lists.
	pub := &latchkey.Client{ID: "spa-" + latchkey.NewID(), Name: "Single-page app", Public: true, CreatedAt: t0.Add(time.Second)}
	must(t, "CreateClient public", s.CreateClient(ctx, pub))
	got := findClient(t, s, pub.ID)
	diff(t, "FindClient public", got, pub)
	nonNilLists(t, "FindClient public", map[string][]string{"RedirectURIs": got.RedirectURIs, "PostLogoutRedirectURIs": got.PostLogoutRedirectURIs})

	dup := newClient("Other")
	dup.ID = c.ID
	wantErr(t, "CreateClient taken id", s.CreateClient(ctx, dup), latchkey.ErrConflict)
	diff(t, "client after refused create", findClient(t, s, c.ID), &want)

	_, err := s.FindClient(ctx, latchkey.NewID())
	wantErr(t, "FindClient unknown", err, latchkey.ErrNotFound)
}

func testListClients(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListClients(ctx)
	must(t, "ListClients empty", err)
	if len(got) != 0 {
		t.Errorf("ListClients empty = %d clients, want 0", len(got))
	}

	wiki := mustCreateClient(t, s, "Wiki")
	lower := mustCreateClient(t, s, "grafana") // byte-wise, after every capital
	// Two clients of the same name come in id order.
	g1, g2 := newClient("Grafana"), newClient("Grafana")
	g1.ID, g2.ID = "grafana-b", "grafana-a"
	must(t, "CreateClient g1", s.CreateClient(ctx, g1))
	must(t, "CreateClient g2", s.CreateClient(ctx, g2))
	zulip := mustCreateClient(t, s, "Zulip")

	got, err = s.ListClients(ctx)
	must(t, "ListClients", err)
	diff(t, "ListClients", got, []*latchkey.Client{g2, g1, wiki, zulip, lower})
}

func testDeleteClient(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	gone, kept := mustCreateClient(t, s, "Gone"), mustCreateClient(t, s, "Kept")
	goneReq := mustCreateAuthRequest(t, s, gone.ID, t0.Add(10*time.Minute))
	goneTok := mustCreateRefreshToken(t, s, gone.ID, u.ID, t0.Add(time.Hour))
	keptReq := mustCreateAuthRequest(t, s, kept.ID, t0.Add(10*time.Minute))
	keptTok := mustCreateRefreshToken(t, s, kept.ID, u.ID, t0.Add(time.Hour))

	must(t, "DeleteClient", s.DeleteClient(ctx, gone.ID))
	_, err := s.FindClient(ctx, gone.ID)
	wantErr(t, "FindClient deleted", err, latchkey.ErrNotFound)
	// Its requests and tokens go with it.
	_, err = s.FindAuthRequest(ctx, goneReq.ID, t0)
	wantErr(t, "FindAuthRequest of deleted client", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, goneTok.ID, t0)
	wantErr(t, "FindRefreshToken of deleted client", err, latchkey.ErrNotFound)

	wantErr(t, "DeleteClient again", s.DeleteClient(ctx, gone.ID), latchkey.ErrNotFound)
	wantErr(t, "DeleteClient unknown", s.DeleteClient(ctx, latchkey.NewID()), latchkey.ErrNotFound)

	diff(t, "other client kept", findClient(t, s, kept.ID), kept)
	gotReq, err := s.FindAuthRequest(ctx, keptReq.ID, t0)
	must(t, "FindAuthRequest of other client", err)
	diff(t, "other client's request kept", gotReq, keptReq)
	gotTok, err := s.FindRefreshToken(ctx, keptTok.ID, t0)
	must(t, "FindRefreshToken of other client", err)
	diff(t, "other client's token kept", gotTok, keptTok)
}

func newAuthRequest(clientID string, expiresAt time.Time) *latchkey.AuthRequest {
	return &latchkey.AuthRequest{
		ID:                  latchkey.NewID(),
		ClientID:            clientID,
		RedirectURI:         "https://app.example.com/callback",
		Scopes:              []string{"openid", "profile", "email", "offline_access"},
		State:               "af0ifjsldkj",
		Nonce:               "n-0S6_WzA2Mj",
		ResponseType:        "code",
		ResponseMode:        "query",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		ACRValues:           []string{"urn:latchkey:acr:phishing-resistant"},
		Prompt:              []string{"login", "consent"},
		LoginHint:           "alice@example.com",
		BrowserHash:         "browser-" + latchkey.NewID(),
		CreatedAt:           t0,
		ExpiresAt:           expiresAt,
	}
}

func mustCreateAuthRequest(t *testing.T, s latchkey.Store, clientID string, expiresAt time.Time) *latchkey.AuthRequest {
	t.Helper()
	r := newAuthRequest(clientID, expiresAt)
	must(t, "CreateAuthRequest", s.CreateAuthRequest(t.Context(), r))
	return r
}

func findAuthRequest(t *testing.T, s latchkey.Store, id string) *latchkey.AuthRequest {
	t.Helper()
	r, err := s.FindAuthRequest(t.Context(), id, t0)
	must(t, "FindAuthRequest", err)
	return r
}

func testCreateAuthRequest(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")

	// Every field set, as a request restored after sign-in would have them.
	r := newAuthRequest(c.ID, t0.Add(10*time.Minute))
	maxAge := 3600
	r.MaxAgeSeconds = &maxAge
	r.UserID, r.AuthTime, r.AMR, r.ACR, r.Done = latchkey.NewID(), t0.Add(time.Minute), []string{"hwk", "user"}, "urn:latchkey:acr:mfa", true
	r.CodeHash, r.SessionID = "code-"+latchkey.NewID(), "session-"+latchkey.NewID()
	want := *r
	must(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, r))
	unchanged(t, "CreateAuthRequest argument", r, &want)
	diff(t, "FindAuthRequest", findAuthRequest(t, s, r.ID), &want)

	// Nothing optional: nil lists, no max age, no browser binding, not signed in, no code.
	bare := &latchkey.AuthRequest{ID: latchkey.NewID(), ClientID: c.ID, RedirectURI: "https://app.example.com/callback",
		ResponseType: "code", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	must(t, "CreateAuthRequest bare", s.CreateAuthRequest(ctx, bare))
	got := findAuthRequest(t, s, bare.ID)
	diff(t, "FindAuthRequest bare", got, bare)
	nonNilLists(t, "FindAuthRequest bare", map[string][]string{"Scopes": got.Scopes, "ACRValues": got.ACRValues, "Prompt": got.Prompt, "AMR": got.AMR})
	if got.MaxAgeSeconds != nil {
		t.Errorf("FindAuthRequest bare: MaxAgeSeconds = %d, want nil", *got.MaxAgeSeconds)
	}
	if !got.AuthTime.IsZero() {
		t.Errorf("FindAuthRequest bare: AuthTime = %v, want zero", got.AuthTime)
	}

	// max_age=0 is not the same as no max_age.
	zero := newAuthRequest(c.ID, t0.Add(time.Minute))
	zero.MaxAgeSeconds = new(int)
	must(t, "CreateAuthRequest max_age=0", s.CreateAuthRequest(ctx, zero))
	if got := findAuthRequest(t, s, zero.ID); got.MaxAgeSeconds == nil || *got.MaxAgeSeconds != 0 {
		t.Errorf("FindAuthRequest max_age=0: MaxAgeSeconds = %v, want 0", got.MaxAgeSeconds)
	}

	dup := newAuthRequest(c.ID, t0.Add(time.Minute))
	dup.ID = r.ID
	wantErr(t, "CreateAuthRequest taken id", s.CreateAuthRequest(ctx, dup), latchkey.ErrConflict)
	wantErr(t, "CreateAuthRequest unknown client", s.CreateAuthRequest(ctx, newAuthRequest(latchkey.NewID(), t0.Add(time.Minute))), latchkey.ErrNotFound)
	_, err := s.FindAuthRequest(ctx, latchkey.NewID(), t0)
	wantErr(t, "FindAuthRequest unknown", err, latchkey.ErrNotFound)
}

func testFindAuthRequestExpired(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	exp := t0.Add(10 * time.Minute)
	r := mustCreateAuthRequest(t, s, c.ID, exp)
	_, err := s.FindAuthRequest(ctx, r.ID, exp.Add(-time.Microsecond))
	must(t, "FindAuthRequest a microsecond before expiry", err)
	_, err = s.FindAuthRequest(ctx, r.ID, exp)
	wantErr(t, "FindAuthRequest at expiry", err, latchkey.ErrNotFound)
	_, err = s.FindAuthRequest(ctx, r.ID, exp.Add(time.Hour))
	wantErr(t, "FindAuthRequest after expiry", err, latchkey.ErrNotFound)
}

func testCompleteAuthRequest(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	r := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	other := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))

	authTime := t0.Add(90 * time.Second)
	must(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, r.ID, "session-1", u.ID, authTime, []string{"hwk", "pin"}, "urn:latchkey:acr:phishing-resistant"))
	want := *r
	want.SessionID, want.UserID, want.AuthTime, want.AMR, want.ACR, want.Done = "session-1", u.ID, authTime, []string{"hwk", "pin"}, "urn:latchkey:acr:phishing-resistant", true
	diff(t, "request after CompleteAuthRequest", findAuthRequest(t, s, r.ID), &want)
	diff(t, "other request untouched", findAuthRequest(t, s, other.ID), other)

	// Completing again (a second sign-in on the same request, in a new session) records the
	// later one; the browser binding stays.
	must(t, "CompleteAuthRequest again", s.CompleteAuthRequest(ctx, r.ID, "session-2", u.ID, authTime.Add(time.Minute), nil, ""))
	want.SessionID, want.AuthTime, want.AMR, want.ACR = "session-2", authTime.Add(time.Minute), []string{}, ""
	got := findAuthRequest(t, s, r.ID)
	diff(t, "request completed again", got, &want)
	nonNilLists(t, "request completed again", map[string][]string{"AMR": got.AMR})

	wantErr(t, "CompleteAuthRequest unknown", s.CompleteAuthRequest(ctx, latchkey.NewID(), "session-3", u.ID, authTime, []string{"hwk"}, ""), latchkey.ErrNotFound)
}

func testSaveAuthCode(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	r := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	other := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))

	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, r.ID, "code-1"))
	want := *r
	want.CodeHash = "code-1"
	diff(t, "request after SaveAuthCode", findAuthRequest(t, s, r.ID), &want)

	wantErr(t, "SaveAuthCode second code", s.SaveAuthCode(ctx, r.ID, "code-2"), latchkey.ErrConflict)
	wantErr(t, "SaveAuthCode same code again", s.SaveAuthCode(ctx, r.ID, "code-1"), latchkey.ErrConflict)
	diff(t, "request after refused SaveAuthCode", findAuthRequest(t, s, r.ID), &want)

	wantErr(t, "SaveAuthCode another request's code", s.SaveAuthCode(ctx, other.ID, "code-1"), latchkey.ErrConflict)
	diff(t, "other request after refused SaveAuthCode", findAuthRequest(t, s, other.ID), other)
	must(t, "SaveAuthCode other request", s.SaveAuthCode(ctx, other.ID, "code-3"))

	wantErr(t, "SaveAuthCode unknown", s.SaveAuthCode(ctx, latchkey.NewID(), "code-4"), latchkey.ErrNotFound)
}

func testRedeemAuthCode(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	r := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	other := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	noCode := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	must(t, "CompleteAuthRequest", s.CompleteAuthRequest(ctx, r.ID, "session-r", u.ID, t0.Add(time.Minute), []string{"hwk"}, "urn:latchkey:acr:mfa"))
	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, r.ID, "code-r"))
	must(t, "SaveAuthCode other", s.SaveAuthCode(ctx, other.ID, "code-other"))
	want := *r
	want.SessionID, want.UserID, want.AuthTime, want.AMR, want.ACR, want.Done, want.CodeHash = "session-r", u.ID, t0.Add(time.Minute), []string{"hwk"}, "urn:latchkey:acr:mfa", true, "code-r"

	// Finding a request by its code leaves it in place.
	for range 2 {
		got, err := s.FindAuthRequestByCode(ctx, "code-r", t0)
		must(t, "FindAuthRequestByCode", err)
		diff(t, "FindAuthRequestByCode", got, &want)
	}

	// Redeeming uses the code up and stores the grant's first refresh token.
	tok := newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
	wantTok := *tok
	got, err := s.RedeemAuthCode(ctx, "code-r", tok.GrantID, tok, t0)
	must(t, "RedeemAuthCode", err)
	diff(t, "RedeemAuthCode", got, &want)
	unchanged(t, "RedeemAuthCode refresh argument", tok, &wantTok)
	diff(t, "refresh token of the redeemed code", findRefreshToken(t, s, tok.ID), &wantTok)
	_, err = s.RedeemAuthCode(ctx, "code-r", "grant-again", nil, t0)
	wantErr(t, "RedeemAuthCode again", err, latchkey.ErrNotFound)
	_, err = s.FindAuthRequestByCode(ctx, "code-r", t0)
	wantErr(t, "FindAuthRequestByCode redeemed", err, latchkey.ErrNotFound)
	_, err = s.FindAuthRequest(ctx, r.ID, t0)
	wantErr(t, "FindAuthRequest redeemed", err, latchkey.ErrNotFound)
	revoked, err := s.GrantRevoked(ctx, tok.GrantID, t0)
	if err != nil || revoked {
		t.Errorf("GrantRevoked of a redeemed code's grant = %v, %v; want false", revoked, err)
	}

	// No code is not a code.
	_, err = s.FindAuthRequestByCode(ctx, "", t0)
	wantErr(t, "FindAuthRequestByCode empty code", err, latchkey.ErrNotFound)
	_, err = s.RedeemAuthCode(ctx, "", "grant-empty", nil, t0)
	wantErr(t, "RedeemAuthCode empty code", err, latchkey.ErrNotFound)
	_, err = s.RedeemAuthCode(ctx, "code-unknown", "grant-unknown", nil, t0)
	wantErr(t, "RedeemAuthCode unknown", err, latchkey.ErrNotFound)

	diff(t, "request without code kept", findAuthRequest(t, s, noCode.ID), noCode)
	wantOther := *other
	wantOther.CodeHash = "code-other"
	diff(t, "other request kept", findAuthRequest(t, s, other.ID), &wantOther)

	// A refresh token that cannot be stored leaves the code unused, and nothing spent.
	orphan := newRefreshToken(c.ID, latchkey.NewID(), t0.Add(time.Hour))
	_, err = s.RedeemAuthCode(ctx, "code-other", orphan.GrantID, orphan, t0)
	wantErr(t, "RedeemAuthCode with a token for an unknown user", err, latchkey.ErrNotFound)
	clash := newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
	clash.ID = tok.ID
	_, err = s.RedeemAuthCode(ctx, "code-other", clash.GrantID, clash, t0)
	wantErr(t, "RedeemAuthCode with a token of a taken id", err, latchkey.ErrConflict)
	diff(t, "request after refused redemptions", findAuthRequest(t, s, other.ID), &wantOther)
	_, err = s.RevokeSpentGrant(ctx, "code-other", t0, t0.Add(time.Hour))
	wantErr(t, "RevokeSpentGrant of a code whose redemption was refused", err, latchkey.ErrNotFound)
	// Without a refresh token.
	got, err = s.RedeemAuthCode(ctx, "code-other", "grant-other", nil, t0)
	must(t, "RedeemAuthCode without a refresh token", err)
	diff(t, "RedeemAuthCode without a refresh token", got, &wantOther)
}

func testRedeemAuthCodeExpired(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	exp := t0.Add(10 * time.Minute)
	r := mustCreateAuthRequest(t, s, c.ID, exp)
	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, r.ID, "code-r"))
	_, err := s.FindAuthRequestByCode(ctx, "code-r", exp)
	wantErr(t, "FindAuthRequestByCode at expiry", err, latchkey.ErrNotFound)
	_, err = s.RedeemAuthCode(ctx, "code-r", "grant-1", nil, exp)
	wantErr(t, "RedeemAuthCode at expiry", err, latchkey.ErrNotFound)
	_, err = s.RedeemAuthCode(ctx, "code-r", "grant-1", nil, exp.Add(time.Hour))
	wantErr(t, "RedeemAuthCode after expiry", err, latchkey.ErrNotFound)
	if got, err := s.FindAuthRequestByCode(ctx, "code-r", exp.Add(-time.Microsecond)); err != nil || got.ID != r.ID {
		t.Errorf("FindAuthRequestByCode a microsecond before expiry = %v, %v; want request %s", got, err, r.ID)
	}
	got, err := s.RedeemAuthCode(ctx, "code-r", "grant-1", nil, exp.Add(-time.Microsecond))
	must(t, "RedeemAuthCode a microsecond before expiry", err)
	if got.ID != r.ID {
		t.Errorf("RedeemAuthCode = request %s, want %s", got.ID, r.ID)
	}
	// The spent code is known until the request would have expired.
	if g, err := s.RevokeSpentGrant(ctx, "code-r", exp.Add(-time.Microsecond), exp.Add(time.Hour)); err != nil || g != "grant-1" {
		t.Errorf("RevokeSpentGrant a microsecond before the code's expiry = %q, %v; want grant-1", g, err)
	}
	_, err = s.RevokeSpentGrant(ctx, "code-r", exp, exp.Add(time.Hour))
	wantErr(t, "RevokeSpentGrant at the code's expiry", err, latchkey.ErrNotFound)
}

// testRevokeSpentGrant: reusing a spent code or refresh token revokes its grant: every refresh
// token of the grant goes, other grants' stay, and the grant is recorded as revoked until the
// time given.
func testRevokeSpentGrant(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	u := mustCreateUser(t, s, "alice@example.com")
	r := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, r.ID, "code-r"))
	first := newRefreshToken(c.ID, u.ID, t0.Add(time.Hour))
	_, err := s.RedeemAuthCode(ctx, "code-r", first.GrantID, first, t0)
	must(t, "RedeemAuthCode", err)
	second := newRefreshToken(c.ID, u.ID, t0.Add(2*time.Hour))
	second.GrantID = first.GrantID
	_, err = s.RotateRefreshToken(ctx, first.ID, second, t0.Add(time.Minute))
	must(t, "RotateRefreshToken", err)
	third := newRefreshToken(c.ID, u.ID, t0.Add(3*time.Hour))
	third.GrantID = first.GrantID
	_, err = s.RotateRefreshToken(ctx, second.ID, third, t0.Add(2*time.Minute))
	must(t, "RotateRefreshToken second", err)
	other := mustCreateRefreshToken(t, s, c.ID, u.ID, t0.Add(time.Hour))

	_, err = s.RevokeSpentGrant(ctx, third.ID, t0, t0.Add(time.Hour))
	wantErr(t, "RevokeSpentGrant of a live token", err, latchkey.ErrNotFound)
	_, err = s.RevokeSpentGrant(ctx, "unknown", t0, t0.Add(time.Hour))
	wantErr(t, "RevokeSpentGrant unknown", err, latchkey.ErrNotFound)
	diff(t, "live token after refused revocations", findRefreshToken(t, s, third.ID), third)

	// The rotated first token comes back: the grant is revoked.
	until := t0.Add(15 * time.Minute)
	g, err := s.RevokeSpentGrant(ctx, first.ID, t0.Add(3*time.Minute), until)
	must(t, "RevokeSpentGrant", err)
	if g != first.GrantID {
		t.Errorf("RevokeSpentGrant = grant %q, want %q", g, first.GrantID)
	}
	_, err = s.FindRefreshToken(ctx, third.ID, t0)
	wantErr(t, "FindRefreshToken of the revoked grant's newest token", err, latchkey.ErrNotFound)
	diff(t, "other grant's token kept", findRefreshToken(t, s, other.ID), other)
	for _, at := range []time.Time{t0, until.Add(-time.Microsecond)} {
		if revoked, err := s.GrantRevoked(ctx, g, at); err != nil || !revoked {
			t.Errorf("GrantRevoked at %v = %v, %v; want true", at, revoked, err)
		}
	}
	if revoked, err := s.GrantRevoked(ctx, g, until); err != nil || revoked {
		t.Errorf("GrantRevoked at the end of the record = %v, %v; want false", revoked, err)
	}
	if revoked, err := s.GrantRevoked(ctx, other.GrantID, t0); err != nil || revoked {
		t.Errorf("GrantRevoked of another grant = %v, %v; want false", revoked, err)
	}

	// Again, with the code and the second token: the same grant, and an earlier end does not
	// shorten the record.
	for _, hash := range []string{"code-r", second.ID} {
		g2, err := s.RevokeSpentGrant(ctx, hash, t0.Add(4*time.Minute), t0.Add(5*time.Minute))
		if err != nil || g2 != g {
			t.Errorf("RevokeSpentGrant(%s) again = %q, %v; want %q", hash, g2, err, g)
		}
	}
	if revoked, err := s.GrantRevoked(ctx, g, until.Add(-time.Microsecond)); err != nil || !revoked {
		t.Errorf("GrantRevoked after a shorter revocation = %v, %v; want true until %v", revoked, err, until)
	}
	// The revoked grant's token rotates no more.
	_, err = s.RotateRefreshToken(ctx, third.ID, newRefreshToken(c.ID, u.ID, t0.Add(4*time.Hour)), t0.Add(5*time.Minute))
	wantErr(t, "RotateRefreshToken of a revoked grant's token", err, latchkey.ErrNotFound)
}

func testDeleteAuthRequest(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateClient(t, s, "Wiki")
	a := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	b := mustCreateAuthRequest(t, s, c.ID, t0.Add(10*time.Minute))
	must(t, "SaveAuthCode", s.SaveAuthCode(ctx, a.ID, "code-a"))
	must(t, "DeleteAuthRequest", s.DeleteAuthRequest(ctx, a.ID))
	_, err := s.FindAuthRequest(ctx, a.ID, t0)
	wantErr(t, "FindAuthRequest deleted", err, latchkey.ErrNotFound)
	_, err = s.RedeemAuthCode(ctx, "code-a", "grant-a", nil, t0)
	wantErr(t, "RedeemAuthCode deleted", err, latchkey.ErrNotFound)
	must(t, "DeleteAuthRequest again", s.DeleteAuthRequest(ctx, a.ID))
	diff(t, "other request kept", findAuthRequest(t, s, b.ID), b)
}
