package latchkey

import (
	"context"
	"strings"
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
	// AppID is the application's client id, or the user action (registerSecurityInformation)
	// conditional access was evaluated for; empty for a sign-in to Latchkey's own pages.
	AppID string `json:"appId,omitempty"`
	// Platform and PlatformVersion come from UA client hints (Sec-CH-UA-Platform[-Version]),
	// or from the classic User-Agent string when the browser sends none.
	Platform        string `json:"platform,omitempty"`
	PlatformVersion string `json:"platformVersion,omitempty"`
	// Strength lists the authentication strengths demanded of this sign-in that it met,
	// comma-separated.
	Strength string   `json:"authenticationStrength,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	// ConditionalAccess is every conditional access policy's result.
	ConditionalAccess []PolicyResult `json:"appliedConditionalAccessPolicies,omitempty"`
}

// PolicyResult is one conditional access policy's result for one sign-in (DESIGN §5 values:
// success, failure, notApplied, reportOnlySuccess, reportOnlyFailure, reportOnlyNotApplied,
// reportOnlyInterrupted).
type PolicyResult struct {
	PolicyID string `json:"id"`
	Name     string `json:"displayName"`
	Result   string `json:"result"`
	Detail   string `json:"detail,omitempty"`
}

// SignInStore persists the sign-in log.
type SignInStore interface {
	// RecordSignIn appends e to the sign-in log, assigning ID and CreatedAt when empty.
	RecordSignIn(ctx context.Context, e *SignInEvent) error
	// ListSignIns returns the newest events first; userID filters when not empty.
	ListSignIns(ctx context.Context, userID string, limit int) ([]*SignInEvent, error)
	// ListSignInsFiltered returns the events matching every set field of f, newest first.
	ListSignInsFiltered(ctx context.Context, f SignInFilter) ([]*SignInEvent, error)
}

// MaxSignInFilterLimit is the most events ListSignInsFiltered returns, and what a Limit of zero
// or less means.
const MaxSignInFilterLimit = 1000

// SignInFilter selects sign-in events; an empty field does not filter.
type SignInFilter struct {
	UserID    string
	Result    string
	Method    string
	ErrorCode string
	AppID     string
	// Since keeps events at or after it; Until keeps events strictly before it.
	Since, Until time.Time
	// Limit caps the number of events; zero or less, or more than MaxSignInFilterLimit, means
	// MaxSignInFilterLimit.
	Limit int
}

// EffectiveLimit is the number of events f allows.
func (f SignInFilter) EffectiveLimit() int {
	if f.Limit <= 0 || f.Limit > MaxSignInFilterLimit {
		return MaxSignInFilterLimit
	}
	return f.Limit
}

// SettingStore keeps small named JSON documents (policies, keys) shared by all nodes.
type SettingStore interface {
	// GetSetting returns the value stored under key; ErrNotFound when there is none.
	GetSetting(ctx context.Context, key string) ([]byte, error)
	// UpdateSetting changes the value under key atomically: in one transaction it reads the
	// current value (nil when key has none), calls fn with it and stores what fn returns (nil is
	// stored as empty), so that no other change of key, from this node or another, lands between
	// the read and the write. It returns the value stored. When fn returns an error, nothing is
	// written and that error is returned as it is, so a caller can abort with a sentinel of its
	// own. fn runs while the store holds a write lock: it must be quick and must not call the
	// store (that may deadlock); it may be called more than once, so it must not have effects
	// outside its result. To replace a value outright, fn ignores current.
	UpdateSetting(ctx context.Context, key string, fn func(current []byte) ([]byte, error)) ([]byte, error)
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
	LegacyCredentialStore
	RoleStore
	APITokenStore
	AuditStore
	CountStore
	ProvisioningStore
	MailStore
	HelpdeskStore
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Heartbeat records, in one row per node, that node wrote at time at. The health check
	// calls it to learn whether the store can be written right now.
	Heartbeat(ctx context.Context, node string, at time.Time) error
	// Close releases the store's connections; calls after it fail as unavailable.
	Close() error
}

// AMRText returns AMR as the stores keep it and the sign-in log shows it: space-separated.
func (e *SignInEvent) AMRText() string { return strings.Join(e.AMR, " ") }
