package auth

import (
	"context"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// registeredLegacyMethods returns what u's password and authenticator app would present.
// (Filled in when the legacy methods land.)
func (s *Service) registeredLegacyMethods(ctx context.Context, u *latchkey.User, pu policy.User, mp policy.MethodsPolicy) ([]RegisteredMethod, error) {
	return nil, nil
}
