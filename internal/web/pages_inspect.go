package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policyadmin"
)

// handleAdminInspectPage shows the form where an admin pastes or uploads a registration
// response (from a HAR file or a support ticket) to see what it is and what policy says of it.
func (s *Web) handleAdminInspectPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "admin-inspect", "Inspect a passkey registration", view{Data: map[string]any{"Form": map[string]string{}}})
}

// handleAdminInspect runs the inspection, as `latchkey passkey inspect` does.
func (s *Web) handleAdminInspect(w http.ResponseWriter, r *http.Request) {
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
		s.render(w, r, "admin-inspect", "Inspect a passkey registration", view{Error: &e, Status: status, Data: map[string]any{"Form": form}})
	}
	if len(bytes.TrimSpace(body)) == 0 {
		refuse(latchkey.Errorf(latchkey.EINVALID, "missing_response", "Paste a registration response or choose a file that holds one.",
			"no registration response in the form"))
		return
	}
	ireq := policyadmin.InspectRequest{Challenge: form["challenge"], Origin: form["origin"], RPID: form["rpId"],
		AllowCrossOrigin: form["allowCrossOrigin"] == "yes"}
	if ref := form["user"]; ref != "" {
		u, err := s.store.FindUserByUPN(r.Context(), ref)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			u, err = s.store.FindUserByID(r.Context(), ref)
		}
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			refuse(latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist. Leave the field empty to inspect without a user.", "no user %q", ref))
			return
		} else if err != nil {
			s.errorPage(w, r, err)
			return
		}
		ireq.User = u
	}
	in, err := s.policies.Inspect(r.Context(), body, ireq)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	js, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, "admin-inspect", "Inspect a passkey registration", view{Data: map[string]any{"Form": form, "Inspection": in, "JSON": string(js)}})
}
