// Package formtoken makes and checks the tokens that protect server-rendered forms against
// cross-site request forgery, behind the cross-origin protection every state-changing request
// gets first. A token is the HMAC-SHA256 of what it is bound to (the session, or before sign-in
// a random pre-session cookie), under a key all nodes share: a token from another session, a
// shortened one, or one that merely equals a cookie is refused, and a token dies with its
// session.
//
// The key is derived (HKDF-SHA256) from a secret the caller already shares between nodes (the
// sign-in challenge key, which the store keeps and which is created once, atomically), so that
// no second secret has to be kept; the derivation's label keeps the two uses apart.
package formtoken

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
)

// Form token bindings: what a token is bound to, as Token and Check take it.
const (
	bindSession    = "session\x00"
	bindPreSession = "pre-session\x00"
	label          = "latchkey form token v1"
)

// SessionBinding is the binding of a signed-in browser's forms: the session's store ID (so the
// secret cookie token itself is never hashed into a page).
func SessionBinding(sessionID string) string { return bindSession + sessionID }

// PreSessionBinding is the binding of forms shown before sign-in: a random value the browser
// holds in a cookie.
func PreSessionBinding(cookie string) string { return bindPreSession + cookie }

// Key is the key of form tokens, derived once from the shared secret that each call's secret
// function returns. Its zero value is ready to use.
type Key struct {
	mu  sync.Mutex
	key []byte
}

// Token returns the form token for binding.
func (k *Key) Token(ctx context.Context, secret func(context.Context) ([]byte, error), binding string) (string, error) {
	key, err := k.Bytes(ctx, secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// Check reports whether token is the form token for binding, comparing in constant time.
func (k *Key) Check(ctx context.Context, secret func(context.Context) ([]byte, error), binding, token string) (bool, error) {
	want, err := k.Token(ctx, secret, binding)
	if err != nil {
		return false, err
	}
	return hmac.Equal([]byte(token), []byte(want)), nil
}

// Bytes returns the key of form tokens, derived once from secret's answer.
func (k *Key) Bytes(ctx context.Context, secret func(context.Context) ([]byte, error)) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	s, err := secret(ctx)
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, s, nil, label, 32)
	if err != nil {
		return nil, fmt.Errorf("form token key: %w", err)
	}
	k.key = key
	return key, nil
}
