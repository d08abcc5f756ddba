package signin

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passwordrules"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/registered"
)

// enableLegacy turns password and TOTP on for everyone, with minLength.
func enableLegacy(t *testing.T, svc *Service, minLength int) {
	t.Helper()
	p := policy.DefaultMethodsPolicy()
	p.Password.State, p.TOTP.State, p.Password.MinimumLength = policy.StateEnabled, policy.StateEnabled, minLength
	if err := setMethodsPolicy(context.Background(), svc, p); err != nil {
		t.Fatal(err)
	}
}

// tapSession is a fresh TAP session of u, which may register security info.
func tapSession(c *clock, u *latchkey.User) *latchkey.Session {
	return &latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodTAP}, AuthenticatedAt: c.Now()}
}

const goodPassword = "tangerine velvet orbit 42"

func TestPasswordHashAndVerify(t *testing.T) {
	svc, _ := newService(t)
	hashPass := func(pw string) string { return mustHash(t, svc, pw) }
	checkPass := func(h, pw string) bool { return mustCheck(t, svc, h, pw) }
	h := hashPass(passwordrules.Normalize(goodPassword))
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the TAP parameters", h)
	}
	if !checkPass(h, passwordrules.Normalize(goodPassword)) {
		t.Error("the right password does not verify")
	}
	if checkPass(h, passwordrules.Normalize(goodPassword+" ")) {
		t.Error("a different password verifies")
	}
	if hashPass(goodPassword) == hashPass(goodPassword) {
		t.Error("two hashes of one password are equal: no salt")
	}
	// A composed and a decomposed é are the same password (NFKC).
	composed, decomposed := "caf\u00e9 on the river bank", "cafe\u0301 on the river bank"
	if !checkPass(hashPass(passwordrules.Normalize(composed)), passwordrules.Normalize(decomposed)) {
		t.Error("normalization does not make composed and decomposed accents the same password")
	}
}

func TestLegacyMethodsDisabledByDefault(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")
	wantCode(t, svc.SetPassword(ctx, tapSession(c, u), u, goodPassword), "method_disabled_for_user")
	_, err := svc.BeginTOTPEnrollment(ctx, tapSession(c, u), u)
	wantCode(t, err, "method_disabled_for_user")

	// A password stored earlier (the method was on, then turned off) no longer signs in; a
	// wrong one still gets the answer that tells nothing.
	if err := svc.Store.SetPassword(ctx, u.ID, mustHash(t, svc, passwordrules.Normalize(goodPassword)), c.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = svc.SignInWithPassword(ctx, u.UserPrincipalName, goodPassword, client)
	wantCode(t, err, "method_disabled_for_user")
	if !strings.Contains(err.(*latchkey.Error).Message, "Passwords are not turned on for your account") {
		t.Errorf("message %q", err.(*latchkey.Error).Message)
	}
	_, err = svc.SignInWithPassword(ctx, u.UserPrincipalName, "wrong "+goodPassword, client)
	wantCode(t, err, "password_invalid")
}

func TestPasswordSignIn(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	enableLegacy(t, svc, 15)
	u := addUser(t, svc, "alice@example.com")
	if err := svc.SetPassword(ctx, tapSession(c, u), u, goodPassword); err != nil {
		t.Fatal(err)
	}
	res, err := svc.SignInWithPassword(ctx, "ALICE@example.com", goodPassword, client)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done == nil || res.TOTPToken != "" {
		t.Fatalf("a person without an authenticator app got %+v, want a finished sign-in", res)
	}
	sess := res.Done.Session
	if strings.Join(sess.Methods, ",") != "password" || !sess.ExpiresAt.Equal(c.Now().Add(SessionLifetime)) {
		t.Errorf("session methods %v expiring %v, want [password] with the normal lifetime", sess.Methods, sess.ExpiresAt)
	}
	// A password alone is not strong: no registering, no changing the password.
	wantCode(t, svc.MayRegister(sess), "strong_signin_required")
	wantCode(t, svc.SetPassword(ctx, sess, u, "another long phrase 7"), "strong_signin_required")

	// A wrong user name and a wrong password get the same answer.
	_, e1 := svc.SignInWithPassword(ctx, "nobody@example.com", goodPassword, client)
	_, e2 := svc.SignInWithPassword(ctx, "alice@example.com", "wrong "+goodPassword, client)
	wantCode(t, e1, "password_invalid")
	wantCode(t, e2, "password_invalid")
	if e1.(*latchkey.Error).Message != e2.(*latchkey.Error).Message || e1.(*latchkey.Error).Detail != e2.(*latchkey.Error).Detail {
		t.Errorf("unknown user and wrong password answer differently:\n%v\n%v", e1, e2)
	}

	// Every attempt is in the sign-in log under the method password; no password is.
	events, err := svc.Store.ListSignIns(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Method+":"+e.Result+":"+e.ErrorCode)
		if strings.Contains(e.Detail, goodPassword) {
			t.Errorf("the sign-in log holds the password: %+v", e)
		}
	}
	want := "password:failure:password_invalid password:failure:password_invalid password:success:"
	if strings.Join(got, " ") != want {
		t.Errorf("sign-in log %v, want %s", got, want)
	}
	if events[2].ACR != policy.ACRAAL1 || strings.Join(events[2].AMR, " ") != "pwd" {
		t.Errorf("password sign-in acr %q amr %v, want AAL1 [pwd]", events[2].ACR, events[2].AMR)
	}
}

func TestPasswordThrottle(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	enableLegacy(t, svc, 15)
	u := addUser(t, svc, "alice@example.com")
	if err := svc.SetPassword(ctx, tapSession(c, u), u, goodPassword); err != nil {
		t.Fatal(err)
	}
	failures := func() int {
		th, err := svc.Store.FindThrottle(ctx, passwordUserKey(u.ID))
		if err != nil {
			t.Fatal(err)
		}
		return th.Failures
	}
	// A success resets the count.
	for range 3 {
		_, err := svc.SignInWithPassword(ctx, "alice@example.com", "wrong password here", client)
		wantCode(t, err, "password_invalid")
	}
	if n := failures(); n != 3 {
		t.Fatalf("%d failures counted, want 3", n)
	}
	if _, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client); err != nil {
		t.Fatal(err)
	}
	if n := failures(); n != 0 {
		t.Errorf("%d failures after a success, want 0", n)
	}
	// Five free failures, then a wait: even the right password must wait.
	for range 5 {
		_, err := svc.SignInWithPassword(ctx, "alice@example.com", "wrong password here", client)
		wantCode(t, err, "password_invalid")
	}
	_, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client)
	wantCode(t, err, "too_many_attempts")
	c.Add(2 * time.Second)
	if _, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	// At 100 consecutive failures the password stops working, right or not.
	for range 99 {
		if _, _, err := svc.Store.ReserveAttempt(ctx, passwordUserKey(u.ID), c.Now(), latchkey.AttemptRule{Free: math.MaxInt32}); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(time.Hour)
	other := Client{IP: "198.51.100.7"}
	_, err = svc.SignInWithPassword(ctx, "alice@example.com", "wrong password here", other)
	wantCode(t, err, "password_invalid")
	if n := failures(); n != MaxTAPFailures {
		t.Fatalf("%d failures, want %d", n, MaxTAPFailures)
	}
	c.Add(24 * time.Hour)
	_, err = svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, other)
	wantCode(t, err, "password_locked")
	// Setting a new password (after a TAP sign-in) unblocks it.
	if err := svc.SetPassword(ctx, tapSession(c, u), u, "a brand new phrase 9"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignInWithPassword(ctx, "alice@example.com", "a brand new phrase 9", other); err != nil {
		t.Errorf("after a new password: %v", err)
	}

	// Per address: 20 free failures whoever the user, then a wait.
	for i := range 20 {
		_, err := svc.SignInWithPassword(ctx, fmt.Sprintf("nobody%d@example.com", i), "wrong password here", Client{IP: "203.0.113.9"})
		wantCode(t, err, "password_invalid")
	}
	_, err = svc.SignInWithPassword(ctx, "alice@example.com", "a brand new phrase 9", Client{IP: "203.0.113.9"})
	wantCode(t, err, "too_many_attempts")
}

// enrolTOTP sets up and confirms an authenticator app for u and returns its secret.
func enrolTOTP(t *testing.T, svc *Service, c *clock, u *latchkey.User) string {
	t.Helper()
	ctx := context.Background()
	e, err := svc.BeginTOTPEnrollment(ctx, tapSession(c, u), u)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(e.Secret, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ConfirmTOTPEnrollment(ctx, tapSession(c, u), u, code); err != nil {
		t.Fatal(err)
	}
	return e.Secret
}

func TestTOTPEnrollment(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	enableLegacy(t, svc, 15)
	u := addUser(t, svc, "alice@example.com")
	if err := svc.SetPassword(ctx, tapSession(c, u), u, goodPassword); err != nil {
		t.Fatal(err)
	}
	e, err := svc.BeginTOTPEnrollment(ctx, tapSession(c, u), u)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URL, "otpauth://totp/Latchkey:alice@example.com?") || !strings.Contains(e.URL, "issuer=Latchkey") ||
		!strings.Contains(e.URL, "secret="+e.Secret) {
		t.Errorf("otpauth URL %q", e.URL)
	}
	if strings.ReplaceAll(e.SecretGroups, " ", "") != e.Secret || !strings.HasPrefix(e.QRCode, "data:image/png;base64,iVBOR") {
		t.Errorf("groups %q of %q, QR %.40q", e.SecretGroups, e.Secret, e.QRCode)
	}
	again, err := svc.PendingTOTPEnrollment(ctx, u)
	if err != nil || again.Secret != e.Secret {
		t.Errorf("PendingTOTPEnrollment = %v, %v; want the same secret", again, err)
	}

	// Unconfirmed, the app is unusable: the password alone signs in.
	res, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client)
	if err != nil || res.Done == nil {
		t.Fatalf("password sign-in with an unconfirmed app: %+v, %v; want a finished sign-in", res, err)
	}
	wantCode(t, svc.ConfirmTOTPEnrollment(ctx, tapSession(c, u), u, "000000x"), "totp_invalid")
	wrong, _ := totp.GenerateCode(e.Secret, c.Now().Add(-5*time.Minute))
	wantCode(t, svc.ConfirmTOTPEnrollment(ctx, tapSession(c, u), u, wrong), "totp_invalid")
	code, _ := totp.GenerateCode(e.Secret, c.Now())
	if err := svc.ConfirmTOTPEnrollment(ctx, tapSession(c, u), u, code[:3]+" "+code[3:]); err != nil {
		t.Fatalf("confirm with a spaced code: %v", err)
	}
	_, err = svc.BeginTOTPEnrollment(ctx, tapSession(c, u), u)
	wantCode(t, err, "totp_already_set_up")

	// A password-alone session may set up a first app within 5 minutes, never replace one.
	v := addUser(t, svc, "victor@example.com")
	pwSess := &latchkey.Session{UserID: v.ID, Methods: []string{latchkey.MethodPassword}, AuthenticatedAt: c.Now()}
	if _, err := svc.BeginTOTPEnrollment(ctx, pwSess, v); err != nil {
		t.Errorf("first app from a fresh password session: %v", err)
	}
	pwSess.AuthenticatedAt = c.Now().Add(-6 * time.Minute)
	_, err = svc.BeginTOTPEnrollment(ctx, pwSess, v)
	wantCode(t, err, "strong_signin_required")

	if err := svc.RemoveTOTP(ctx, tapSession(c, u), u); err != nil {
		t.Fatal(err)
	}
	if creds, _ := svc.Store.FindLegacyCredentials(ctx, u.ID); creds.TOTPSecret != "" {
		t.Errorf("secret after removal: %+v", creds)
	}
}

func TestTOTPSignIn(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	enableLegacy(t, svc, 15)
	u := addUser(t, svc, "alice@example.com")
	if err := svc.SetPassword(ctx, tapSession(c, u), u, goodPassword); err != nil {
		t.Fatal(err)
	}
	secret := enrolTOTP(t, svc, c, u)
	signIn := func(codeAt time.Time) (*SignIn, error) {
		t.Helper()
		res, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client)
		if err != nil {
			t.Fatal(err)
		}
		if res.Done != nil || res.TOTPToken == "" {
			t.Fatalf("a person with an app got %+v, want the code step", res)
		}
		code, _ := totp.GenerateCode(secret, codeAt)
		return svc.SignInWithTOTP(ctx, res.TOTPToken, code, client)
	}
	// The code of the confirmation's step was used already.
	_, err := signIn(c.Now())
	wantCode(t, err, "totp_reused")

	c.Add(5 * time.Minute)
	for _, tc := range []struct {
		name   string
		offset time.Duration
		code   string
	}{
		{"two steps early", -60 * time.Second, "totp_invalid"},
		{"two steps late", 60 * time.Second, "totp_invalid"},
		{"one step early", -30 * time.Second, ""},
		{"one step early again", -30 * time.Second, "totp_reused"},
		{"now", 0, ""},
		{"now again", 0, "totp_reused"},
		{"one step late", 30 * time.Second, ""},
		{"now after a later one", 0, "totp_reused"},
	} {
		si, err := signIn(c.Now().Add(tc.offset))
		if tc.code != "" {
			wantCode(t, err, tc.code)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m := strings.Join(si.Session.Methods, ","); m != "password,totp" {
			t.Errorf("%s: methods %s, want password,totp", tc.name, m)
		}
		if err := svc.MayRegister(si.Session); err != nil {
			t.Errorf("%s: a fresh password + TOTP session may not register: %v", tc.name, err)
		}
	}

	// A token finishes one sign-in only, and is refused when altered or expired.
	c.Add(time.Minute)
	res, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(secret, c.Now())
	if _, err := svc.SignInWithTOTP(ctx, res.TOTPToken, code, client); err != nil {
		t.Fatal(err)
	}
	c.Add(30 * time.Second)
	code, _ = totp.GenerateCode(secret, c.Now())
	_, err = svc.SignInWithTOTP(ctx, res.TOTPToken, code, client)
	wantCode(t, err, "signin_expired")
	altered := []byte(res.TOTPToken)
	altered[len(altered)/2] ^= 1
	_, err = svc.SignInWithTOTP(ctx, string(altered), code, client)
	wantCode(t, err, "signin_expired")
	res, _ = svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client)
	c.Add(SecondStepLifetime)
	code, _ = totp.GenerateCode(secret, c.Now())
	_, err = svc.SignInWithTOTP(ctx, res.TOTPToken, code, client)
	wantCode(t, err, "signin_expired")

	// Wrong codes are counted per user like passwords, up to 100: the 100th is still answered
	// as a wrong code, and an expired step is no guess.
	res, _ = svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, client)
	for range 99 {
		if _, _, err := svc.Store.ReserveAttempt(ctx, totpUserKey(u.ID), c.Now(), latchkey.AttemptRule{Free: math.MaxInt32}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = svc.SignInWithTOTP(ctx, res.TOTPToken, wrongCode(t, secret, c.Now()), Client{IP: "198.51.100.1"})
	wantCode(t, err, "totp_invalid")
	c.Add(time.Hour)
	_, err = svc.SignInWithTOTP(ctx, res.TOTPToken, wrongCode(t, secret, c.Now()), Client{IP: "198.51.100.1"})
	wantCode(t, err, "signin_expired")
	res, _ = svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, Client{IP: "198.51.100.1"})
	_, err = svc.SignInWithTOTP(ctx, res.TOTPToken, wrongCode(t, secret, c.Now()), Client{IP: "198.51.100.1"})
	wantCode(t, err, "totp_invalid")
	if th, _ := svc.Store.FindThrottle(ctx, totpUserKey(u.ID)); th.Failures != MaxTAPFailures {
		t.Errorf("%d consecutive wrong codes counted, want %d", th.Failures, MaxTAPFailures)
	}
	c.Add(time.Hour)
	code, _ = totp.GenerateCode(secret, c.Now())
	res, _ = svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, Client{IP: "198.51.100.1"})
	_, err = svc.SignInWithTOTP(ctx, res.TOTPToken, code, Client{IP: "198.51.100.1"})
	wantCode(t, err, "totp_locked")

	// TOTP turned off for the person: the password alone signs in again.
	p, _ := svc.MethodsPolicy(ctx)
	p.TOTP.State = policy.StateDisabled
	if err := setMethodsPolicy(ctx, svc, p); err != nil {
		t.Fatal(err)
	}
	if res, err := svc.SignInWithPassword(ctx, "alice@example.com", goodPassword, Client{IP: "198.51.100.2"}); err != nil || res.Done == nil {
		t.Errorf("with TOTP off: %+v, %v; want a finished password sign-in", res, err)
	}
}

// wrongCode returns a 6-digit code that is none of the codes accepted at now.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	taken := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		code, err := totp.GenerateCode(secret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		taken[code] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !taken[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestRegisteredLegacyMethods(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	enableLegacy(t, svc, 15)
	u := addUser(t, svc, "alice@example.com")
	describe := func() string {
		pol, pu, err := svc.policyFor(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := registered.LegacyMethods(ctx, svc.Store, u, pu, pol)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, strings.Join(m.Context.Methods, "+"))
		}
		return strings.Join(out, " ")
	}
	if got := describe(); got != "" {
		t.Errorf("nothing set up: %q", got)
	}
	if err := svc.SetPassword(ctx, tapSession(c, u), u, goodPassword); err != nil {
		t.Fatal(err)
	}
	if got := describe(); got != "password" {
		t.Errorf("password: %q", got)
	}
	enrolTOTP(t, svc, c, u)
	if got := describe(); got != "password+totp" {
		t.Errorf("password and app: %q", got)
	}
}
