package server

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/oidc"
)

// Applications: the OpenID Connect clients that sign people in through Latchkey, managed by
// global admins here as `latchkey app` does on the command line.

// appJSON is a client as the API shows it; the secret appears only in the answer to its creation.
type appJSON struct {
	*latchkey.Client
	ClientSecret string `json:"clientSecret,omitempty"`
}

func (s *Server) listApps(r *http.Request) ([]*latchkey.Client, error) {
	cls, err := s.store.ListClients(r.Context())
	if cls == nil {
		cls = []*latchkey.Client{}
	}
	return cls, err
}

// createApp validates and stores a new client and returns it with its secret (empty for a public client).
func (s *Server) createApp(r *http.Request, name string, redirects, postLogout []string, public bool) (*latchkey.Client, string, error) {
	return oidc.CreateClient(r.Context(), s.store, name, redirects, postLogout, public)
}

func (s *Server) deleteApp(r *http.Request, id string) error {
	err := s.store.DeleteClient(r.Context(), id)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "app_not_found", "That application does not exist.", "no client with id %q", id)
	}
	return err
}

func (s *Server) handleAPIListApps(w http.ResponseWriter, r *http.Request) {
	cls, err := s.listApps(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": cls})
}

func (s *Server) handleAPICreateApp(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name                   string   `json:"name"`
		RedirectURIs           []string `json:"redirectUris"`
		PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
		Public                 bool     `json:"public"`
	}
	if err := httpedge.DecodeJSON(w, r, &req); err != nil {
		s.WriteError(w, r, err)
		return
	}
	cl, secret, err := s.createApp(r, req.Name, req.RedirectURIs, req.PostLogoutRedirectURIs, req.Public)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, appJSON{Client: cl, ClientSecret: secret})
}

func (s *Server) handleAPIDeleteApp(w http.ResponseWriter, r *http.Request) {
	if err := s.deleteApp(r, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAdminApps(w http.ResponseWriter, r *http.Request) {
	s.adminApps(w, r, nil, 0, nil, nil)
}

// adminApps renders the applications page; created, when set, is the client just added with its
// secret, shown in this answer only.
func (s *Server) adminApps(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string, created map[string]any) {
	cls, err := s.listApps(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, "admin-apps", "Applications", view{Error: refusal, Status: status,
		Data: map[string]any{"Apps": cls, "Form": form, "Created": created}})
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(v string) []string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) handleAdminCreateApp(w http.ResponseWriter, r *http.Request) {
	name, redirects, postLogout := r.PostFormValue("name"), r.PostFormValue("redirectUris"), r.PostFormValue("postLogoutRedirectUris")
	public := r.PostFormValue("public") == "yes"
	err := checkOffered(r, offered{field: "public", values: yes})
	var cl *latchkey.Client
	var secret string
	if err == nil {
		cl, secret, err = s.createApp(r, name, lines(redirects), lines(postLogout), public)
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

func (s *Server) handleAdminDeleteApp(w http.ResponseWriter, r *http.Request) {
	if err := s.deleteApp(r, r.PathValue("id")); err != nil {
		status, body := s.PublicError(r, err)
		s.adminApps(w, r, &body, status, nil, nil)
		return
	}
	http.Redirect(w, r, "/admin/apps", http.StatusSeeOther)
}
