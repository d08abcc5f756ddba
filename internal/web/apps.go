package web

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Applications: the OpenID Connect clients that sign people in through Latchkey, managed here as
// `latchkey app` does on the command line; the directory decides who may.

func (s *Web) handleAdminApps(w http.ResponseWriter, r *http.Request) {
	s.adminApps(w, r, nil, 0, nil, nil)
}

// adminApps renders the applications page; created, when set, is the client just added with its
// secret, shown in this answer only.
func (s *Web) adminApps(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string, created map[string]any) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	cls, err := s.dir.ListApps(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	// The forms show only to whom the directory would let use them; it still decides each post.
	canManage := authz.Can(a, authz.ActionManageApplications)
	// ?delete=ID asks before deleting: the list's Delete links lead here, never straight to it.
	var deleting *latchkey.Client
	if id := r.URL.Query().Get("delete"); id != "" && canManage {
		for _, cl := range cls {
			if cl.ID == id {
				deleting = cl
			}
		}
	}
	s.Render(w, r, "admin-apps", "Applications", View{Error: refusal, Status: status,
		Data: map[string]any{"Apps": cls, "Form": form, "Created": created, "CanManage": canManage, "Deleting": deleting,
			"Issuer": s.Issuer, "Discovery": strings.TrimSuffix(s.Issuer, "/") + "/.well-known/openid-configuration"}})
}

// Lines splits a textarea into its non-empty trimmed Lines.
func Lines(v string) []string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Web) handleAdminCreateApp(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	name, redirects, postLogout := r.PostFormValue("name"), r.PostFormValue("redirectUris"), r.PostFormValue("postLogoutRedirectUris")
	public := r.PostFormValue("public") == "yes"
	err = CheckOffered(r, Offered{Field: "public", Values: Yes})
	var cl *latchkey.Client
	var secret string
	if err == nil {
		cl, secret, err = s.dir.CreateApp(r.Context(), a, name, Lines(redirects), Lines(postLogout), public)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		pub := ""
		if public {
			pub = "yes"
		}
		s.adminApps(w, r, &body, status, map[string]string{"name": name, "redirectUris": redirects,
			"postLogoutRedirectUris": postLogout, "public": pub}, nil)
		return
	}
	// The secret is shown in this answer only; it is never stored or logged.
	s.adminApps(w, r, nil, http.StatusOK, nil, map[string]any{"App": cl, "Secret": secret})
}

func (s *Web) handleAdminDeleteApp(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err == nil {
		err = s.dir.DeleteApp(r.Context(), a, r.PathValue("id"))
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminApps(w, r, &body, status, nil, nil)
		return
	}
	http.Redirect(w, r, "/admin/apps", http.StatusSeeOther)
}
