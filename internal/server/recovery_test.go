package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/recovery"
)

// TestRecoverySettingsAPIAndPage: My Staff and the kiosk's lifetime are part of the pass section
// of the methods policy: off and 15 minutes by default; a lifetime outside 1..15 or an unknown
// state is refused with 400 invalid_recovery; the policy page's form changes them and refuses a
// group that does not exist.
func TestRecoverySettingsAPIAndPage(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	var p policy.MethodsPolicy
	admin.get("/api/v1/policies/authenticationMethods").decode(t, &p)
	if ms := p.TemporaryAccessPass.MyStaff; ms.Enabled() || ms.Lifetime() != 15 || p.TemporaryAccessPass.Kiosk.Lifetime() != 15 {
		t.Errorf("default recovery settings %+v, %+v", ms, p.TemporaryAccessPass.Kiosk)
	}
	for _, body := range []string{`{"myStaff": {"lifetimeInMinutes": 20}}`, `{"myStaff": {"state": "maybe"}}`, `{"kiosk": {"lifetimeInMinutes": 16}}`} {
		r := admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{"temporaryAccessPass": `+body+`}`)
		if m := r.object(t); r.status != http.StatusBadRequest || m["error"] != "invalid_recovery" {
			t.Errorf("%s: %d %s; want 400 invalid_recovery", body, r.status, r.body)
		}
	}
	r := admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{"temporaryAccessPass": {"myStaff": {"state": "enabled", "includeGroups": [], "lifetimeInMinutes": 5}, "kiosk": {"lifetimeInMinutes": 7}}}`)
	if r.status != http.StatusOK {
		t.Fatalf("good change: %d %s", r.status, r.body)
	}
	if tp := h.storedPolicy().TemporaryAccessPass; !tp.MyStaff.Enabled() || tp.MyStaff.LifetimeInMinutes != 5 || tp.Kiosk.LifetimeInMinutes != 7 {
		t.Errorf("stored %+v, %+v", tp.MyStaff, tp.Kiosk)
	}

	form := url.Values{"myStaffOn": {"yes"}, "myStaffGroups": {"no-such-group"}, "myStaffLifetime": {"10"}, "kioskLifetime": {"12"}}
	if r := admin.postForm("/admin/policy/recovery", form); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "does not exist") {
		t.Fatalf("unknown group: %d %.600s", r.status, r.body)
	}
	g := &latchkey.Group{DisplayName: "Team leads"}
	if err := h.store.CreateGroup(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	form.Set("myStaffGroups", g.ID)
	if r := admin.postForm("/admin/policy/recovery", form); r.status != http.StatusSeeOther {
		t.Fatalf("good change: %d %.600s", r.status, r.body)
	}
	tp := h.storedPolicy().TemporaryAccessPass
	if tp.MyStaff.LifetimeInMinutes != 10 || tp.Kiosk.LifetimeInMinutes != 12 || len(tp.MyStaff.IncludeGroups) != 1 || tp.MyStaff.IncludeGroups[0] != g.ID {
		t.Errorf("stored %+v, %+v", tp.MyStaff, tp.Kiosk)
	}
	if body := string(admin.get("/admin/policy").body); !strings.Contains(body, "managers in Team leads may give") {
		t.Errorf("the policy page does not name the group of managers")
	}
}

// TestKioskHTTP: after a pass sign-in the kiosk POST is refused with the plain sentence; after a
// device-bound passkey sign-in it answers 200 with the pass, an inline PNG QR code and
// Cache-Control no-store, and sets no cookie that holds the pass.
func TestKioskHTTP(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("ada@example.com", false)
	d := h.newDevice()
	c.mustRegister(d)
	r := c.postForm("/my/security-info/new-phone", url.Values{})
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "You signed in with a pass or a password") {
		t.Fatalf("after a pass sign-in: %d %.800s", r.status, r.body)
	}
	laptop := h.newClient()
	d.cred.Counter = 1
	checkPasskeySignIn(t, laptop.signIn(d, u.UserPrincipalName), u)
	if body := string(laptop.get("/my/security-info").body); !strings.Contains(body, `id="new-phone-start"`) {
		t.Fatal("the kiosk is not offered after a device-bound passkey sign-in")
	}
	r = laptop.postForm("/my/security-info/new-phone", url.Values{})
	body := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, `src="data:image/png;base64,`) || !strings.Contains(body, `id="kiosk-pass-value"`) {
		t.Fatalf("kiosk pass: %d %.800s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q; want no-store", cc)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("the kiosk answer sets cookies: %v", r.header.Values("Set-Cookie"))
	}
	if !strings.Contains(body, "username=ada%40example.com") {
		t.Error("the sign-in link does not fill in the user name")
	}
	if ap, err := h.store.FindAccessPassByUser(context.Background(), u.ID); err != nil || !ap.OneTime || ap.LifetimeMinutes != 15 {
		t.Errorf("stored pass %+v, %v; want one-time, 15 minutes", ap, err)
	}
}

// TestMyStaffHTTP: /my/staff lists a manager's reports; with My Staff off the pass POST is
// refused with 403 my_staff_off on the page; someone who is not the manager is refused.
func TestMyStaffHTTP(t *testing.T) {
	h := newHarness(t)
	mc, m := h.signedInClient("grace@example.com", false)
	rep := h.createUser("alan@example.com", false)
	if _, err := h.store.UpdateUser(context.Background(), rep.ID, func(u *latchkey.User) error { u.ManagerID = m.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	page := string(mc.get("/my/staff").body)
	if !strings.Contains(page, `data-user-id="`+rep.ID+`"`) || !strings.Contains(page, `id="nav-staff"`) || !strings.Contains(page, recovery.CodeStaffOff) {
		t.Fatalf("My Staff page: %.1200s", page)
	}
	if r := mc.postForm("/my/staff/"+rep.ID+"/pass", url.Values{}); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "does not let managers issue passes") {
		t.Fatalf("My Staff off: %d %.600s", r.status, r.body)
	}
	other, _ := h.signedInClient("eve@example.com", false)
	if body := string(other.get("/my/security-info").body); strings.Contains(body, `id="nav-staff"`) {
		t.Error("someone with no reports sees the My staff link")
	}
	if r := other.postForm("/my/staff/"+rep.ID+"/pass", url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("not the manager: %d %.600s", r.status, r.body)
	}
}
