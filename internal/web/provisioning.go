package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/provisioning"
)

// The provisioning page: what the SCIM clients (the HR system's provisioning) did and how far
// the people they created have got. The provisioning service decides who may see it
// (authz.ActionReadProvisioning: global admins and reports readers).

// provisioningError is a refused request as the page shows it.
type provisioningError struct {
	*latchkey.ProvisioningRequest
	Token string // the token's name, or what stands for it
	// Target is the request's path and query, unescaped for reading.
	Target string
	// Body is the redacted request body, indented when it is JSON.
	Body string
}

// newcomerRow is a person created lately, with their onboarding in words.
type newcomerRow struct {
	provisioning.Newcomer
	Mail, Pass, Passkey string
}

func (s *Web) handleAdminProvisioning(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	o, err := provisioning.NewService(s.auth).Overview(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	errs := make([]provisioningError, len(o.Errors))
	for i, e := range o.Errors {
		errs[i] = provisioningError{ProvisioningRequest: e, Token: tokenLabel(o.TokenNames, e.TokenID), Target: readablePath(e.Path), Body: indentJSON(e.Body)}
	}
	people := make([]newcomerRow, len(o.People))
	for i, p := range o.People {
		people[i] = newcomerRow{Newcomer: p, Mail: mailWords(p.Onboarding), Pass: passWords(p.Onboarding), Passkey: passkeyWords(p.Onboarding)}
	}
	s.Render(w, r, "admin-provisioning", "Provisioning", View{Data: map[string]any{"Tokens": o.Tokens, "Errors": errs,
		"People": people, "Days": provisioning.NewcomerDays, "Since": o.Since}})
}

// tokenLabel names a request's token for the page.
func tokenLabel(names map[string]string, id string) string {
	switch name, ok := names[id]; {
	case id == "":
		return "No valid token"
	case ok:
		return name
	}
	return "A deleted token"
}

// readablePath unescapes a logged path and query for reading; as logged when it cannot.
func readablePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// indentJSON indents a logged body that is JSON; any other text is shown as it is.
func indentJSON(body string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(body), "", "  ") != nil {
		return body
	}
	return b.String()
}

// day formats a time for the onboarding columns.
func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Local().Format("2 Jan 2006, 15:04")
}

func mailWords(ob provisioning.Onboarding) string {
	switch ob.Mail {
	case provisioning.MailSent:
		return "Sent " + day(ob.MailAt)
	case provisioning.MailWaiting:
		return "Waiting to be sent"
	case provisioning.MailFailed:
		return "Failed: see the admin home"
	}
	return "None queued"
}

func passWords(ob provisioning.Onboarding) string {
	switch ob.Pass {
	case provisioning.PassUsed:
		return "Used " + day(ob.PassAt)
	case provisioning.PassWaiting:
		return "Issued, works from " + day(ob.PassAt)
	case provisioning.PassUnused:
		return "Issued, not used yet"
	case provisioning.PassExpired:
		return "Expired unused"
	}
	return "No pass"
}

func passkeyWords(ob provisioning.Onboarding) string {
	switch {
	case ob.Passkeys == 0:
		return "Not yet"
	case ob.Passkeys == 1:
		return "Registered " + day(ob.PasskeyAt)
	}
	return fmt.Sprintf("%d passkeys, the first %s", ob.Passkeys, day(ob.PasskeyAt))
}
