package main

import (
	"context"
	"log/slog"
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

// TestBrowserOnboardingMail is a new person's first day, through `latchkey serve --smtp`: created
// with a start date three days ahead and a manager, nothing is sent until the service clock
// reaches the start date's 09:00; then their pass goes by mail (STARTTLS) to the manager; the
// person opens the sign-in address the mail gives (their user name filled in), types the pass,
// and sets up a passkey; their onboarding state then says so.
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
	boss := &latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@mail.example.com", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, boss); err != nil {
		t.Fatal(err)
	}
	day := clock.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Enabled: true, StartDate: day, ManagerID: boss.ID}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, ada); err != nil {
		t.Fatal(err)
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
	st, err := s.Directory.OnboardingState(ctx, latchkey.SystemActor, ada.ID)
	if err != nil || st.Stage != directory.OnboardingPasskeyRegistered {
		t.Errorf("onboarding state %+v, %v; want passkeyRegistered", st, err)
	}
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
