package signin

import (
	"context"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// registeredLegacyMethods returns what u's password and authenticator app would present: password
// + TOTP when both are set up and enabled for u (a password sign-in then always asks for the
// code), password alone when only the password is.
func (s *Service) registeredLegacyMethods(ctx context.Context, u *latchkey.User, pu policy.User, mp policy.MethodsPolicy) ([]RegisteredMethod, error) {
	if ok, _ := policy.MethodEnabledForUser(mp, latchkey.MethodPassword, pu); !ok {
		return nil, nil
	}
	creds, err := s.Store.FindLegacyCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !creds.HasPassword() {
		return nil, nil
	}
	if ok, _ := policy.MethodEnabledForUser(mp, latchkey.MethodTOTP, pu); ok && creds.HasTOTP() {
		return []RegisteredMethod{{Description: "password + authenticator app (TOTP)",
			Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodPassword, latchkey.MethodTOTP}}}}, nil
	}
	return []RegisteredMethod{{Description: "password",
		Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodPassword}}}}, nil
}
