package main

// Sessions end with the credential they were made with, on SQLite and on PostgreSQL: a session
// cookie obtained with a pass keeps nothing once the pass is replaced (from the API, the CLI as
// another process on the same database, or the admin page), nor one obtained with a passkey once
// the passkey is removed (on My security info, or through the API) or flagged as possibly cloned.
// Each attack replays the old cookie where it would do harm: registration options (adding a
// passkey), My security info and /api/v1/me.

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/pgtest"
)

var csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// revocationEnv is a server with a signed-in admin and the person whose credentials are revoked.
type revocationEnv struct {
	t         *testing.T
	base      string
	storeFlag string // the CLI's flag for the server's database
	admin     *loadtest.Client
	adaID     string
}

// client returns a new browser-like client of the server (its own cookie jar).
func (e *revocationEnv) client() *loadtest.Client { return loadtest.NewClient(e.base, nil) }

// signInTAP returns a client signed in as ada with pass.
func (e *revocationEnv) signInTAP(pass string) *loadtest.Client {
	e.t.Helper()
	c := e.client()
	if err := c.SignInTAP(context.Background(), "ada@example.com", pass); err != nil {
		e.t.Fatalf("TAP sign-in: %v", err)
	}
	return c
}

// issueByAPI issues ada a new pass as an admin over the API.
func (e *revocationEnv) issueByAPI() string {
	e.t.Helper()
	pass, err := e.admin.IssueTAP(context.Background(), e.adaID, 60)
	if err != nil {
		e.t.Fatalf("issue pass over the API: %v", err)
	}
	return pass
}

// noRedirects sends c's requests without following redirects.
func noRedirects(c *loadtest.Client) *http.Client {
	return &http.Client{Jar: c.HTTP.Jar, Transport: c.HTTP.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// getPage GETs path with c's cookies and returns the status, Location and body.
func getPage(t *testing.T, c *loadtest.Client, path string) (int, string, string) {
	t.Helper()
	resp, err := noRedirects(c).Get(c.BaseURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// postPageForm posts a page's form to path with the CSRF token of the page at from.
func postPageForm(t *testing.T, c *loadtest.Client, from, path string, fields url.Values) (int, string) {
	t.Helper()
	_, _, body := getPage(t, c, from)
	m := csrfFieldRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on %s: %.500s", from, body)
	}
	fields.Set("csrf", html.UnescapeString(m[1]))
	req, _ := http.NewRequest(http.MethodPost, c.BaseURL+path, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.BaseURL)
	resp, err := noRedirects(c).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// works fails the test unless c's session is live.
func works(t *testing.T, c *loadtest.Client, what string) {
	t.Helper()
	if err := c.Do(context.Background(), http.MethodGet, "/api/v1/me", nil, nil); err != nil {
		t.Fatalf("%s: GET /api/v1/me: %v, want the session to work", what, err)
	}
	if status, _, _ := getPage(t, c, "/my/security-info"); status != http.StatusOK {
		t.Fatalf("%s: GET /my/security-info: %d, want 200", what, status)
	}
}

// refused checks that c's session cookie, made with a credential since revoked, gets nothing:
// no registration options (so no new passkey), no security info, no /api/v1/me.
func refused(t *testing.T, c *loadtest.Client, what string) {
	t.Helper()
	ctx := context.Background()
	var apiErr *loadtest.APIError
	if err := c.Do(ctx, http.MethodPost, "/api/v1/webauthn/registration/options", "{}", nil); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Errorf("%s: registration options with the old session: %v, want 401", what, err)
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/me", nil, nil); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != "not_signed_in" {
		t.Errorf("%s: /api/v1/me with the old session: %v, want 401 not_signed_in", what, err)
	}
	if status, loc, _ := getPage(t, c, "/my/security-info"); status != http.StatusSeeOther || loc != "/signin" {
		t.Errorf("%s: /my/security-info with the old session: %d %q, want a redirect to /signin", what, status, loc)
	}
}

// register adds a passkey held by a for the session of c and returns its id.
func register(t *testing.T, c *loadtest.Client, a *loadtest.Authenticator) string {
	t.Helper()
	pk, err := c.Register(context.Background(), a)
	if err != nil {
		t.Fatalf("register a passkey: %v", err)
	}
	id, _ := pk["id"].(string)
	if id == "" {
		t.Fatalf("registration answer without an id: %v", pk)
	}
	return id
}

// signInPasskey returns a new client signed in with a's passkey.
func (e *revocationEnv) signInPasskey(a *loadtest.Authenticator) *loadtest.Client {
	e.t.Helper()
	c := e.client()
	if err := c.SignIn(context.Background(), a, ""); err != nil {
		e.t.Fatalf("passkey sign-in: %v", err)
	}
	return c
}

func TestSessionsEndWithTheirCredential(t *testing.T) {
	for name, args := range map[string]func(t *testing.T) []string{
		"sqlite":   func(t *testing.T) []string { return []string{"--data=" + filepath.Join(t.TempDir(), "data")} },
		"postgres": func(t *testing.T) []string { return []string{"--database=" + pgtest.URL(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			flags := args(t)
			s, out := startServe(t, flags...)
			m := bootstrapLine.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no bootstrap pass in %q", out.String())
			}
			e := &revocationEnv{t: t, base: s.PublicURL, storeFlag: flags[0], admin: loadtest.NewClient(s.PublicURL, nil)}
			if err := e.admin.SignInTAP(ctx, "admin", m[1]); err != nil {
				t.Fatal(err)
			}
			var err error
			if e.adaID, err = e.admin.CreateUser(ctx, "ada@example.com"); err != nil {
				t.Fatal(err)
			}

			// A pass replaced over the API.
			first := e.signInTAP(e.issueByAPI())
			works(t, first, "session of the first pass")
			second := e.signInTAP(e.issueByAPI())
			refused(t, first, "session of a pass replaced over the API")
			works(t, second, "session of the pass that replaced it")

			// A pass replaced by the CLI: another process on the same database, as a second node.
			stdout, stderr, code := run(t, "tap", "issue", "ada@example.com", e.storeFlag, "--json")
			if code != 0 {
				t.Fatalf("tap issue: %d %s", code, stderr)
			}
			var issued struct {
				Pass string `json:"temporaryAccessPass"`
			}
			if err := json.Unmarshal([]byte(stdout), &issued); err != nil || issued.Pass == "" {
				t.Fatalf("tap issue --json: %q %v", stdout, err)
			}
			refused(t, second, "session of a pass replaced by the CLI")
			third := e.signInTAP(issued.Pass)
			works(t, third, "session of the CLI's pass")

			// A pass replaced on the admin page.
			if status, body := postPageForm(t, e.admin, "/admin/users/"+e.adaID, "/admin/users/"+e.adaID+"/tap", url.Values{"lifetime": {"60"}}); status != http.StatusSeeOther {
				t.Fatalf("issue a pass on the admin page: %d %.500s, want 303 to the page that shows it", status, body)
			}
			if _, _, body := getPage(t, e.admin, "/admin/users/"+e.adaID); !strings.Contains(body, `id="tap-value"`) {
				t.Fatalf("the page after issuing a pass does not show it: %.500s", body)
			}
			if _, _, body := getPage(t, e.admin, "/admin/users/"+e.adaID); strings.Contains(body, `id="tap-value"`) {
				t.Fatalf("a reload of the page shows the pass again")
			}
			refused(t, third, "session of a pass replaced on the admin page")

			// A passkey removed on My security info, from another session of the same person.
			tap := e.signInTAP(e.issueByAPI())
			laptop, err := loadtest.NewAuthenticator(e.base, false)
			if err != nil {
				t.Fatal(err)
			}
			laptopID := register(t, tap, laptop)
			withLaptop := e.signInPasskey(laptop)
			works(t, withLaptop, "session of the laptop's passkey")
			if status, body := postPageForm(t, tap, "/my/security-info", "/my/security-info/passkeys/"+laptopID+"/remove", url.Values{"confirmLast": {"yes"}}); status != http.StatusSeeOther {
				t.Fatalf("remove the passkey on My security info: %d %.500s", status, body)
			}
			refused(t, withLaptop, "session of a passkey removed on My security info")
			works(t, tap, "the session that removed it, made with a pass")

			// A passkey removed through the API.
			phone, err := loadtest.NewAuthenticator(e.base, true)
			if err != nil {
				t.Fatal(err)
			}
			phoneID := register(t, tap, phone)
			withPhone := e.signInPasskey(phone)
			works(t, withPhone, "session of the phone's passkey")
			if err := tap.Do(ctx, http.MethodDelete, "/api/v1/me/passkeys/"+phoneID+"?confirmLast=true", nil, nil); err != nil {
				t.Fatalf("remove the passkey over the API: %v", err)
			}
			refused(t, withPhone, "session of a passkey removed over the API")

			// A passkey flagged as possibly cloned: two copies of one key, the one behind in its
			// count signs in after the other.
			key, err := loadtest.NewAuthenticator(e.base, false)
			if err != nil {
				t.Fatal(err)
			}
			register(t, tap, key)
			options := func(c *loadtest.Client) []byte {
				var o []byte
				if err := c.Do(ctx, http.MethodPost, "/api/v1/webauthn/authentication/options", "{}", &o); err != nil {
					t.Fatal(err)
				}
				return o
			}
			copyA, copyB := e.client(), e.client()
			behind, err := key.Assert(options(copyB)) // count 1, kept back by the copy
			if err != nil {
				t.Fatal(err)
			}
			ahead, err := key.Assert(options(copyA)) // count 2
			if err != nil {
				t.Fatal(err)
			}
			if err := copyA.Do(ctx, http.MethodPost, "/api/v1/webauthn/authentication/verify", ahead, nil); err != nil {
				t.Fatalf("sign-in with the copy ahead: %v", err)
			}
			works(t, copyA, "session of the copy ahead")
			var apiErr *loadtest.APIError
			if err := copyB.Do(ctx, http.MethodPost, "/api/v1/webauthn/authentication/verify", behind, nil); !errors.As(err, &apiErr) || apiErr.Code != "possible_clone" {
				t.Fatalf("sign-in with the copy behind: %v, want possible_clone", err)
			}
			refused(t, copyA, "session of a passkey flagged as possibly cloned")
			works(t, tap, "a session made with another credential")
		})
	}
}
