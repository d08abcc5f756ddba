package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mailtest"
)

// seedMail queues, on a server without --smtp, two mails that wait, one that failed once and
// waits for its retry (about Bob) and one the outbox gave up on (about Carol).
func seedMail(t *testing.T, s *testServer) (bob, carol *latchkey.User) {
	t.Helper()
	ctx := context.Background()
	bob, _ = newUser(t, s, "bob@example.com", "Bob Smith")
	carol, _ = newUser(t, s, "carol@example.com", "Carol Jones")
	now := time.Now()
	later := now.Add(24 * time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Store.EnqueueMail(ctx,
		latchkey.MailItem{Kind: "onboarding", Key: "w1", NotBefore: later},
		latchkey.MailItem{Kind: "onboarding", Key: "w2", NotBefore: later},
		latchkey.MailItem{Kind: "onboarding", Key: "bob", SubjectID: bob.ID, NotBefore: now},
		latchkey.MailItem{Kind: "onboarding", Key: "carol", SubjectID: carol.ID, NotBefore: now}))
	claimed, err := s.Store.ClaimMail(ctx, now, "test", time.Minute, 10)
	must(err)
	for _, it := range claimed {
		switch it.SubjectID {
		case bob.ID:
			must(s.Store.MarkMailFailed(ctx, it.ID, "test", "The mail server did not take the mail. It answered: 451 4.0.0 try later",
				now.Add(time.Hour), false))
		case carol.ID:
			must(s.Store.MarkMailFailed(ctx, it.ID, "test", "The mail server did not take the mail. It answered: 550 5.1.1 no such mailbox",
				now, true))
		}
	}
	return bob, carol
}

// TestBrowserAdminHomeMail: without --smtp the admin home says mail is not set up, how many
// mails wait and what to do; it counts the mail the outbox gave up on and lists it, with the
// one waiting for a retry, the people they are about and the server's answers. With --smtp the
// "not set up" line is gone. Laid out at 1280 and 390 px (LATCHKEY_SCREENSHOT_DIR).
func TestBrowserAdminHomeMail(t *testing.T) {
	s := startServer(t)
	bob, carol := seedMail(t, s)
	b := startBrowser(t)
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	b.navigate(s.URL + "/admin")
	b.waitPage("/admin", "#attention")

	if got := b.attr("#att-mail-setup", "data-count"); got != "3" {
		t.Errorf("#att-mail-setup counts %q, want 3 waiting (two queued, one retrying)", got)
	}
	if got := b.text("#mail-setup h2"); got != "Mail is not set up: 3 messages are waiting" {
		t.Errorf("setup heading %q", got)
	}
	for _, w := range []string{"--smtp", "LATCHKEY_SMTP", "--mail-from", "latchkey mail test"} {
		if !strings.Contains(b.text("#mail-setup"), w) {
			t.Errorf("the setup advice lacks %q", w)
		}
	}
	if got := b.attr("#att-mail-failures", "data-count"); got != "1" {
		t.Errorf("#att-mail-failures counts %q, want 1 given up", got)
	}
	rows := eval[[]string](b, `[...document.querySelectorAll("#mail-problems tbody tr")].map(r => r.dataset.state + ": " + r.textContent.replace(/\s+/g, " ").trim())`)
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "pending: Bob Smith Onboarding mail (first pass) Tried 1 time; trying again") || !strings.Contains(rows[0], "451 4.0.0 try later") ||
		!strings.HasPrefix(rows[1], "failed: Carol Jones Onboarding mail (first pass) Gave up after 1 try") || !strings.Contains(rows[1], "550 5.1.1 no such mailbox") {
		t.Errorf("mail problems:\n%s", strings.Join(rows, "\n"))
	}
	if got := b.attr(`#mail-problems tr[data-state="failed"] a`, "href"); got != "/admin/users/"+carol.ID {
		t.Errorf("Carol's row links to %q", got)
	}
	_ = bob
	screenshots(t, b, "admin-home-mail")
	b.click("#att-mail-failures a")
	b.waitJS("the page scrolled to the mail problems", `location.hash === "#mail-problems"`)

	// With a mail server: no "not set up".
	t.Setenv("LATCHKEY_SMTP", mailtest.Start(t).URL())
	t.Setenv("LATCHKEY_MAIL_FROM", "latchkey@example.com")
	s2 := startServer(t)
	b2 := b.newIsolatedTab()
	b2.signInWithTAP(s2, directory.BootstrapUPN, s2.Pass)
	b2.navigate(s2.URL + "/admin")
	b2.waitPage("/admin", "#attention")
	if n := b2.count("#att-mail-setup, #mail-setup, #att-mail-failures, #mail-problems"); n != 0 {
		t.Errorf("with --smtp and no problem, the home shows %d mail parts", n)
	}
}
