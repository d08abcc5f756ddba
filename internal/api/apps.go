package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Applications: the OpenID Connect clients that sign people in through Latchkey, managed here
// as `latchkey app` does on the command line; the directory decides who may.

// appJSON is a client as the API shows it; the secret appears only in the answer to its creation.
type appJSON struct {
	*latchkey.Client
	ClientSecret string `json:"clientSecret,omitempty"`
}

func (s *API) handleAPIListApps(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	cls, err := s.dir.ListApps(r.Context(), a)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": cls})
}

func (s *API) handleAPICreateApp(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
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
	cl, secret, err := s.dir.CreateApp(r.Context(), a, req.Name, req.RedirectURIs, req.PostLogoutRedirectURIs, req.Public)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, appJSON{Client: cl, ClientSecret: secret})
}

func (s *API) handleAPIDeleteApp(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err == nil {
		err = s.dir.DeleteApp(r.Context(), a, r.PathValue("id"))
	}
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
