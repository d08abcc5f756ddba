package signin

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// Form tokens protect the server-rendered forms against cross-site request forgery, behind the
// cross-origin protection every state-changing request gets first. A token is the HMAC-SHA256
// of what it is bound to (the session, or before sign-in a random pre-session cookie), under a
// key all nodes share: a token from another session, a shortened one, or one that merely equals
// a cookie is refused, and a token dies with its session.
//
// The key is derived (HKDF-SHA256) from the sign-in challenge key, which the store already keeps
// for every node and which is created once, atomically (challengeKey), so that no second secret
// has to be kept; the derivation's label keeps the two uses apart.

// Form token bindings: what a token is bound to, as FormToken and CheckFormToken take it.
const (
	formBindSession    = "session\x00"
	formBindPreSession = "pre-session\x00"
	formTokenLabel     = "latchkey form token v1"
)

// SessionFormBinding is the binding of a signed-in browser's forms: the session of the cookie
// token (its store ID, so the secret token itself is never hashed into a page).
func SessionFormBinding(sessionToken string) string { return formBindSession + SessionID(sessionToken) }

// PreSessionFormBinding is the binding of forms shown before sign-in: a random value the
// browser holds in a cookie.
func PreSessionFormBinding(cookie string) string { return formBindPreSession + cookie }

// FormToken returns the form token for binding.
func (s *Service) FormToken(ctx context.Context, binding string) (string, error) {
	key, err := s.formKey(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// CheckFormToken reports whether token is the form token for binding, comparing in constant time.
func (s *Service) CheckFormToken(ctx context.Context, binding, token string) (bool, error) {
	want, err := s.FormToken(ctx, binding)
	if err != nil {
		return false, err
	}
	return hmac.Equal([]byte(token), []byte(want)), nil
}

// formKey returns the key of form tokens, derived once from the challenge key.
func (s *Service) formKey(ctx context.Context) ([]byte, error) {
	s.formKeyMu.Lock()
	defer s.formKeyMu.Unlock()
	if s.formKeyBytes != nil {
		return s.formKeyBytes, nil
	}
	secret, err := s.challengeKey(ctx)
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, secret, nil, formTokenLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("form token key: %w", err)
	}
	s.formKeyBytes = key
	return key, nil
}
