package signin

import (
	"context"

	"github.com/latchkey/latchkey/internal/formtoken"
)

// Form tokens (internal/formtoken) are keyed from the sign-in challenge key (challengeKey).

// SessionFormBinding is the binding of a signed-in browser's forms: the session of the cookie
// token (its store ID, so the secret token itself is never hashed into a page).
func SessionFormBinding(sessionToken string) string {
	return formtoken.SessionBinding(SessionID(sessionToken))
}

// PreSessionFormBinding is the binding of forms shown before sign-in: a random value the
// browser holds in a cookie.
func PreSessionFormBinding(cookie string) string { return formtoken.PreSessionBinding(cookie) }

// FormToken returns the form token for binding.
func (s *Service) FormToken(ctx context.Context, binding string) (string, error) {
	return s.formKey.Token(ctx, s.challengeKey, binding)
}

// CheckFormToken reports whether token is the form token for binding, comparing in constant time.
func (s *Service) CheckFormToken(ctx context.Context, binding, token string) (bool, error) {
	return s.formKey.Check(ctx, s.challengeKey, binding, token)
}
