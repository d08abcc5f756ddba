package main

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestBrowserAuditLog: the global admin makes changes and finds them on the audit log page,
// filters it by action, and opens an event's details; the page fits a desktop (1280 px) and a
// phone (390 px) window. With LATCHKEY_SCREENSHOT_DIR set, the pages are saved there as PNG.
func TestBrowserAuditLog(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	ctx := context.Background()
	if err := s.Directory.CreateGroup(ctx, latchkey.CLIActor, &latchkey.Group{DisplayName: "Finance"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Directory.CreateUnit(ctx, latchkey.CLIActor, "Berlin office"); err != nil {
		t.Fatal(err)
	}
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	for _, width := range []int64{1280, 390} {
		b.step("set the window to "+strconv.FormatInt(width, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 800))
			return err
		})
		b.navigate(s.URL + "/admin/audit")
		b.waitPage("/admin/audit", "#audit-filter")
		actions := eval[[]string](b, `[...document.querySelectorAll("#audit-log tr[data-action]")].map(r => r.dataset.action)`)
		if len(actions) < 2 || actions[0] != "unit.create" || actions[1] != "group.create" {
			t.Errorf("%d px: audit rows %v, want unit.create then group.create first (newest first)", width, actions)
		}
		if cur := b.attr("#nav-audit", "aria-current"); cur != "page" {
			t.Errorf("%d px: Audit log is not marked as the current page (%q)", width, cur)
		}
		if over := eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`); over {
			t.Errorf("%d px: the audit log page is wider than the window", width)
		}
		screenshot(t, b, "admin-audit-"+strconv.FormatInt(width, 10))
	}
	b.navigate(s.URL + "/admin/audit?action=group.create")
	b.waitPage("/admin/audit", "#audit-filter")
	if n := b.count("#audit-log tr[data-action]"); n != 1 {
		t.Errorf("filtered by group.create: %d rows, want 1", n)
	}
	b.click("#audit-log details summary")
	if got := b.text("#audit-log pre.audit-summary"); got != `{"description":""}` {
		t.Errorf("details show %q", got)
	}
	screenshot(t, b, "admin-audit-filtered-390")
}
