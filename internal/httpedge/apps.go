package httpedge

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// CreateAppFunc validates and stores a new application (OpenID Connect client) and returns it
// with its secret (empty for a public client). The server passes the OpenID provider's, so that
// neither the API nor the pages import the provider.
type CreateAppFunc func(ctx context.Context, name string, redirectURIs, postLogout []string, public bool) (*latchkey.Client, string, error)

// ListApps lists the applications (OpenID Connect clients), never nil.
func (s *Base) ListApps(r *http.Request) ([]*latchkey.Client, error) {
	cls, err := s.Auth.Store.ListClients(r.Context())
	if cls == nil {
		cls = []*latchkey.Client{}
	}
	return cls, err
}

// CreateAppFor validates and stores a new client and returns it with its secret (empty for a public client).
func (s *Base) CreateAppFor(r *http.Request, name string, redirects, postLogout []string, public bool) (*latchkey.Client, string, error) {
	return s.CreateApp(r.Context(), name, redirects, postLogout, public)
}

// DeleteApp removes the application id; app_not_found when there is none.
func (s *Base) DeleteApp(r *http.Request, id string) error {
	err := s.Auth.Store.DeleteClient(r.Context(), id)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "app_not_found", "That application does not exist.", "no client with id %q", id)
	}
	return err
}
