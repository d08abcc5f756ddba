package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/recovery/idvtest"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

const testRedirect = "http://127.0.0.1:1/recover/verify/callback"

var testClient = signin.Client{IP: "192.0.2.10", UserAgent: "test"}

type idvEnv struct {
	svc  *Service
	idv  *idvtest.Provider
	ada  *latchkey.User
	conf IDVConfig
}

func newIDVEnv(t *testing.T, tweak func(*IDVConfig)) *idvEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	svc := New(directory.New(signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))))
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", GivenName: "Zoë-Ada",
		Surname: "Lovelace  King", EmployeeID: "E 1001", Enabled: true}
	if err := svc.Dir.CreateUser(ctx, latchkey.CLIActor, ada); err != nil {
		t.Fatal(err)
	}
	p := idvtest.Start(t, testRedirect)
	conf := IDVConfig{Enabled: true, Name: "Acme ID check", Issuer: p.Issuer, ClientID: idvtest.ClientID,
		ClientSecret: idvtest.ClientSecret, Match: []string{AttrGivenName, AttrFamilyName, AttrEmployeeNumber},
		TrustFrameworks: []string{"eidas", "de_aml"}, AssuranceLevels: []string{"substantial", "high"}}
	if tweak != nil {
		tweak(&conf)
	}
	if err := svc.SetIDVConfig(ctx, latchkey.CLIActor, conf); err != nil {
		t.Fatal(err)
	}
	return &idvEnv{svc: svc, idv: p, ada: ada, conf: conf}
}

// adaClaims are Ada's verified claims as an identity document reads them: other case, no
// accents, other spacing.
var adaClaims = map[string]any{"given_name": "ZOE ADA", "family_name": "lovelace king", "employee_number": "e 1001"}

// verify runs the browser's part: to the provider (which approves at once) and back with the
// code, then Latchkey's callback.
func (e *idvEnv) verify(t *testing.T, name string) (*signin.SignIn, error) {
	t.Helper()
	ctx := context.Background()
	authURL, err := e.svc.BeginIDV(ctx, name, testClient, testRedirect)
	if err != nil {
		return nil, err
	}
	cb := followToCallback(t, authURL)
	return e.svc.CompleteIDV(ctx, cb, testClient, testRedirect)
}

func followToCallback(t *testing.T, u string) IDVCallback {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 10 {
		if strings.HasPrefix(u, testRedirect) {
			q, _ := url.Parse(u)
			return IDVCallback{State: q.Query().Get("state"), Code: q.Query().Get("code"), Error: q.Query().Get("error")}
		}
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("GET %s: %d %s, no redirect", u, resp.StatusCode, body)
		}
		u = loc.String()
	}
	t.Fatal("too many redirects")
	return IDVCallback{}
}

func wantCode(t *testing.T, err error, code string) *latchkey.Error {
	t.Helper()
	var le *latchkey.Error
	if !errors.As(err, &le) || le.Code != code {
		t.Fatalf("err = %v; want %s", err, code)
	}
	return le
}

// TestIDVMatchRecovers: verified claims in the plain Identity Assurance shape that match Ada's
// record after normalisation sign her in with a one-time recovery pass session; the recovery
// mail is queued and the audit event names trust framework and level, not the claims' values.
func TestIDVMatchRecovers(t *testing.T) {
	e := newIDVEnv(t, nil)
	e.idv.SetVerifiedClaims(idvtest.Plain("eidas", "substantial", adaClaims), false)
	si, err := e.verify(t, "Ada@Example.com")
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if si.User.ID != e.ada.ID || !si.Session.HasMethod(latchkey.MethodTAP) {
		t.Fatalf("signed in %+v with %v; want Ada by pass", si.User.UserPrincipalName, si.Session.Methods)
	}
	claims, q := e.idv.ClaimsParam()
	var req map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(claims), &req); err != nil || req["id_token"]["verified_claims"] == nil {
		t.Fatalf("claims parameter %q: %v; want verified_claims under id_token", claims, err)
	}
	if q["code_challenge_method"] != "S256" || q["nonce"] == "" || q["state"] == "" {
		t.Fatalf("authorization request %v; want PKCE S256, nonce and state", q)
	}
	ctx := context.Background()
	ap, err := e.svc.Store.FindAccessPassByUser(ctx, e.ada.ID)
	if err != nil || !ap.OneTime || ap.LifetimeMinutes != IDVPassMinutes {
		t.Fatalf("pass %+v, %v; want a one-time recovery pass of %d minutes", ap, err, IDVPassMinutes)
	}
	mails, err := e.svc.Store.ListMail(ctx, latchkey.MailFilter{Kind: MailKindRecovery, SubjectID: e.ada.ID})
	if err != nil || len(mails) != 1 || mails[0].Params["path"] != PathIDV || !strings.Contains(mails[0].Params["by"], "Acme ID check") {
		t.Fatalf("recovery mails %+v, %v", mails, err)
	}
	evs, err := e.svc.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: "recovery.identityVerification"})
	if err != nil || len(evs) != 1 || evs[0].Summary["trustFramework"] != "eidas" || evs[0].Summary["assuranceLevel"] != "substantial" {
		t.Fatalf("audit events %+v, %v", evs, err)
	}
	raw, _ := json.Marshal(evs[0].Summary)
	if strings.Contains(strings.ToLower(string(raw)), "zoe") || strings.Contains(string(raw), "1001") {
		t.Fatalf("audit summary %s carries claim values", raw)
	}
}

// TestIDVUserinfoAndDelegated: claims from userinfo are read when the ID token has none, and
// the "bring your own IDV" shape (an array, IDV-DELEGATED, VERIFIED, values wrapped as
// {"value": ...}) is accepted. The claims request asks for the profile's framework and level
// and never carries the directory's values (they would show in the browser's address).
func TestIDVUserinfoAndDelegated(t *testing.T) {
	e := newIDVEnv(t, nil)
	e.idv.SetVerifiedClaims(idvtest.Plain("de_aml", "high", adaClaims), true)
	if _, err := e.verify(t, "ada@example.com"); err != nil {
		t.Fatalf("verify from userinfo: %v", err)
	}
	d := newIDVEnv(t, func(c *IDVConfig) {
		c.TrustFrameworks, c.AssuranceLevels, c.Match = []string{DefaultIDVTrustFramework}, nil, []string{AttrGivenName, AttrFamilyName}
	})
	d.idv.SetVerifiedClaims(idvtest.Delegated("VERIFIED", map[string]string{"given_name": "Zoe Ada", "family_name": "Lovelace King"}), false)
	if _, err := d.verify(t, "ada@example.com"); err != nil {
		t.Fatalf("verify delegated: %v", err)
	}
	claims, q := d.idv.ClaimsParam()
	if !strings.Contains(claims, `"value":"IDV-DELEGATED"`) || !strings.Contains(claims, `"value":"VERIFIED"`) ||
		strings.Contains(claims, "Lovelace") || strings.Contains(claims, "Zo") || !strings.Contains(q["scope"], "identity_assurance") {
		t.Fatalf("delegated claims request %s, scope %q; want the profile's framework and level and no directory value", claims, q["scope"])
	}
	for _, c := range []struct {
		level  string
		claims map[string]string
	}{
		{"FAILED", map[string]string{"given_name": "Zoe Ada", "family_name": "Lovelace King"}},
		{"VERIFIED", map[string]string{"given_name": "MATCHED", "family_name": "MATCHED"}},
	} {
		d.idv.SetVerifiedClaims(idvtest.Delegated(c.level, c.claims), false)
		_, err := d.verify(t, "ada@example.com")
		wantCode(t, err, CodeIDVNoMatch)
	}
}

// TestIDVMismatchRefused: a different person, a trust framework or level not accepted, an
// unknown account: refused in words that give the next path and no attribute, no pass issued.
func TestIDVMismatchRefused(t *testing.T) {
	e := newIDVEnv(t, nil)
	cases := []struct {
		name, user string
		vc         any
	}{
		{"other person", "ada@example.com", idvtest.Plain("eidas", "high", map[string]any{"given_name": "Zoe Ada", "family_name": "Byron", "employee_number": "E1001"})},
		{"missing claim", "ada@example.com", idvtest.Plain("eidas", "high", map[string]any{"given_name": "Zoe Ada", "family_name": "Lovelace King"})},
		{"framework not accepted", "ada@example.com", idvtest.Plain("uk_tfida", "high", adaClaims)},
		{"level not accepted", "ada@example.com", idvtest.Plain("eidas", "low", adaClaims)},
		{"matched in plain shape", "ada@example.com", idvtest.Plain("eidas", "high", map[string]any{"given_name": "MATCHED", "family_name": "MATCHED", "employee_number": "MATCHED"})},
		{"no verified claims", "ada@example.com", nil},
		{"verified long ago", "ada@example.com", idvtest.PlainAt("eidas", "high", time.Now().Add(-2*IDVMaxAge), adaClaims)},
		{"unknown account", "nobody@example.com", idvtest.Plain("eidas", "high", adaClaims)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.idv.SetVerifiedClaims(c.vc, false)
			if err := e.svc.Store.ResetThrottle(context.Background(), idvUserKey(c.user)); err != nil { // more cases than free tries
				t.Fatal(err)
			}
			_, err := e.verify(t, c.user)
			le := wantCode(t, err, CodeIDVNoMatch)
			if !strings.Contains(le.Message, "manager") || !strings.Contains(le.Message, "helpdesk") || strings.Contains(le.Message, "name") {
				t.Fatalf("refusal %q; want the next path and no attribute", le.Message)
			}
		})
	}
	if ap, err := e.svc.Store.FindAccessPassByUser(context.Background(), e.ada.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Fatalf("pass %+v, %v after refusals; want none", ap, err)
	}
	// The admin finds each refusal, with its reason, in Ada's sign-in log; never a claim's value.
	evs, err := e.svc.Store.ListSignIns(context.Background(), e.ada.ID, 0)
	if err != nil || len(evs) != len(cases)-1 {
		t.Fatalf("%d sign-in events for ada, %v; want %d", len(evs), err, len(cases)-1)
	}
	var reasons []string
	for _, ev := range evs {
		if ev.Method != MethodIDV || ev.ErrorCode != CodeIDVNoMatch || strings.Contains(ev.Detail, "Byron") {
			t.Fatalf("sign-in event %+v", ev)
		}
		reasons = append(reasons, ev.Detail)
	}
	if all := strings.Join(reasons, "\n"); !strings.Contains(all, "family_name does not match") || !strings.Contains(all, "trust framework") ||
		!strings.Contains(all, "not within the last hour") {
		t.Fatalf("reasons:\n%s", all)
	}
}

// TestIDVTokenChecks: an ID token from another issuer, with another nonce or signed by a key
// the provider does not publish is refused; a callback is good once.
func TestIDVTokenChecks(t *testing.T) {
	e := newIDVEnv(t, nil)
	e.idv.SetVerifiedClaims(idvtest.Plain("eidas", "high", adaClaims), false)
	for name, tamper := range map[string]struct {
		fn       func(map[string]any)
		wrongKey bool
	}{
		"issuer":    {fn: func(c map[string]any) { c["iss"] = "https://evil.example" }},
		"nonce":     {fn: func(c map[string]any) { c["nonce"] = "another" }},
		"audience":  {fn: func(c map[string]any) { c["aud"] = []string{"someone-else"} }},
		"signature": {wrongKey: true},
	} {
		t.Run(name, func(t *testing.T) {
			e.idv.Tamper(tamper.fn, tamper.wrongKey)
			_, err := e.verify(t, "ada@example.com")
			le := wantCode(t, err, CodeIDVFailed)
			if !strings.Contains(le.Detail, name) { // the check that refused it is the one under test
				t.Fatalf("refused for %q; want the %s check", le.Detail, name)
			}
		})
	}
	e.idv.Tamper(nil, false)
	ctx := context.Background()
	authURL, err := e.svc.BeginIDV(ctx, "ada@example.com", testClient, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	cb := followToCallback(t, authURL)
	if _, err := e.svc.CompleteIDV(ctx, cb, testClient, testRedirect); err != nil {
		t.Fatalf("untampered: %v", err)
	}
	_, err = e.svc.CompleteIDV(ctx, cb, testClient, testRedirect)
	wantCode(t, err, CodeIDVFailed)

	// The person cancelled at the provider: it answers access_denied.
	authURL, err = e.svc.BeginIDV(ctx, "ada@example.com", testClient, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	le := wantCode(t, func() error {
		_, err := e.svc.CompleteIDV(ctx, IDVCallback{State: u.Query().Get("state"), Error: "access_denied"}, testClient, testRedirect)
		return err
	}(), CodeIDVFailed)
	if !strings.Contains(le.Detail, "access_denied") {
		t.Fatalf("cancel refused for %q", le.Detail)
	}
}

// TestIDVThrottled: verifications begun for one name, then from one address over many names,
// are refused with a wait once their free tries are used.
func TestIDVThrottled(t *testing.T) {
	e := newIDVEnv(t, nil)
	ctx := context.Background()
	for i := range idvUserRule.Free {
		if _, err := e.svc.BeginIDV(ctx, "ada@example.com", testClient, testRedirect); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	le := wantCode(t, func() error {
		_, err := e.svc.BeginIDV(ctx, "ada@example.com", signin.Client{IP: "198.51.100.1"}, testRedirect)
		return err
	}(), CodeIDVTooMany)
	if le.RetryAfter <= 0 {
		t.Fatalf("no Retry-After on %v", le)
	}
	for i := idvUserRule.Free; i < idvIPRule.Free; i++ {
		if _, err := e.svc.BeginIDV(ctx, "p"+string(rune('a'+i))+"@example.com", testClient, testRedirect); err != nil {
			t.Fatalf("address attempt %d: %v", i+1, err)
		}
	}
	_, err := e.svc.BeginIDV(ctx, "grace@example.com", testClient, testRedirect)
	wantCode(t, err, CodeIDVTooMany)
}

// TestIDVConfigSecret: reading the settings back hides the secret; saving without one keeps
// it; the audit event never carries it; a person without a policy role may not change them.
func TestIDVConfigSecret(t *testing.T) {
	e := newIDVEnv(t, nil)
	ctx := context.Background()
	c, err := e.svc.IDVConfig(ctx, latchkey.CLIActor)
	if err != nil || c.ClientSecret != idvtest.ClientSecret {
		t.Fatalf("IDVConfig = %+v, %v", c, err)
	}
	pub, has := c.Public()
	if pub.ClientSecret != "" || !has {
		t.Fatalf("Public = %+v, %v", pub, has)
	}
	pub.Name = "Renamed"
	if err := e.svc.SetIDVConfig(ctx, latchkey.CLIActor, pub); err != nil {
		t.Fatal(err)
	}
	if c, _ = e.svc.IDVConfig(ctx, latchkey.CLIActor); c.ClientSecret != idvtest.ClientSecret || c.Name != "Renamed" {
		t.Fatalf("after save without secret: %+v", c)
	}
	evs, _ := e.svc.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: "identityVerification.update"})
	for _, ev := range evs {
		raw, _ := json.Marshal(ev.Summary)
		if strings.Contains(string(raw), idvtest.ClientSecret) {
			t.Fatalf("audit event carries the secret: %s", raw)
		}
	}
	if len(evs) != 2 {
		t.Fatalf("%d update events; want 2", len(evs))
	}
	person := func(roles ...string) latchkey.Actor {
		a := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: e.ada.ID, UPN: e.ada.UserPrincipalName}
		for _, r := range roles {
			a.Roles = append(a.Roles, latchkey.RoleAssignment{UserID: e.ada.ID, Role: r})
		}
		return a
	}
	for _, r := range []string{"", latchkey.RoleAuthenticationAdmin, latchkey.RoleReportsReader} {
		a := person()
		if r != "" {
			a = person(r)
		}
		if err := e.svc.SetIDVConfig(ctx, a, pub); !latchkey.IsKind(err, latchkey.EFORBIDDEN) {
			t.Fatalf("role %q sets the provider: %v; want forbidden", r, err)
		}
	}
	if err := e.svc.SetIDVConfig(ctx, person(latchkey.RoleAuthenticationPolicyAdmin), pub); err != nil {
		t.Fatalf("authentication policy admin: %v", err)
	}
	bad := pub
	bad.Issuer = "http://idv.example.com"
	wantCode(t, e.svc.SetIDVConfig(ctx, latchkey.CLIActor, bad), "invalid_identity_verification")
}

// TestNormalize: the matching rule's normal form.
func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"Zoë-Ada": "zoe ada", "  O’Brien ": "o brien", "JOSÉ\tMARÍA": "jose maria", "Ｅ１００１": "e1001"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q; want %q", in, got, want)
		}
	}
}
