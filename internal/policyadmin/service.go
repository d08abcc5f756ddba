// Package policyadmin is where the authentication policies change: the methods policy and its
// TAP settings, conditional access policies, strengths and named locations, each change linted
// on save so that nobody who can sign in today is locked out by mistake; also the what-if tool
// and the inspection of a passkey against the policy. It reads the policies through the sign-in
// service's read side (cached on the hot path); signin never imports this package.
package policyadmin

import (
	"time"

	"github.com/latchkey/latchkey/internal/signin"
)

// Service changes policies. It embeds the sign-in service for the read side (the stored store,
// logger and clock, the cached methods policy and conditional access, principals and registered
// methods), so that a change is linted against exactly what sign-in enforces.
type Service struct {
	*signin.Service
}

// New returns the policy administration service over the sign-in service sig.
func New(sig *signin.Service) *Service {
	return &Service{Service: sig}
}

func (s *Service) now() time.Time { return s.Now().UTC() }
