package latchkey

import (
	"context"
	"time"
)

// Sign-in results.
const (
	SignInSuccess = "success"
	SignInFailure = "failure"
)

// SignInEvent is one sign-in attempt, successful or not.
type SignInEvent struct {
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"createdDateTime"`
	UserID        string    `json:"userId,omitempty"`
	UPN           string    `json:"userPrincipalName,omitempty"`
	IP            string    `json:"ipAddress,omitempty"`
	UserAgent     string    `json:"userAgent,omitempty"`
	Method        string    `json:"method"`
	PasskeyID     string    `json:"passkeyId,omitempty"`
	PasskeyKind   string    `json:"passkeyKind,omitempty"`
	AAGUID        string    `json:"aaguid,omitempty"`
	Result        string    `json:"result"`
	ErrorCode     string    `json:"errorCode,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	CorrelationID string    `json:"correlationId"`
}

// SignInStore persists the sign-in log.
type SignInStore interface {
	RecordSignIn(ctx context.Context, e *SignInEvent) error
	// ListSignIns returns the newest events first; userID filters when not empty.
	ListSignIns(ctx context.Context, userID string, limit int) ([]*SignInEvent, error)
}

// SettingStore keeps small named JSON documents (policies, keys) shared by all nodes.
type SettingStore interface {
	// GetSetting returns the value stored under key; ErrNotFound when there is none.
	GetSetting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error
	// CreateSetting stores value under key only when key has no value yet; ErrConflict otherwise.
	// Nodes use it to agree on one generated secret.
	CreateSetting(ctx context.Context, key string, value []byte) error
}

// Store is everything Latchkey persists. Implementations: internal/sqlite and internal/postgres,
// both verified by internal/storetest.
type Store interface {
	UserStore
	GroupStore
	PasskeyStore
	AccessPassStore
	SessionStore
	ChallengeStore
	ThrottleStore
	SignInStore
	SettingStore
	OIDCStore
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}
