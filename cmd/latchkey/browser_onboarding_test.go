package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mailtest"
)

// movingClock is real time plus an offset the test moves forward: Latchkey sees the days go by
// while Chromium's and go-webauthn's own checks keep the real time.
type movingClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *movingClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(t)
}

// TestBrowserOnboardingMail is a new person's first day, through `latchkey serve --smtp`: HR
// creates them over SCIM with a start date three days ahead and a manager; nothing is sent until the service clock
// reaches the start date's 09:00; then their pass goes by mail (STARTTLS) to the manager; the
// person opens the sign-in address the mail gives (their user name filled in), types the pass,
// and sets up a passkey; their onboarding state then says so. When HR then sends active:false,
// their open session ends at once.
func TestBrowserOnboardingMail(t *testing.T) {
	srv := mailtest.Start(t)
	t.Setenv("LATCHKEY_SMTP", srv.URL())
	clock := &movingClock{}
	logs := &syncBuffer{}
	s := &Serve{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Clock: clock.Now,
		mailEvery: 20 * time.Millisecond}
	if err := s.ParseFlags([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--mail-from", "latchkey@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	ctx := context.Background()
	// HR provisions the manager and the new hire over SCIM, as Entra sends them: the manager by
	// id in the enterprise extension, the start date as a date-time taken by its date.
	secret, _, err := s.Directory.CreateToken(ctx, latchkey.CLIActor, "HR", []string{latchkey.ScopeUserReadWriteAll, latchkey.ScopeGroupReadWriteAll},
		directory.TokenExpiry{Never: true})
	if err != nil {
		t.Fatal(err)
	}
	scim := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.PublicURL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, bossDoc := scim("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.com",`+
		`"active":true,"displayName":"Grace Hopper","emails":[{"primary":true,"type":"work","value":"grace@mail.example.com"}]}`)
	if st != http.StatusCreated {
		t.Fatalf("create the manager by SCIM: %d %v", st, bossDoc)
	}
	day := clock.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	st, adaDoc := scim("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:ietf:params:scim:schemas:extension:latchkey:2.0:User"],`+
		`"externalId":"E1042","userName":"ada@example.com","active":"True","displayName":"Ada Lovelace","password":"Spring2027!",`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1042","manager":{"value":"`+bossDoc["id"].(string)+`"}},`+
		`"urn:ietf:params:scim:schemas:extension:latchkey:2.0:User":{"startDate":"`+day+`T00:00:00Z"}}`)
	if st != http.StatusCreated {
		t.Fatalf("create the new hire by SCIM: %d %v", st, adaDoc)
	}
	ada, err := s.Store.FindUserByUPN(ctx, "ada@example.com")
	if err != nil || ada.StartDate != day || ada.ManagerID != bossDoc["id"] {
		t.Fatalf("the new hire as stored: %+v, %v", ada, err)
	}
	// The worker looks every 20 ms: a few rounds send nothing before the day.
	if err := s.Outbox.RunOnce(ctx); err != nil || srv.Attempts() != 0 {
		t.Fatalf("before the start date: %d mails, %v", srv.Attempts(), err)
	}
	start, err := time.Parse(time.RFC3339, day+"T09:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	clock.advanceTo(start.Add(time.Minute))

	msg := srv.Wait(t, 1, 10*time.Second)[0]
	if len(msg.To) != 1 || msg.To[0] != "grace@mail.example.com" || msg.From != "latchkey@example.com" || !msg.TLS {
		t.Fatalf("mail from %s to %v over TLS %v", msg.From, msg.To, msg.TLS)
	}
	addr := regexp.MustCompile(`(?m)^  Sign in at:\s+(\S+)\r?$`).FindStringSubmatch(msg.Text)
	pass := regexp.MustCompile(`(?m)^  Pass:\s+(\S+)\r?$`).FindStringSubmatch(msg.Text)
	if addr == nil || pass == nil || !strings.HasPrefix(addr[1], s.PublicURL+"/signin/tap?") {
		t.Fatalf("no sign-in address on %s or no pass in the mail:\n%s", s.PublicURL, msg.Text)
	}
	if strings.Contains(logs.String(), pass[1]) {
		t.Error("the server log holds the pass")
	}

	b := startBrowser(t)
	b.navigate(addr[1])
	b.waitVisible("#tap-form")
	if got := eval[string](b, `document.querySelector("#tap-username").value`); got != ada.UserPrincipalName {
		t.Errorf("the sign-in address fills in %q; want %q", got, ada.UserPrincipalName)
	}
	b.typeInto("#tap-pass", pass[1])
	b.click("#tap-submit")
	b.waitPage("/my/security-info", "#wizard")
	b.addAuthenticator(deviceBound())
	b.addPasskey()
	pks, err := s.Store.ListPasskeysByUser(ctx, ada.ID)
	if err != nil || len(pks) != 1 {
		t.Fatalf("ada has %d passkeys, %v; want 1", len(pks), err)
	}
	ob, err := s.Directory.OnboardingState(ctx, latchkey.SystemActor, ada.ID)
	if err != nil || ob.Stage != directory.OnboardingPasskeyRegistered {
		t.Errorf("onboarding state %+v, %v; want passkeyRegistered", ob, err)
	}

	// She leaves: HR's active:false (Entra's PATCH, a string boolean) ends her live session at once.
	b.navigate(s.PublicURL + "/my/security-info")
	b.waitJS("ada's security info", `document.readyState === "complete" && location.pathname === "/my/security-info"`)
	if st, out := scim("PATCH", "/scim/v2/Users/"+ada.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],`+
		`"Operations":[{"op":"Replace","path":"active","value":"False"}]}`); st != http.StatusOK || out["active"] != false {
		t.Fatalf("active:false by SCIM: %d %v", st, out)
	}
	b.navigate(s.PublicURL + "/my/security-info")
	b.waitJS("ada sent to sign in", `location.pathname.startsWith("/signin")`)
}

// TestBrowserOnboardingPages: the admin home lists the new person who needs a pass by hand and
// its link opens their page, which says so; the policy page shows and changes the onboarding
// settings. At a desktop's width (1280 px) and a phone's (390 px); with LATCHKEY_SCREENSHOT_DIR
// set, the pages are saved there to look at.
func TestBrowserOnboardingPages(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	day := s.Auth.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	boss := &latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@mail.example.com", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, boss); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*latchkey.User{
		{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", StartDate: day, ManagerID: boss.ID, Enabled: true},
		{UserPrincipalName: "lone@example.com", DisplayName: "Lone Starter", StartDate: day, Enabled: true},
	} {
		if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, u); err != nil {
			t.Fatal(err)
		}
	}
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	for _, width := range []int64{1280, 390} {
		w := strconv.FormatInt(width, 10)
		b.step("set the window to "+w+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 800))
			return err
		})
		b.navigate(s.URL + "/admin")
		b.waitPage("/admin", "#att-pass-by-hand")
		if got := b.text("#att-pass-by-hand strong"); got != "1" {
			t.Errorf("%s px: the admin home counts %q people needing a pass by hand; want 1", w, got)
		}
		fullScreenshot(t, b, "onboarding-admin-home-"+w)
		b.click(`#att-pass-by-hand li[data-user="lone@example.com"] a`)
		b.waitVisible("#target-onboarding")
		if got := b.text("#target-onboarding"); !strings.Contains(got, "Needs a pass by hand") {
			t.Errorf("%s px: lone's page says %q", w, got)
		}
		fullScreenshot(t, b, "onboarding-person-needs-pass-"+w)
		b.navigate(s.URL + "/admin/users/" + s.user(t, "ada@example.com").ID)
		b.waitVisible("#target-onboarding")
		if got := b.text("#target-onboarding"); !strings.Contains(got, "waits until") {
			t.Errorf("%s px: ada's page says %q", w, got)
		}
		fullScreenshot(t, b, "onboarding-person-waiting-"+w)
		screenshot(t, b, "onboarding-person-waiting-top-"+w)
		b.navigate(s.URL + "/admin/policy")
		b.waitVisible("#onboarding")
		b.click("#change-onboarding summary")
		b.waitVisible("#policy-onboarding")
		fullScreenshot(t, b, "onboarding-policy-"+w)
	}
	// A change through the form, as an admin makes it.
	b.typeInto(`#policy-onboarding input[name="organizationName"]`, "Example Ltd")
	b.click("#policy-onboarding-submit")
	b.waitVisible("#policy-notice")
	if p, err := s.Auth.MethodsPolicy(ctx); err != nil || p.TemporaryAccessPass.Onboarding.OrganizationName != "Example Ltd" {
		t.Errorf("stored onboarding %+v, %v", p.TemporaryAccessPass.Onboarding, err)
	}
}

// fullScreenshot saves the whole page as name.png in LATCHKEY_SCREENSHOT_DIR, when that is set.
func fullScreenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	dir := os.Getenv("LATCHKEY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var png []byte
	b.step("screenshot", func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		return err
	})
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
