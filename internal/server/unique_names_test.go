package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesRefuseDuplicateNames: the strengths and named locations pages refuse a name already
// taken, in any case (a built-in strength's too), with a plain sentence and 409, and keep what
// was typed.
func TestPagesRefuseDuplicateNames(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	if r := admin.postForm("/admin/locations", url.Values{"name": {"Office"}, "ranges": {"192.0.2.0/24"}}); r.status != http.StatusSeeOther {
		t.Fatalf("first location: %d %.500s", r.status, r.body)
	}
	if r := admin.postForm("/admin/strengths", url.Values{"name": {"Keys"}, "combinations": {"passkey"}}); r.status != http.StatusSeeOther {
		t.Fatalf("first strength: %d %.500s", r.status, r.body)
	}
	for _, c := range []struct {
		name, path string
		fields     url.Values
		code, says string
	}{
		{"location", "/admin/locations", url.Values{"name": {"OFFICE"}, "ranges": {"198.51.100.0/24"}}, "location_exists",
			"A named location with this name already exists. Choose another name."},
		{"strength", "/admin/strengths", url.Values{"name": {"keys"}, "combinations": {"passkey"}}, "strength_exists",
			"An authentication strength with this name already exists. Choose another name."},
		{"built-in strength", "/admin/strengths", url.Values{"name": {"Phishing-Resistant MFA"}, "combinations": {"passkey"}}, "strength_exists",
			"An authentication strength with this name already exists. Choose another name."},
	} {
		r := admin.postForm(c.path, c.fields)
		if r.status != http.StatusConflict {
			t.Errorf("%s: status %d, want 409", c.name, r.status)
		}
		checkErrorPage(t, r, c.code)
		if text := pageText(r); !strings.Contains(text, c.says) {
			t.Errorf("%s: the page does not say %q: %.800s", c.name, c.says, text)
		}
		if !strings.Contains(string(r.body), `value="`+c.fields.Get("name")+`"`) {
			t.Errorf("%s: the form lost the typed name", c.name)
		}
	}
}
