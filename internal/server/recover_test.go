package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestRecoverPageWalksEachAnswer: the sign-in page links to /recover, which works without a
// session or JavaScript (a GET form) and leads each pair of answers to its way back in; an
// answer the page does not offer is refused with a plain sentence and the questions again.
func TestRecoverPageWalksEachAnswer(t *testing.T) {
	h := newHarness(t)
	c := h.newClient()
	if r := c.get("/signin"); !strings.Contains(string(r.body), `href="/recover"`) {
		t.Fatalf("the sign-in page does not link to /recover: %s", r.body)
	}
	r := c.get("/recover")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `<form id="recover-form" method="get" action="/recover">`) {
		t.Fatalf("GET /recover: %d %s", r.status, r.body)
	}
	for _, id := range []string{"recover-old-phone", "recover-laptop", "recover-nothing"} {
		if strings.Contains(string(r.body), `id="`+id+`"`) {
			t.Errorf("before any answer the page shows %s", id)
		}
	}
	cases := []struct {
		query, shows, link string
	}{
		{"phone=yes", "recover-old-phone", `href="/signin"`},
		{"phone=yes&laptop=yes", "recover-old-phone", `href="/signin"`},
		{"phone=no&laptop=yes", "recover-laptop", `href="/my/security-info#new-phone"`},
		{"phone=no&laptop=no", "recover-nothing", `href="/recover/verify"`},
	}
	for _, tc := range cases {
		r := c.get("/recover?" + tc.query)
		body := string(r.body)
		if r.status != http.StatusOK {
			t.Errorf("%s: status %d", tc.query, r.status)
		}
		for _, id := range []string{"recover-old-phone", "recover-laptop", "recover-nothing"} {
			if got := strings.Contains(body, `id="`+id+`"`); got != (id == tc.shows) {
				t.Errorf("%s: shows %s = %v", tc.query, id, got)
			}
		}
		if !strings.Contains(body, tc.link) {
			t.Errorf("%s: no link %s", tc.query, tc.link)
		}
	}
	// Only the first answer "no": the second question is still open, no path yet.
	if r := c.get("/recover?phone=no"); strings.Contains(string(r.body), `id="recover-laptop"`) || strings.Contains(string(r.body), `id="recover-nothing"`) {
		t.Error("phone=no alone already picks a path")
	}
	r = c.get("/recover?phone=maybe")
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Choose Yes or No for each question.") {
		t.Errorf("phone=maybe: %d %s", r.status, r.body)
	}
}
