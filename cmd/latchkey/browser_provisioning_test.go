package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/provisioning"
	"github.com/latchkey/latchkey/internal/signin"
)

// seedProvisioning stores what an HR system's provisioning leaves behind: a token, its SCIM
// requests in the log (two of them refused, their bodies redacted as the recorder does) and a
// person it created; returns the id of the newest refused request.
func seedProvisioning(t *testing.T, s *testServer) string {
	t.Helper()
	ctx := context.Background()
	secret := signin.NewAPIToken()
	tok := &latchkey.APIToken{Name: "HR sync (Entra)", Hash: signin.APITokenHash(secret),
		Scopes: []string{latchkey.ScopeUserReadWriteAll, latchkey.ScopeGroupReadWriteAll}, CreatedAt: time.Now().Add(-48 * time.Hour)}
	if err := s.Store.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	actor := latchkey.Actor{Kind: latchkey.ActorToken, TokenID: tok.ID, TokenName: tok.Name, Scopes: tok.Scopes}
	created := latchkey.WithCorrelationID(ctx, "5f0c9a7e21b34d11")
	if err := s.Directory.CreateUser(created, actor, &latchkey.User{UserPrincipalName: "nina.novak@example.com",
		DisplayName: "Nina Novak", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var lastError string
	for i, r := range []struct {
		method, path, body, detail string
		status                     int
	}{
		{"GET", "/scim/v2/Users?filter=userName+eq+%22nina.novak%40example.com%22", "", "", 200},
		{"POST", "/scim/v2/Users", "", "", 201},
		{"PATCH", "/scim/v2/Users/7b1d3c4e", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"password","value":"Winter2027!"},{"op":"Add","path":"emails[type eq \"work\"].value","value":"nina.novak@example.com"}]}`,
			"mutability: password cannot be set through SCIM", 400},
		{"POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"tom.ullrich@example.com","active":"False","displayName":"Tom Ullrich","password":"Secret123!","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"no-such-manager"}}}`,
			"invalidValue: manager no-such-manager is not a user of this directory", 400},
		{"GET", "/scim/v2/Groups?startIndex=1&count=100", "", "", 200},
	} {
		body, _ := provisioning.RedactBody([]byte(r.body), nil)
		rec := &latchkey.ProvisioningRequest{Time: now.Add(time.Duration(i-10) * time.Minute), TokenID: tok.ID, Method: r.method,
			Path: r.path, Status: r.status, CorrelationID: strings.Repeat(string(rune('a'+i)), 16), Body: body, ErrorDetail: r.detail}
		if r.method == "POST" && r.status == 201 {
			rec.CorrelationID = "5f0c9a7e21b34d11"
		}
		if err := s.Store.AddProvisioningRequest(ctx, rec, latchkey.DefaultProvisioningRetention); err != nil {
			t.Fatal(err)
		}
		if r.status >= 400 {
			lastError = rec.ID
		}
	}
	return lastError
}

// TestBrowserProvisioningPage: the global admin opens Provisioning from the admin navigation,
// sees the token in use with its last request, opens the request of the latest error and reads
// it without its password, and sees the person the token created. The page fits a 1280 px and a
// 390 px window (saved to LATCHKEY_SCREENSHOT_DIR when set).
func TestBrowserProvisioningPage(t *testing.T) {
	s := startServer(t)
	lastError := seedProvisioning(t, s)
	newUser(t, s, "olga.owens@example.com", "Olga Owens") // created by hand, with a pass
	b := startBrowser(t)
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	b.navigate(s.URL + "/admin/users")
	b.waitPage("/admin/users", "#nav-provisioning")
	b.click("#nav-provisioning")
	b.waitPage("/admin/provisioning", "#provisioning-errors")

	if got := b.text("#provisioning-tokens tbody tr td.last-request"); !strings.Contains(got, "GET /scim/v2/Groups") || !strings.HasSuffix(got, "200") {
		t.Errorf("the token's last request reads %q", got)
	}
	row := `#provisioning-errors tr[data-request-id="` + lastError + `"]`
	b.click(row + " details summary")
	b.waitVisible(row + " pre.request-body")
	body := b.text(row + " pre.request-body")
	if !strings.Contains(body, `"password": "[redacted]"`) || strings.Contains(body, "Secret123!") || !strings.Contains(body, "tom.ullrich@example.com") {
		t.Errorf("the refused request reads:\n%s", body)
	}
	if got := b.text(row + " td.error-detail"); got != "invalidValue: manager no-such-manager is not a user of this directory" {
		t.Errorf("the error reads %q", got)
	}
	people := eval[[]string](b, `[...document.querySelectorAll("#provisioning-people tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`)
	for _, want := range []string{"Nina Novak nina.novak@example.com SCIM, token HR sync (Entra)",
		"Olga Owens olga.owens@example.com Not in the audit log"} {
		if !strings.Contains(strings.Join(people, "\n"), want) {
			t.Errorf("the people created lately read %q, want a row starting %q", people, want)
		}
	}
	screenshots(t, b, "provisioning")
	for _, w := range []int64{390, 1280} {
		b.step("window width", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(w, 900))
			return err
		})
		if got := eval[int](b, `document.documentElement.scrollWidth`); got > int(w) {
			t.Errorf("the page is %d px wide in a %d px window", got, w)
		}
	}
}
