package latchkey

import (
	"context"
	"time"
)

// Passkey kinds.
const (
	KindDeviceBound = "device-bound" // BE=0: the key cannot leave the authenticator
	KindSynced      = "synced"       // BE=1: the key is copied between devices by a provider
)

// Attestation trust results.
const (
	AttestationNone      = "none"      // the authenticator sent no attestation statement
	AttestationSelf      = "self"      // signed by the credential key itself
	AttestationUntrusted = "untrusted" // a certificate chain that reaches no metadata root we hold
	AttestationAttested  = "attested"  // a chain to a metadata root
)

// KindOf returns the passkey kind implied by the backup-eligible flag.
func KindOf(backupEligible bool) string {
	if backupEligible {
		return KindSynced
	}
	return KindDeviceBound
}

// Passkey is a WebAuthn credential registered by a user.
type Passkey struct {
	ID                string     `json:"id"`
	UserID            string     `json:"userId"`
	CredentialID      []byte     `json:"-"`
	PublicKey         []byte     `json:"-"`
	SignCount         uint32     `json:"signCount"`
	AAGUID            string     `json:"aaguid"`
	AttestationFormat string     `json:"attestationFormat"`
	AttestationType   string     `json:"attestationType,omitempty"`
	AttestationTrust  string     `json:"attestation"`
	Transports        []string   `json:"transports"`
	BackupEligible    bool       `json:"backupEligible"`
	BackupState       bool       `json:"backupState"`
	UserVerified      bool       `json:"userVerified"`
	Kind              string     `json:"kind"`
	Provider          string     `json:"provider"`
	Nickname          string     `json:"displayName"`
	PossibleClone     bool       `json:"possibleClone"`
	CreatedAt         time.Time  `json:"createdDateTime"`
	LastUsedAt        *time.Time `json:"lastUsedDateTime,omitempty"`
	LastUsedPlatform  string     `json:"lastUsedPlatform,omitempty"`
	// AttestationObject and ClientDataJSON are kept so that the attestation can be re-verified
	// later against metadata the admin imports after registration.
	AttestationObject []byte `json:"-"`
	ClientDataJSON    []byte `json:"-"`
}

// PasskeyStore persists passkeys. Credential IDs are unique across all users.
type PasskeyStore interface {
	// CreatePasskey stores p, assigning ID and CreatedAt when empty. ErrConflict when the credential ID exists.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// FindPasskeyByID returns the passkey with the given ID; ErrNotFound when there is none.
	FindPasskeyByID(ctx context.Context, id string) (*Passkey, error)
	// FindPasskeyForSignIn reads, in one query, everything the first step of a sign-in needs: the
	// passkey with credentialID (without AttestationObject and ClientDataJSON), its owner, the owner's group ids, and the values of the named
	// settings (absent keys are left out of the map). ErrNotFound when there is no such passkey.
	FindPasskeyForSignIn(ctx context.Context, credentialID []byte, settings ...string) (*SignInSubject, error)
	// ListPasskeysByUser returns a user's passkeys, oldest first.
	ListPasskeysByUser(ctx context.Context, userID string) ([]*Passkey, error)
	// RenamePasskey sets the nickname of the user's passkey; ErrNotFound when it is not theirs.
	RenamePasskey(ctx context.Context, userID, id, nickname string) error
	// DeletePasskey removes the user's passkey and ends the sessions made with it
	// (Session.PasskeyID), in one transaction; ErrNotFound when it is not theirs.
	DeletePasskey(ctx context.Context, userID, id string) error
	// FlagPasskeyPossibleClone marks a passkey whose counter went backwards and ends the sessions
	// made with it, in one transaction; ErrNotFound when there is no such passkey.
	FlagPasskeyPossibleClone(ctx context.Context, id string) error
	// CompletePasskeySignIn writes everything a successful passkey sign-in writes, in one
	// transaction: the use of its challenge (ErrChallengeUsed when the challenge was used
	// before), the passkey's sign count and last use (ErrConflict when the count does not advance,
	// that is when it is not above the stored count and not zero on both sides, or when the
	// passkey was flagged as possibly cloned, so that of many racing sign-ins with one counter
	// value exactly one wins; ErrNotFound for an unknown passkey), the new session and the
	// sign-in event. On any error nothing is written. Of many racing calls with one challenge,
	// exactly one succeeds.
	CompletePasskeySignIn(ctx context.Context, c *PasskeySignIn) error
}

// SignInSubject is what FindPasskeyForSignIn reads.
type SignInSubject struct {
	Passkey  *Passkey
	User     *User
	GroupIDs []string
	Settings map[string][]byte
}

// PasskeySignIn is what a successful passkey sign-in writes.
type PasskeySignIn struct {
	// ChallengeID is the challenge the assertion answered; its use is recorded until
	// ChallengeExpiresAt so that it cannot be answered again.
	ChallengeID        string
	ChallengeExpiresAt time.Time
	PasskeyID          string
	SignCount          uint32
	UsedAt             time.Time
	Platform           string
	Session            *Session
	Event              *SignInEvent
}

// ErrChallengeUsed is returned when a ceremony's challenge was already answered.
var ErrChallengeUsed = &Error{Kind: ECONFLICT, Code: "challenge_used", Message: "This request was already used. Please start again.", Detail: "the challenge was already answered once"}
