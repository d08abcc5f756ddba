package latchkey

import (
	"context"
	"time"
)

// Authentication methods recorded on sessions and sign-in events.
const (
	MethodPasskey = "passkey"
	MethodTAP     = "tap"
	// MethodPassword and MethodTOTP are the legacy methods, for migration only (DESIGN §2).
	MethodPassword = "password"
	MethodTOTP     = "totp"
)

// Session is a signed-in browser or API client. Its ID is a hash of the secret token held in the
// cookie, so a copy of the store does not hand out working sessions.
type Session struct {
	ID              string    `json:"id"`
	UserID          string    `json:"userId"`
	Methods         []string  `json:"methods"`
	PasskeyID       string    `json:"passkeyId,omitempty"`
	AccessPassID    string    `json:"accessPassId,omitempty"`
	CreatedAt       time.Time `json:"createdDateTime"`
	AuthenticatedAt time.Time `json:"authenticatedDateTime"`
	ExpiresAt       time.Time `json:"expiresDateTime"`
	IP              string    `json:"ipAddress,omitempty"`
	UserAgent       string    `json:"userAgent,omitempty"`
}

// HasMethod reports whether the session was established with method m.
func (s *Session) HasMethod(m string) bool {
	for _, x := range s.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// SessionStore persists sessions. A session lasts no longer than the credential it was made
// with: replacing or deleting a pass, and deleting or flagging a passkey, deletes the sessions
// made with it in the same transaction (AccessPassStore, PasskeyStore), so FindSession stops
// returning them at once, on every node.
type SessionStore interface {
	// CreateSession stores s. ErrConflict when its ID exists; ErrNotFound when its user does not
	// exist, or when it was made with a pass (AccessPassID) that no longer exists, so that a
	// sign-in racing with the pass's replacement leaves no session behind.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns a session that has not expired at now; ErrNotFound otherwise.
	FindSession(ctx context.Context, id string, now time.Time) (*Session, error)
	// DeleteSession removes the session, if it exists.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes sessions that expired before now and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
	// EndUserSessions removes every session and every refresh token of the user, in one
	// transaction ("sign out everywhere"), and returns how many of each it removed.
	EndUserSessions(ctx context.Context, userID string) (sessions, refreshTokens int, err error)
}

// Ceremony kinds of a WebAuthn challenge.
const (
	CeremonyRegistration   = "registration"
	CeremonyAuthentication = "authentication"
)

// Challenge is a pending WebAuthn ceremony: the session data go-webauthn needs to finish it.
// It lives in the store so that a ceremony begun on one node can finish on another.
type Challenge struct {
	ID        string // the challenge itself, base64url, as it appears in clientDataJSON
	Ceremony  string // CeremonyRegistration or CeremonyAuthentication
	UserID    string // empty for usernameless sign-in
	SessionID string // the session that began a registration
	Data      []byte // JSON of webauthn.SessionData
	ExpiresAt time.Time
}

// ChallengeStore persists pending ceremonies.
type ChallengeStore interface {
	// CreateChallenge stores a pending ceremony; ErrConflict when its ID is taken.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// TakeChallenge deletes and returns the challenge in one step: of many racing callers
	// exactly one gets it, the others get ErrNotFound. Expired challenges are ErrNotFound too.
	TakeChallenge(ctx context.Context, id string, now time.Time) (*Challenge, error)
	// MarkChallengeUsed records that a self-contained challenge (one never stored by
	// CreateChallenge) was answered, as CompletePasskeySignIn does; ErrChallengeUsed when it was
	// recorded before. It serves refusals that must still use up the challenge.
	MarkChallengeUsed(ctx context.Context, id string, expiresAt time.Time) error
	// DeleteExpiredChallenges removes pending challenges, and records of used ones
	// (CompletePasskeySignIn), that expired at or before now, and returns how many.
	DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error)
}
