package provisioning

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/latchkey"
)

func TestRedactBody(t *testing.T) {
	for _, c := range []struct {
		name, body string
		secrets    []string
		want       string
		removed    []string
	}{
		{"top level, order kept", `{"userName":"ada","password":"Hunter2!","active":true,"n":1.50}`, nil,
			`{"userName":"ada","password":"[redacted]","active":true,"n":1.50}`, []string{"Hunter2!"}},
		{"any case, any depth", `{"a":[{"b":{"PassWord":"deep-secret"}}],"Password":null}`, nil,
			`{"a":[{"b":{"PassWord":"[redacted]"}}],"Password":"[redacted]"}`, []string{"deep-secret"}},
		{"an object under password", `{"password":{"value":"in-object","x":["in-array"]}}`, nil,
			`{"password":"[redacted]"}`, []string{"in-object", "in-array"}},
		{"PATCH with the path after the value", `{"Operations":[{"op":"replace","value":"patch-secret","path":"password"}]}`, nil,
			`{"Operations":[{"op":"replace","value":"[redacted]","path":"password"}]}`, []string{"patch-secret"}},
		{"PATCH with an urn path", `{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD","value":"urn-secret"}]}`, nil,
			`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD","value":"[redacted]"}]}`, []string{"urn-secret"}},
		{"PATCH without a path", `{"Operations":[{"op":"replace","value":{"password":"pathless-secret","displayName":"Ada"}}]}`, nil,
			`{"Operations":[{"op":"replace","value":{"password":"[redacted]","displayName":"Ada"}}]}`, []string{"pathless-secret"}},
		{"PATCH of another attribute keeps its value", `{"Operations":[{"op":"replace","path":"displayName","value":"Ada"}]}`, nil,
			`{"Operations":[{"op":"replace","path":"displayName","value":"Ada"}]}`, nil},
		{"a password value elsewhere is removed too", `{"password":"reused-secret","note":"my password is reused-secret"}`, nil,
			`{"password":"[redacted]","note":"my password is [redacted]"}`, []string{"reused-secret"}},
		{"a token anywhere", `{"userName":"lk_token-in-body","lk_token-in-body":1}`, []string{"lk_token-in-body"},
			`{"userName":"[redacted]","[redacted]":1}`, nil},
		{"HTML is not escaped", `{"displayName":"<Ada & co>"}`, nil, `{"displayName":"<Ada & co>"}`, nil},
		{"not JSON", `userName=ada&password=hunter2`, nil, notJSON, nil},
		{"truncated JSON", `{"userName":"ada","password":"hun`, nil, notJSON, nil},
		{"two documents", `{"a":1}{"password":"x"}`, nil, notJSON, nil},
		{"empty", ``, nil, ``, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, removed := RedactBody([]byte(c.body), c.secrets)
			if got != c.want {
				t.Errorf("RedactBody(%s) = %s, want %s", c.body, got, c.want)
			}
			if d := cmp.Diff(removed, c.removed); d != "" {
				t.Errorf("removed (-got +want):\n%s", d)
			}
		})
	}
}

// A body longer than the limit is redacted before it is cut, so a password past the cut is not
// kept either, and the cut is said.
func TestRedactBodyCapsSize(t *testing.T) {
	body := `{"displayName":"` + strings.Repeat("é", 6000) + `","password":"late-secret"}`
	got, _ := RedactBody([]byte(body), nil)
	if len(got) > latchkey.MaxProvisioningBody {
		t.Errorf("kept %d bytes, more than %d", len(got), latchkey.MaxProvisioningBody)
	}
	if !strings.HasSuffix(got, truncated) || strings.Contains(got, "late-secret") {
		t.Errorf("the cut body does not end with the cut notice, or holds the password: …%s", got[len(got)-80:])
	}
	if !strings.Contains(got, "ééé") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("the body was cut inside a character")
	}
}

func TestRedactURI(t *testing.T) {
	for _, c := range []struct{ uri, want string }{
		{"/scim/v2/Users?filter=userName+eq+%22ada%22&startIndex=1", "/scim/v2/Users?filter=userName+eq+%22ada%22&startIndex=1"},
		{"/scim/v2/Users?Password=pw-secret&access_token=lk_tok", "/scim/v2/Users?Password=%5Bredacted%5D&access_token=%5Bredacted%5D"},
		{"/scim/v2/Users/lk_tok", "/scim/v2/Users/[redacted]"},
		{"/scim/v2/Users", "/scim/v2/Users"},
	} {
		u, err := url.Parse(c.uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURI(u, []string{"lk_tok"}); got != c.want {
			t.Errorf("RedactURI(%s) = %s, want %s", c.uri, got, c.want)
		}
	}
}
