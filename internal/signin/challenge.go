package signin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
)

// Sign-in challenges are self-contained: 32 random bytes with the expiry and, for a
// username-first ceremony, the user, authenticated with an HMAC under a key all nodes share
// (kept in the store). Beginning a sign-in therefore writes nothing; the one write of a sign-in
// happens at its end, where the challenge's use is recorded in the same transaction as the
// session (latchkey.PasskeyStore.CompletePasskeySignIn), so each challenge still works once.
//
// Layout: version (1) | expiry, Unix ms (8) | random (32) | user UUID or zeros (16) | HMAC-SHA256 truncated (16).
const (
	challengeVersion = 1
	challengeRandom  = 32
	challengeMAC     = 16
	challengeLen     = 1 + 8 + challengeRandom + 16 + challengeMAC
	challengeKeyName = "key.signInChallenge"
)

// signInChallenge is what a sign-in challenge carries.
type signInChallenge struct {
	Expires time.Time
	UserID  string // empty for usernameless sign-in
}

// newSignInChallenge returns the challenge bytes for a ceremony of userID ("" for usernameless).
func (s *Service) newSignInChallenge(ctx context.Context, userID string) ([]byte, time.Time, error) {
	key, err := s.challengeKey(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	expires := s.now().Add(passkey.CeremonyTimeout)
	b := make([]byte, challengeLen)
	b[0] = challengeVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(expires.UnixMilli()))
	if _, err := rand.Read(b[9 : 9+challengeRandom]); err != nil {
		return nil, time.Time{}, fmt.Errorf("challenge: %w", err)
	}
	if userID != "" {
		id, err := uuid.Parse(userID)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("challenge: user id %q: %w", userID, err)
		}
		copy(b[9+challengeRandom:], id[:])
	}
	body := b[:challengeLen-challengeMAC]
	copy(b[len(body):], challengeTag(key, body))
	return b, expires, nil
}

// openSignInChallenge checks a challenge (base64url, as in clientDataJSON) and returns what it
// carries; a forged, altered, unknown-format or expired one is refused as not found.
func (s *Service) openSignInChallenge(ctx context.Context, challenge string) (*signInChallenge, error) {
	b, err := base64.RawURLEncoding.DecodeString(challenge)
	if err != nil || len(b) != challengeLen || b[0] != challengeVersion {
		return nil, errChallengeNotFound
	}
	key, err := s.challengeKey(ctx)
	if err != nil {
		return nil, err
	}
	body := b[:challengeLen-challengeMAC]
	if !hmac.Equal(b[len(body):], challengeTag(key, body)) {
		return nil, errChallengeNotFound
	}
	c := &signInChallenge{Expires: time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:9]))).UTC()}
	if !s.now().Before(c.Expires) {
		return nil, errChallengeNotFound
	}
	if id := uuid.UUID(b[9+challengeRandom : 9+challengeRandom+16]); id != uuid.Nil {
		c.UserID = id.String()
	}
	return c, nil
}

func challengeTag(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("latchkey sign-in challenge\x00"))
	m.Write(body)
	return m.Sum(nil)[:challengeMAC]
}

// challengeKey returns the key that authenticates sign-in challenges, creating it on first use.
// Several nodes starting together agree on one key through CreateSetting.
func (s *Service) challengeKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	key, err := s.Store.GetSetting(ctx, challengeKeyName)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("challenge key: %w", err)
		}
		err = s.Store.CreateSetting(ctx, challengeKeyName, key)
		if latchkey.IsKind(err, latchkey.ECONFLICT) {
			key, err = s.Store.GetSetting(ctx, challengeKeyName)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("challenge key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("challenge key: stored key is %d bytes, want 32", len(key))
	}
	s.key = key
	return key, nil
}
