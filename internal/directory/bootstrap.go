package directory

import (
	"context"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// BootstrapUPN is the first administrator of a fresh store.
const BootstrapUPN = "admin"

// Bootstrap creates the first administrator on an empty store and issues them a one-time,
// 60-minute pass, acting as the system. It returns the pass, or "" when the store already had
// users. Several nodes starting together are safe: only one creates the user.
func (s *Service) Bootstrap(ctx context.Context) (string, error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	admin := &latchkey.User{UserPrincipalName: BootstrapUPN, DisplayName: "Administrator", Enabled: true,
		Roles: []string{latchkey.RoleGlobalAdmin}}
	if err := s.CreateUser(ctx, latchkey.SystemActor, admin); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	pass, _, err := s.IssueAccessPass(ctx, latchkey.SystemActor, admin.ID, signin.IssueOptions{LifetimeMinutes: 60, OneTime: true})
	return pass, err
}
