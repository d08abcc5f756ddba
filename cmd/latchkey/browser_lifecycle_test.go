package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminDisablesSignedInPerson: an admin issues a pass on the person's page (shown
// once after a redirect, with the sign-in address), the person signs in with it in another
// browser context, the admin turns the account off after a confirmation page that says what will
// happen, and the person's next request is refused. Turning the account on again does not bring
// the session back. With LATCHKEY_SCREENSHOT_DIR set, the person's page and the confirmation are
// saved at 1280 and 390 px.
func TestBrowserAdminDisablesSignedInPerson(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.navigate(s.URL + "/admin/users")
	b.waitPage("/admin/users", "#add-user")
	b.typeInto(`#add-user input[name="upn"]`, "bob@example.com")
	b.typeInto(`#add-user input[name="displayName"]`, "Bob Smith")
	b.click(`#add-user button[type="submit"]`)
	b.waitJS("bob's page", "!"+staleMark+` && document.readyState === "complete" && location.pathname.startsWith("/admin/users/") && !!document.querySelector("#issue-tap")`)
	bob := s.user(t, "bob@example.com")
	page := "/admin/users/" + bob.ID

	b.click("#issue-tap-submit")
	b.waitVisible("output#tap-value")
	pass := b.text("output#tap-value")
	if got, want := b.text("output#tap-address"), s.URL+"/signin/tap?username=bob%40example.com"; got != want {
		t.Errorf("sign-in address = %q, want %q", got, want)
	}
	if loc := b.location(); !strings.HasSuffix(loc, page) {
		t.Errorf("after issuing a pass the page is %s, want %s (a GET after a redirect)", loc, page)
	}
	screenshot(t, b, "person-new-pass")
	// A reload neither shows the pass again nor issues another.
	b.navigate(s.URL + page)
	b.waitPage(page, "#issue-tap")
	if n := b.count("output#tap-value"); n != 0 {
		t.Errorf("the pass is shown again after a reload")
	}

	bb := b.newIsolatedTab()
	bb.signInWithTAP(s, "bob@example.com", pass)

	for _, width := range []int64{1280, 390} {
		b.step("set the window to "+strconv.FormatInt(width, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900))
			return err
		})
		b.navigate(s.URL + page)
		b.waitPage(page, "#disable-user")
		screenshot(t, b, "person-page-"+strconv.FormatInt(width, 10))
		b.exec(`document.querySelector("#edit-user").scrollIntoView()`)
		screenshot(t, b, "person-actions-"+strconv.FormatInt(width, 10))
	}
	b.click("#disable-user")
	b.waitPage(page+"/confirm", "#confirm-disable")
	if got := b.text("#confirm-summary"); !strings.Contains(got, "Every session and sign-in of this person ends now") {
		t.Errorf("the confirmation says %q, want what will happen", got)
	}
	screenshot(t, b, "person-confirm-disable-390")
	b.click(`#confirm-disable input[name="confirm"]`)
	b.click("#confirm-submit")
	b.waitJS("bob's page after turning off", "!"+staleMark+` && document.readyState === "complete" && location.pathname === "`+page+`" && !!document.querySelector("#enable-user")`)
	if got := b.text("#target-enabled"); !strings.Contains(got, "turned off") {
		t.Errorf("account state on the page = %q", got)
	}

	// Bob's next request is refused: his session ended.
	bb.navigate(s.URL + "/my/security-info")
	bb.waitJS("bob sent to sign in", `location.pathname.startsWith("/signin")`)
	// Signing in again is refused in words (his pass was revoked; a new one would be too).
	b.click("#enable-user-submit")
	b.waitJS("bob's page after turning on", "!"+staleMark+` && document.readyState === "complete" && !!document.querySelector("#disable-user")`)
	bb.navigate(s.URL + "/my/security-info")
	bb.waitJS("bob still signed out", `location.pathname.startsWith("/signin")`)
}

// TestBrowserGroupsPages: an admin reaches the groups from the users page, creates a group, adds
// a person on the group's page, renames it, and deletes it after a confirmation. With
// LATCHKEY_SCREENSHOT_DIR set, the group's page is saved at 1280 and 390 px.
func TestBrowserGroupsPages(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.navigate(s.URL + "/admin/users")
	b.waitPage("/admin/users", "#groups-link")
	b.click("#groups-link")
	b.waitPage("/admin/groups", "#create-group")
	b.typeInto(`#create-group input[name="name"]`, "Night shift")
	b.typeInto(`#create-group input[name="description"]`, "People who work after 22:00")
	b.click("#create-group-submit")
	b.waitJS("the group's page", "!"+staleMark+` && document.readyState === "complete" && location.pathname.startsWith("/admin/groups/") && !!document.querySelector("#add-member")`)
	b.typeInto(`#add-member input[name="user"]`, "admin")
	b.click("#add-member-submit")
	b.waitJS("the member listed", "!"+staleMark+` && document.readyState === "complete" && !!document.querySelector('[data-member="admin"]')`)
	for _, width := range []int64{1280, 390} {
		b.step("set the window to "+strconv.FormatInt(width, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900))
			return err
		})
		b.navigate(b.location())
		b.waitVisible("#rename-group")
		screenshot(t, b, "group-page-"+strconv.FormatInt(width, 10))
	}
	b.exec(`document.querySelector('#rename-group input[name="name"]').value = ""`)
	b.typeInto(`#rename-group input[name="name"]`, "Late shift")
	b.click("#rename-group-submit")
	b.waitJS("the renamed group", "!"+staleMark+` && document.readyState === "complete" && document.querySelector("h1").textContent === "Late shift"`)
	b.click("#delete-group")
	b.waitVisible("#confirm-delete-group")
	screenshot(t, b, "group-delete-390")
	b.click(`#confirm-delete-group input[name="confirm"]`)
	b.click("#confirm-submit")
	b.waitJS("the groups list", "!"+staleMark+` && document.readyState === "complete" && location.pathname === "/admin/groups"`)
	if n := b.count("table#groups a"); n != 0 {
		t.Errorf("%d group(s) listed after the delete, want none", n)
	}
}
