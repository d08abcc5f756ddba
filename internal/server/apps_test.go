package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/web"
)

func TestAppsAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)

	r := admin.post("/api/v1/applications", map[string]any{"name": "Web app",
		"redirectUris": []string{"https://app.example.com/callback"}, "postLogoutRedirectUris": []string{"https://app.example.com/"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct {
		ClientID               string   `json:"clientId"`
		Name                   string   `json:"name"`
		Public                 bool     `json:"public"`
		RedirectURIs           []string `json:"redirectUris"`
		PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
		ClientSecret           string   `json:"clientSecret"`
	}
	r.decode(t, &created)
	if created.ClientID == "" || created.Name != "Web app" || created.Public || created.ClientSecret == "" ||
		len(created.RedirectURIs) != 1 || len(created.PostLogoutRedirectURIs) != 1 {
		t.Fatalf("created: %s", r.body)
	}
	stored, err := h.store.FindClient(ctx, created.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != oidc.Hash(created.ClientSecret) {
		t.Error("stored secret hash does not match the secret shown")
	}

	r = admin.post("/api/v1/applications", map[string]any{"name": "SPA", "redirectUris": []string{"http://localhost:3000/cb"}, "public": true})
	if r.status != http.StatusCreated {
		t.Fatalf("create public: %d %s", r.status, r.body)
	}
	if m := r.object(t); m["clientSecret"] != nil || m["public"] != true {
		t.Errorf("public client answer: %s", r.body)
	}

	r = admin.get("/api/v1/applications")
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), created.ClientSecret) || strings.Contains(string(r.body), "clientSecret") {
		t.Errorf("list shows a secret: %s", r.body)
	}
	var list struct {
		Value []latchkey.Client `json:"value"`
	}
	r.decode(t, &list)
	if len(list.Value) != 2 {
		t.Fatalf("list: %s", r.body)
	}

	for _, body := range []map[string]any{
		{"name": "Bad", "redirectUris": []string{"app.example.com/callback"}},
		{"name": "Bad", "redirectUris": []string{"https://app.example.com/cb#frag"}},
		{"name": "Bad", "redirectUris": []string{"https://app.example.com/cb"}, "postLogoutRedirectUris": []string{"javascript:alert(1)"}},
		{"name": "Bad", "redirectUris": []string{}},
	} {
		e := errorBody(t, admin.post("/api/v1/applications", body), http.StatusBadRequest, "invalid_redirect_uri")
		if !strings.Contains(strings.ToLower(e.Message), "redirect uri") || strings.Contains(e.Message, "invalid_") {
			t.Errorf("message %q", e.Message)
		}
	}
	errorBody(t, admin.post("/api/v1/applications", map[string]any{"name": " ", "redirectUris": []string{"https://a.example.com/cb"}}), http.StatusBadRequest, "invalid_name")

	if r = admin.send(http.MethodDelete, "/api/v1/applications/"+created.ClientID, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := h.store.FindClient(ctx, created.ClientID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("client still stored: %v", err)
	}
	errorBody(t, admin.send(http.MethodDelete, "/api/v1/applications/"+created.ClientID, nil), http.StatusNotFound, "app_not_found")

	member, _ := h.signedInClient("bob@example.com", false)
	checkErrorShape(t, member.get("/api/v1/applications"), "")
	for _, r := range []*response{
		member.get("/api/v1/applications"),
		member.post("/api/v1/applications", map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}}),
		member.send(http.MethodDelete, "/api/v1/applications/"+list.Value[0].ID, nil),
	} {
		if r.status != http.StatusForbidden {
			t.Errorf("member: %d %s", r.status, r.body)
		}
		checkErrorShape(t, r, "")
	}
	if r := h.newClient().get("/api/v1/applications"); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d %s", r.status, r.body)
	}
	if cls, _ := h.store.ListClients(ctx); len(cls) != 1 {
		t.Errorf("%d clients stored, want 1", len(cls))
	}
}

func TestAppsPage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	token := admin.formCSRF()
	postForm := func(c *client, path string, v url.Values, tok string) *response {
		t.Helper()
		v.Set(web.CSRFField, tok)
		return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	}

	r := admin.get("/admin/apps")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="add-app"`) {
		t.Fatalf("GET /admin/apps: %d %.500s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `href="/admin/apps"`) {
		t.Error("no Apps link in the navigation")
	}

	// Without the CSRF token nothing is created.
	bad := admin.do(http.MethodPost, "/admin/apps", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"name": {"Web"}, "redirectUris": {"https://a.example.com/cb"}}.Encode()))
	checkErrorPage(t, bad, "csrf_failed")

	r = postForm(admin, "/admin/apps", url.Values{"name": {"Web app"},
		"redirectUris": {"https://app.example.com/cb\r\n\r\nhttps://app.example.com/cb2\r\n"}, "postLogoutRedirectUris": {"https://app.example.com/"}}, token)
	if r.status != http.StatusOK {
		t.Fatalf("add: %d %.1000s", r.status, r.body)
	}
	cls, err := h.store.ListClients(ctx)
	if err != nil || len(cls) != 1 {
		t.Fatalf("clients: %v %v", cls, err)
	}
	cl := cls[0]
	if cl.Name != "Web app" || cl.Public || len(cl.RedirectURIs) != 2 || len(cl.PostLogoutRedirectURIs) != 1 {
		t.Errorf("stored client: %+v", cl)
	}
	body := string(r.body)
	i := strings.Index(body, `<output id="app-secret" class="pass">`)
	if i < 0 || !strings.Contains(body, `data-copy="app-secret"`) {
		t.Fatalf("no secret with a copy button: %.2000s", body)
	}
	secret := body[i+len(`<output id="app-secret" class="pass">`):]
	secret = secret[:strings.Index(secret, "<")]
	if oidc.Hash(secret) != cl.SecretHash {
		t.Errorf("shown secret %q does not match the stored hash", secret)
	}
	if !strings.Contains(body, cl.ID) {
		t.Error("client id not shown")
	}

	// The list page afterwards shows the client but never the secret.
	r = admin.get("/admin/apps")
	if !strings.Contains(string(r.body), cl.ID) || strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "app-secret") {
		t.Errorf("list page: %.2000s", r.body)
	}

	// A public client gets no secret.
	r = postForm(admin, "/admin/apps", url.Values{"name": {"SPA"}, "redirectUris": {"http://localhost:3000/cb"}, "public": {"yes"}}, token)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "app-secret") || !strings.Contains(string(r.body), "PKCE") {
		t.Errorf("public add: %d %.1500s", r.status, r.body)
	}

	// A bad redirect URI re-renders the form with the plain message and the values entered.
	r = postForm(admin, "/admin/apps", url.Values{"name": {"Broken"}, "redirectUris": {"not a url"}}, token)
	checkErrorPage(t, r, "invalid_redirect_uri")
	if !strings.Contains(string(r.body), "is not usable") || !strings.Contains(string(r.body), `value="Broken"`) {
		t.Errorf("refusal page: %.2000s", r.body)
	}
	if cls, _ := h.store.ListClients(ctx); len(cls) != 2 {
		t.Errorf("%d clients, want 2", len(cls))
	}

	// A member may not use the page.
	member, _ := h.signedInClient("bob@example.com", false)
	checkErrorPage(t, member.get("/admin/apps"), "")
	checkErrorPage(t, postForm(member, "/admin/apps/"+cl.ID+"/delete", url.Values{}, member.formCSRF()), "")

	// The list offers no one-click delete: its link leads to a page that names the application
	// and says what deleting it does, and only that page's form deletes.
	if r := admin.get("/admin/apps"); strings.Contains(string(r.body), `action="/admin/apps/`+cl.ID+`/delete"`) ||
		!strings.Contains(string(r.body), `href="/admin/apps?delete=`+cl.ID+`#delete-app"`) {
		t.Errorf("the list deletes in one click, or links to no confirmation: %.3000s", r.body)
	}
	if r := admin.get("/admin/apps?delete=" + cl.ID); r.status != http.StatusOK ||
		!strings.Contains(string(r.body), `id="delete-app"`) || !strings.Contains(string(r.body), "cannot be undone") ||
		!strings.Contains(string(r.body), `action="/admin/apps/`+cl.ID+`/delete"`) {
		t.Errorf("the confirmation: %d %.3000s", r.status, r.body)
	}
	if _, err := h.store.FindClient(ctx, cl.ID); err != nil {
		t.Errorf("showing the confirmation deleted the application: %v", err)
	}

	// Delete: without CSRF refused; with it, gone; again, not found.
	checkErrorPage(t, admin.do(http.MethodPost, "/admin/apps/"+cl.ID+"/delete", "application/x-www-form-urlencoded", strings.NewReader("")), "csrf_failed")
	r = postForm(admin, "/admin/apps/"+cl.ID+"/delete", url.Values{}, token)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/apps" {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := h.store.FindClient(ctx, cl.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("client still stored: %v", err)
	}
	checkErrorPage(t, postForm(admin, "/admin/apps/"+cl.ID+"/delete", url.Values{}, token), "app_not_found")
}
