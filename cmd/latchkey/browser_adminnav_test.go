package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestBrowserAdminNavByRole: a reports reader signs in, finds the Admin link on My security
// info, and on the sign-in log sees exactly the admin pages their role allows (Users and
// Sign-ins, Audit log); the global admin sees them all. Both are laid out within the window on a desktop
// (1280 px) and a phone (390 px). With LATCHKEY_SCREENSHOT_DIR set, the pages are saved there as
// PNG to look at.
func TestBrowserAdminNavByRole(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	reader, pass := newUser(t, s, "reader@example.com", "Rita Reader")
	if err := s.Store.AssignRole(context.Background(), &latchkey.RoleAssignment{UserID: reader.ID, Role: latchkey.RoleReportsReader}); err != nil {
		t.Fatal(err)
	}
	b.signInWithTAP(s, reader.UserPrincipalName, pass)
	b.waitVisible("#nav-admin")
	if n := b.count("#admin-nav"); n != 0 {
		t.Errorf("My security info shows the admin pages' row (%d)", n)
	}
	checkAdminNav(t, b, s, "reports-reader", []string{"nav-users", "nav-signins", "nav-audit", "nav-provisioning"})

	ab := b.newIsolatedTab()
	ab.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	checkAdminNav(t, ab, s, "global-admin", []string{"nav-users", "nav-helpdesk", "nav-roles", "nav-units", "nav-policy", "nav-recovery", "nav-ca",
		"nav-inspect", "nav-apps", "nav-signins", "nav-tokens", "nav-audit", "nav-provisioning"})

	// A person with no role has no Admin link; typing /admin tells them where to go instead.
	bob, bobPass := newUser(t, s, "bob@example.com", "Bob")
	nb := b.newIsolatedTab()
	nb.signInWithTAP(s, bob.UserPrincipalName, bobPass)
	if n := nb.count("#nav-admin"); n != 0 {
		t.Error("a person with no role sees the Admin link")
	}
	nb.navigate(s.URL + "/admin")
	nb.waitPage("/admin", "#to-security-info")
	if got := nb.text("#page-error p"); got != "The admin pages are for administrators. To manage your own passkeys, go to My security info." {
		t.Errorf("refusal says %q", got)
	}
	screenshot(t, nb, "no-role-admin")
	nb.click("#to-security-info")
	nb.waitPage("/my/security-info", "#signed-in-as")
}

// screenshot saves the tab as name.png in LATCHKEY_SCREENSHOT_DIR, when that is set.
func screenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	dir := os.Getenv("LATCHKEY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var png []byte
	b.step("screenshot", func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		return err
	})
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkAdminNav shows the sign-in log at 1280 and 390 px wide and checks that its admin
// navigation has the links want, marks Sign-ins as current, keeps every top-bar item on screen,
// and that the page has no state-changing form; it saves screenshots named after who when
// LATCHKEY_SCREENSHOT_DIR is set.
func checkAdminNav(t *testing.T, b *browser, s *testServer, who string, want []string) {
	t.Helper()
	for _, width := range []int64{1280, 390} {
		b.step("set the window to "+strconv.FormatInt(width, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 800))
			return err
		})
		b.navigate(s.URL + "/admin/signins")
		b.waitPage("/admin/signins", "#signin-filter")
		ids := eval[[]string](b, `[...document.querySelectorAll("#admin-nav a")].map(a => a.id)`)
		if !slices.Equal(ids, want) {
			t.Errorf("%s, %d px: admin links %v, want %v", who, width, ids, want)
		}
		if cur := b.attr("#nav-signins", "aria-current"); cur != "page" {
			t.Errorf("%s, %d px: Sign-ins is not marked as the current page (%q)", who, width, cur)
		}
		// Every item of the top bar is on screen: nothing pushed off the side or hidden.
		off := eval[[]string](b, `[...document.querySelectorAll("header.top a, header.top button")].filter(e => {
			const r = e.getBoundingClientRect();
			return r.width === 0 || r.left < 0 || r.right > document.documentElement.clientWidth;
		}).map(e => e.id || e.textContent)`)
		if len(off) != 0 {
			t.Errorf("%s, %d px: top bar items off screen: %v", who, width, off)
		}
		if n := eval[int](b, `document.querySelectorAll("form[method=post]:not([action='/signout'])").length`); n != 0 {
			t.Errorf("%s, %d px: the sign-in log has %d state-changing forms", who, width, n)
		}
		screenshot(t, b, "admin-nav-"+who+"-"+strconv.FormatInt(width, 10))
	}
}
