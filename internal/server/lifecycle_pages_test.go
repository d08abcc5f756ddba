package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestLifecyclePages: the person's page and the groups pages change the directory through their
// forms; turning off and deleting need the confirmation box, nobody is offered turning off
// themself, and a role that does not allow an action is refused with an error page.
func TestLifecyclePages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, adminUser := h.signedInClient("admin@example.com", true)
	bob := h.createUser("bob@example.com", false)
	page := "/admin/users/" + bob.ID

	seeOther := func(r *response, to string) {
		t.Helper()
		if r.status != http.StatusSeeOther || r.header.Get("Location") != to {
			t.Errorf("status %d to %q, want 303 to %s (body %.300s)", r.status, r.header.Get("Location"), to, r.body)
		}
	}

	// Details.
	seeOther(admin.postForm(page+"/profile", url.Values{"displayName": {"Bob Builder"}, "department": {"Works"},
		"startDate": {"2027-01-04"}, "personalMail": {"bob@home.example"}}), page)
	if u, _ := h.store.FindUserByID(ctx, bob.ID); u.DisplayName != "Bob Builder" || u.Department != "Works" || u.StartDate != "2027-01-04" || u.PersonalMail != "bob@home.example" {
		t.Errorf("after the details form: %+v", u)
	}
	if r := admin.postForm(page+"/profile", url.Values{"startDate": {"soon"}}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "year-month-day") {
		t.Errorf("a bad start date: %d %.300s", r.status, r.body)
	}

	// Pass states in words, the pass after a redirect.
	seeOther(admin.postForm(page+"/tap", url.Values{"lifetime": {"60"}}), page)
	first := admin.get(page)
	if !strings.Contains(string(first.body), `id="tap-value"`) || !strings.Contains(string(first.body), h.origin+"/signin/tap?username=bob%40example.com") {
		t.Errorf("the page after issuing does not show the pass and its address: %.2000s", first.body)
	}
	if again := admin.get(page); strings.Contains(string(again.body), `id="tap-value"`) {
		t.Errorf("a reload shows the pass again")
	}

	// Groups from the person's page and the group's page.
	seeOther(admin.postForm("/admin/groups", url.Values{"name": {"Builders"}}), "/admin/groups/"+mustGroup(t, h, "Builders").ID)
	g := mustGroup(t, h, "Builders")
	gpage := "/admin/groups/" + g.ID
	seeOther(admin.postForm(page+"/groups", url.Values{"group": {g.ID}}), page)
	if r := admin.get(gpage); !strings.Contains(string(r.body), `data-member="bob@example.com"`) {
		t.Errorf("the group's page does not list bob: %.1000s", r.body)
	}
	// Taking bob out asks first, from either page, naming him and the group; without the box
	// ticked nothing changes.
	for _, c := range []struct{ from, link, action, back string }{
		{gpage, gpage + "/members/remove?user=" + bob.ID, gpage + "/members/remove", gpage},
		{page, gpage + "/members/remove?user=" + bob.ID + "&amp;from=person", page + "/groups/remove", page},
	} {
		if r := admin.get(c.from); !strings.Contains(string(r.body), `href="`+c.link+`"`) {
			t.Errorf("%s does not link to the confirmation %s: %.3000s", c.from, c.link, r.body)
		}
		r := admin.get(strings.ReplaceAll(c.link, "&amp;", "&"))
		body := string(r.body)
		if r.status != http.StatusOK || !strings.Contains(body, "bob@example.com") || !strings.Contains(body, "<strong>Builders</strong>") ||
			!strings.Contains(body, "no longer apply to them") || !strings.Contains(body, `action="`+c.action+`"`) ||
			!strings.Contains(body, `href="`+c.back+`">Cancel`) {
			t.Errorf("confirmation from %s: %d %.3000s", c.from, r.status, body)
		}
		checkErrorPage(t, admin.postForm(c.action, url.Values{"user": {bob.ID}, "group": {g.ID}}), "confirmation_required")
		if gs, _ := h.store.ListUserGroups(ctx, bob.ID); len(gs) != 1 {
			t.Errorf("an unconfirmed removal took bob out")
		}
		seeOther(admin.postForm(c.action, url.Values{"user": {bob.ID}, "group": {g.ID}, "confirm": {"yes"}}), c.back)
		if gs, _ := h.store.ListUserGroups(ctx, bob.ID); len(gs) != 0 {
			t.Errorf("bob still in %d group(s) after the confirmed removal from %s", len(gs), c.from)
		}
		checkErrorPage(t, admin.get(strings.ReplaceAll(c.link, "&amp;", "&")), "not_a_member")
		seeOther(admin.postForm(gpage+"/members", url.Values{"user": {"bob@example.com"}}), gpage)
	}
	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
	checkErrorPage(t, reader.get(gpage+"/members/remove?user="+bob.ID), "not_allowed")
	seeOther(admin.postForm(page+"/groups/remove", url.Values{"group": {g.ID}, "confirm": {"yes"}}), page)
	if gs, _ := h.store.ListUserGroups(ctx, bob.ID); len(gs) != 0 {
		t.Errorf("bob still in %d group(s)", len(gs))
	}
	seeOther(admin.postForm(gpage+"/rename", url.Values{"name": {"Makers"}}), gpage)
	h.createGroup("Others")
	if r := admin.postForm(gpage+"/rename", url.Values{"name": {"others"}}); r.status != http.StatusConflict {
		t.Errorf("renaming to a taken name: %d", r.status)
	}
	if r := admin.get(gpage + "/delete"); !strings.Contains(string(r.body), "stay, but are no longer in it") {
		t.Errorf("the delete confirmation does not say what will happen: %.1000s", r.body)
	}
	checkErrorPage(t, admin.postForm(gpage+"/delete", nil), "confirmation_required")
	seeOther(admin.postForm(gpage+"/delete", url.Values{"confirm": {"yes"}}), "/admin/groups")
	if _, err := h.store.FindGroupByID(ctx, g.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("group after delete: %v", err)
	}

	// Turning off and deleting: confirmed, never yourself, only with a role that allows it.
	if r := admin.get(page); !strings.Contains(string(r.body), `id="disable-user"`) || !strings.Contains(string(r.body), `id="delete-user"`) {
		t.Errorf("bob's page offers no account actions")
	}
	if r := admin.get("/admin/users/" + adminUser.ID); strings.Contains(string(r.body), `id="disable-user"`) || strings.Contains(string(r.body), `id="delete-user"`) {
		t.Errorf("the admin's own page offers turning off or deleting themself")
	}
	if r := admin.get(page + "/confirm?action=delete"); !strings.Contains(string(r.body), "This is final") {
		t.Errorf("the delete confirmation does not say what will happen: %.1000s", r.body)
	}
	checkErrorPage(t, admin.postForm(page+"/disable", nil), "confirmation_required")
	checkErrorPage(t, admin.postForm("/admin/users/"+adminUser.ID+"/disable", url.Values{"confirm": {"yes"}}), "not_yourself")
	checkErrorPage(t, admin.postForm("/admin/users/"+adminUser.ID+"/delete", url.Values{"confirm": {"yes"}}), "not_yourself")
	checkErrorPage(t, reader.postForm(page+"/disable", url.Values{"confirm": {"yes"}}), "not_allowed")
	checkErrorPage(t, reader.postForm(page+"/delete", url.Values{"confirm": {"yes"}}), "not_allowed")
	if r := reader.get(page); strings.Contains(string(r.body), `id="disable-user"`) {
		t.Errorf("a reports reader is offered turning an account off")
	}
	seeOther(admin.postForm(page+"/disable", url.Values{"confirm": {"yes"}}), page)
	if u, _ := h.store.FindUserByID(ctx, bob.ID); u.Enabled {
		t.Errorf("bob still enabled")
	}
	seeOther(admin.postForm(page+"/enable", nil), page)
	seeOther(admin.postForm(page+"/delete", url.Values{"confirm": {"yes"}}), "/admin/users")
	if _, err := h.store.FindUserByID(ctx, bob.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("bob after delete: %v", err)
	}
}

// mustGroup finds the stored group name.
func mustGroup(t *testing.T, h *harness, name string) *latchkey.Group {
	t.Helper()
	g, err := h.store.FindGroupByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
