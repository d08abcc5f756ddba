package latchkey

import (
	"context"
	"time"
)

// LegacyCredentials are a user's legacy sign-in methods, kept for migration only (DESIGN §2): a
// password (only its argon2id hash) and an authenticator app (TOTP), with how often the person
// said "Not now" to creating a passkey. A user without any has the zero value.
type LegacyCredentials struct {
	UserID string
	// PasswordHash is the argon2id hash in the PHC string format; empty when no password is set.
	PasswordHash  string
	PasswordSetAt *time.Time
	// TOTPSecret is the base32 secret of the authenticator app; empty when none is set up. It is
	// usable only once TOTPConfirmed: the person has typed a first valid code.
	TOTPSecret    string
	TOTPConfirmed bool
	// TOTPLastStep is the time step (Unix time / 30 s) of the last accepted code: a code for this
	// step or an earlier one is refused, so that each code works once.
	TOTPLastStep int64
	// NudgeSnoozes counts the times the person chose "Not now" when offered to create a passkey.
	NudgeSnoozes int
}

// HasPassword reports whether a password is set.
func (c *LegacyCredentials) HasPassword() bool { return c.PasswordHash != "" }

// HasTOTP reports whether a confirmed authenticator app is set up.
func (c *LegacyCredentials) HasTOTP() bool { return c.TOTPSecret != "" && c.TOTPConfirmed }

// LegacyCredentialStore persists legacy credentials, one record per user, removed with the user.
type LegacyCredentialStore interface {
	// FindLegacyCredentials returns the user's legacy credentials: the zero value (with UserID
	// set) when the user has none, also for an unknown user.
	FindLegacyCredentials(ctx context.Context, userID string) (*LegacyCredentials, error)
	// SetPassword stores the user's password hash and when it was set, replacing any earlier one.
	// ErrNotFound when the user does not exist.
	SetPassword(ctx context.Context, userID, hash string, at time.Time) error
	// DeletePassword removes the user's password, if any.
	DeletePassword(ctx context.Context, userID string) error
	// SetPendingTOTP stores a new, unconfirmed authenticator secret. It returns ErrConflict when
	// the user has a confirmed one (remove it first), ErrNotFound when the user does not exist.
	SetPendingTOTP(ctx context.Context, userID, secret string) error
	// ConfirmTOTP confirms the pending secret after a first valid code for step, which becomes
	// the last accepted step. ErrConflict when the pending secret is no longer secret (replaced,
	// removed or already confirmed).
	ConfirmTOTP(ctx context.Context, userID, secret string, step int64) error
	// DeleteTOTP removes the user's authenticator secret, confirmed or not.
	DeleteTOTP(ctx context.Context, userID string) error
	// AdvanceTOTPStep records step as the last accepted code's step, atomically and only when it
	// is later than the one recorded: of many racing calls for one step exactly one succeeds,
	// the others get ErrConflict. ErrNotFound when the user has no confirmed authenticator.
	AdvanceTOTPStep(ctx context.Context, userID string, step int64) error
	// SnoozeNudge adds one to the user's "Not now" count and returns the new count.
	// ErrNotFound when the user does not exist.
	SnoozeNudge(ctx context.Context, userID string) (int, error)
}
