package policypages

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/web"
)

// handleAdminInspectPage shows the form where an admin pastes or uploads a registration
// response (from a HAR file or a support ticket) to see what it is and what policy says of it.
func (s *Pages) handleAdminInspectPage(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.MayInspect(a); err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-inspect", "Inspect a passkey registration", web.View{Data: map[string]any{"Form": map[string]string{}}})
}

// handleAdminInspect runs the inspection, as `latchkey passkey inspect` does.
func (s *Pages) handleAdminInspect(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.MayInspect(a); err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	form := map[string]string{}
	for _, k := range []string{"response", "challenge", "origin", "rpId", "user", "allowCrossOrigin"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	body := []byte(form["response"])
	if f, _, err := r.FormFile("file"); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(f, httpedge.MaxBodyBytes))
		f.Close()
		if rerr == nil && len(bytes.TrimSpace(b)) > 0 {
			body = b
		}
	}
	refuse := func(err error) {
		status, e := s.PublicError(r, err)
		s.Render(w, r, "admin-inspect", "Inspect a passkey registration", web.View{Error: &e, Status: status, Data: map[string]any{"Form": form}})
	}
	if len(bytes.TrimSpace(body)) == 0 {
		refuse(latchkey.Errorf(latchkey.EINVALID, "missing_response", "Paste a registration response or choose a file that holds one.",
			"no registration response in the form"))
		return
	}
	ireq := policyadmin.InspectRequest{Challenge: form["challenge"], Origin: form["origin"], RPID: form["rpId"],
		AllowCrossOrigin: form["allowCrossOrigin"] == "yes", User: form["user"]}
	in, err := s.policies.Inspect(r.Context(), a, body, ireq)
	if latchkey.ErrorCode(err) == "user_not_found" {
		refuse(err)
		return
	} else if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	js, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-inspect", "Inspect a passkey registration", web.View{Data: map[string]any{"Form": form, "Inspection": in, "JSON": string(js)}})
}
