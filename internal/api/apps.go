package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Applications: the OpenID Connect clients that sign people in through Latchkey, managed by
// global admins here as `latchkey app` does on the command line.

// appJSON is a client as the API shows it; the secret appears only in the answer to its creation.
type appJSON struct {
	*latchkey.Client
	ClientSecret string `json:"clientSecret,omitempty"`
}

func (s *API) handleAPIListApps(w http.ResponseWriter, r *http.Request) {
	cls, err := s.ListApps(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": cls})
}

func (s *API) handleAPICreateApp(w http.ResponseWriter, r *http.Request) {
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
	cl, secret, err := s.CreateAppFor(r, req.Name, req.RedirectURIs, req.PostLogoutRedirectURIs, req.Public)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, appJSON{Client: cl, ClientSecret: secret})
}

func (s *API) handleAPIDeleteApp(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteApp(r, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
