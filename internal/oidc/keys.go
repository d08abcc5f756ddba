package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Signing keys: kept in the store for every node, rotated, and published in the JWKS.

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

func (s *storage) parse(k *latchkey.SigningKey) (*rsa.PrivateKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pk, ok := s.keys[k.ID]; ok {
		return pk, nil
	}
	if k.Algorithm != string(jose.RS256) {
		return nil, fmt.Errorf("signing key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	pk, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an RSA key", k.ID)
	}
	s.keys[k.ID] = pk
	return pk, nil
}

// SigningKey returns the newest key that is not retired, creating an RS256 key on first use and
// rotating when the newest is older than KeyRotationInterval.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, s.internal(ctx, "list signing keys", err)
	}
	for _, k := range keys {
		if k.RetiredAt == nil && k.Algorithm == string(jose.RS256) {
			if s.now().Sub(k.CreatedAt) > KeyRotationInterval {
				break
			}
			pk, err := s.parse(k)
			if err != nil {
				return nil, s.internal(ctx, "parse signing key", err)
			}
			return &signingKey{k.ID, pk}, nil
		}
	}
	k, pk, err := rotateSigningKey(ctx, s.store, s.now())
	if err != nil {
		return nil, s.internal(ctx, "rotate signing key", err)
	}
	s.mu.Lock()
	s.keys[k.ID] = pk
	s.mu.Unlock()
	return &signingKey{k.ID, pk}, nil
}

// ensureSigningKey creates an RS256 key when no key is in service (a fresh store), so that the
// JWKS has a key before the first token is signed. It retires nothing: nodes starting together
// on a fresh store may each create one, and then all of those keys are published and every node
// signs with the same one, the newest (SigningKey); the others wait unused until the next
// rotation retires them.
func (s *storage) ensureSigningKey(ctx context.Context) error {
	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RetiredAt == nil && k.Algorithm == string(jose.RS256) {
			return nil
		}
	}
	k, pk, err := newSigningKey(s.now())
	if err != nil {
		return err
	}
	if err := s.store.CreateSigningKey(ctx, k); err != nil {
		return err
	}
	s.mu.Lock()
	s.keys[k.ID] = pk
	s.mu.Unlock()
	return nil
}

// newSigningKey generates an RS256 (RSA 2048) key.
func newSigningKey(now time.Time) (*latchkey.SigningKey, *rsa.PrivateKey, error) {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		return nil, nil, err
	}
	return &latchkey.SigningKey{ID: latchkey.NewID(), Algorithm: string(jose.RS256), PrivateKey: der, CreatedAt: now}, pk, nil
}

// Key rotation. A retired key stays in the JWKS for RetiredKeyPublished, longer than any token
// it signed lives, and then leaves it.
const (
	KeyRotationInterval = 90 * 24 * time.Hour
	RetiredKeyPublished = IDTokenLifetime + 24*time.Hour
)

// RotateSigningKey creates a new RS256 signing key and retires every other key, so that tokens
// are signed with the new key from now on, on every node; tokens the old keys signed still
// verify while the old keys stay published (RetiredKeyPublished).
func RotateSigningKey(ctx context.Context, store latchkey.Store, now time.Time) (*latchkey.SigningKey, error) {
	k, _, err := rotateSigningKey(ctx, store, now)
	return k, err
}

func rotateSigningKey(ctx context.Context, store latchkey.Store, now time.Time) (*latchkey.SigningKey, *rsa.PrivateKey, error) {
	k, pk, err := newSigningKey(now)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range latchkey.AuditEvents(ctx) { // the caller's event names the new key
		if e.TargetKind == "signingKey" && e.TargetID == "" {
			e.TargetID, e.TargetName = k.ID, k.ID
		}
	}
	if err := store.CreateSigningKey(ctx, k); err != nil {
		return nil, nil, err
	}
	keys, err := store.ListSigningKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, old := range keys {
		if old.ID == k.ID || old.RetiredAt != nil {
			continue
		}
		// Another node may retire it at the same moment: that is the same outcome.
		if err := store.RetireSigningKey(ctx, old.ID, now); err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, nil, err
		}
	}
	return k, pk, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet returns the public half of every key that signs or retired recently enough that tokens
// it signed may still be in use.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, s.internal(ctx, "list signing keys", err)
	}
	var out []op.Key
	for _, k := range keys {
		if k.RetiredAt != nil && s.now().Sub(*k.RetiredAt) > RetiredKeyPublished {
			continue
		}
		pk, err := s.parse(k)
		if err != nil {
			continue
		}
		out = append(out, &publicKey{k.ID, &pk.PublicKey})
	}
	return out, nil
}
