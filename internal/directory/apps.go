package directory

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// CreateClientFunc validates and stores a new application (OpenID Connect client) and returns
// it with its secret (empty for a public client). The server and the CLI pass the OpenID
// provider's, so that this package does not import the provider.
type CreateClientFunc func(ctx context.Context, name string, redirectURIs, postLogout []string, public bool) (*latchkey.Client, string, error)

// appsTarget is the target of every action on applications: they are tenant-wide objects.
var appsTarget = authz.Target{Kind: authz.TargetApplication}

// ListApps lists the applications (OpenID Connect clients) for a, ordered by name; never nil.
func (s *Service) ListApps(ctx context.Context, a latchkey.Actor) ([]*latchkey.Client, error) {
	if err := authz.Decide(a, authz.ActionManageApplications, appsTarget); err != nil {
		return nil, err
	}
	cls, err := s.Store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	if cls == nil {
		cls = []*latchkey.Client{}
	}
	return cls, nil
}

// CreateApp registers a new application on behalf of a and returns it with its secret (empty
// for a public client), shown this once.
func (s *Service) CreateApp(ctx context.Context, a latchkey.Actor, name string, redirectURIs, postLogout []string, public bool) (*latchkey.Client, string, error) {
	if err := authz.Decide(a, authz.ActionManageApplications, appsTarget); err != nil {
		return nil, "", err
	}
	if s.CreateClient == nil {
		return nil, "", latchkey.Errorf(latchkey.EINTERNAL, "internal_error", "", "directory: no CreateClient function to register applications with")
	}
	ctx = latchkey.Audit(ctx, a, "application.create", "application", "", name, map[string]any{
		"redirectUris": redirectURIs, "postLogoutRedirectUris": postLogout, "public": public})
	return s.CreateClient(ctx, name, redirectURIs, postLogout, public)
}

// DeleteApp removes the application id on behalf of a, with its authorization requests and
// refresh tokens; app_not_found when there is none.
func (s *Service) DeleteApp(ctx context.Context, a latchkey.Actor, id string) error {
	if err := authz.Decide(a, authz.ActionManageApplications, appsTarget); err != nil {
		return err
	}
	name := ""
	if c, err := s.Store.FindClient(ctx, id); err == nil {
		name = c.Name
	}
	ctx = latchkey.Audit(ctx, a, "application.delete", "application", id, name, nil)
	err := s.Store.DeleteClient(ctx, id)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "app_not_found", "No such application. It may have been removed already.",
			"no client with id %q; `latchkey app list` shows them", id)
	}
	if err != nil {
		return fmt.Errorf("delete client: %w", err)
	}
	return nil
}
