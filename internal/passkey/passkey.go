// Package passkey adapts go-webauthn to Latchkey: the relying-party configuration, the mapping
// between go-webauthn credentials and Latchkey passkeys (kind, provider, attestation trust), and
// the bundled catalogue of passkey providers.
package passkey

import (
	"fmt"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// CeremonyTimeout is how long a person has to finish a registration or sign-in ceremony.
const CeremonyTimeout = 5 * time.Minute

// NewWebAuthn returns the relying party for publicURL: RP ID is its host, the origin its
// scheme://host[:port]. Registration asks for a discoverable credential, user verification and
// direct attestation, so that later policy can verify where a passkey comes from.
func NewWebAuthn(publicURL, displayName string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("parse public URL %q: must look like https://id.example.com", publicURL)
	}
	requireResident := true
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTimeout, TimeoutUVD: CeremonyTimeout}
	return webauthn.New(&webauthn.Config{
		RPID:                  u.Hostname(),
		RPDisplayName:         displayName,
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferDirectAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &requireResident,
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
}

// UserHandle returns the WebAuthn user handle of a user: the 16 bytes of its random UUID, so
// the handle carries no personal data.
func UserHandle(userID string) []byte {
	id, err := uuid.Parse(userID)
	if err != nil {
		return []byte(userID)
	}
	return id[:]
}

// UserIDFromHandle is the inverse of UserHandle.
func UserIDFromHandle(handle []byte) (string, error) {
	id, err := uuid.FromBytes(handle)
	if err != nil {
		return "", fmt.Errorf("parse user handle: %w", err)
	}
	return id.String(), nil
}

// User is a Latchkey user with their passkeys, as go-webauthn sees them.
type User struct {
	*latchkey.User
	Passkeys []*latchkey.Passkey
}

// WebAuthnID implements webauthn.User.
func (u User) WebAuthnID() []byte { return UserHandle(u.ID) }

// WebAuthnName implements webauthn.User.
func (u User) WebAuthnName() string { return u.UserPrincipalName }

// WebAuthnDisplayName implements webauthn.User.
func (u User) WebAuthnDisplayName() string { return u.DisplayName }

// WebAuthnCredentials implements webauthn.User.
func (u User) WebAuthnCredentials() []webauthn.Credential {
	creds := make([]webauthn.Credential, len(u.Passkeys))
	for i, p := range u.Passkeys {
		creds[i] = Credential(p)
	}
	return creds
}

// Descriptors returns the credential descriptors of the user's passkeys, for excludeCredentials
// and allowCredentials.
func (u User) Descriptors() []protocol.CredentialDescriptor {
	d := make([]protocol.CredentialDescriptor, len(u.Passkeys))
	for i, p := range u.Passkeys {
		c := Credential(p)
		d[i] = c.Descriptor()
	}
	return d
}

// Credential returns the go-webauthn credential record of a stored passkey.
func Credential(p *latchkey.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	var aaguid []byte
	if id, err := uuid.Parse(p.AAGUID); err == nil {
		aaguid = id[:]
	}
	return webauthn.Credential{
		ID:                p.CredentialID,
		PublicKey:         p.PublicKey,
		AttestationType:   p.AttestationType,
		AttestationFormat: p.AttestationFormat,
		Transport:         transports,
		Flags: webauthn.CredentialFlags{
			UserPresent:    true,
			UserVerified:   p.UserVerified,
			BackupEligible: p.BackupEligible,
			BackupState:    p.BackupState,
		},
		Authenticator: webauthn.Authenticator{AAGUID: aaguid, SignCount: p.SignCount},
	}
}

// NewPasskey describes a credential go-webauthn has just verified as a Latchkey passkey: its kind
// from the backup-eligible flag, its provider from the AAGUID, and its attestation trust.
func NewPasskey(userID string, c *webauthn.Credential) *latchkey.Passkey {
	aaguid := uuid.Nil
	if id, err := uuid.FromBytes(c.Authenticator.AAGUID); err == nil {
		aaguid = id
	}
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	p := &latchkey.Passkey{
		ID:                latchkey.NewID(),
		UserID:            userID,
		CredentialID:      c.ID,
		PublicKey:         c.PublicKey,
		SignCount:         c.Authenticator.SignCount,
		AAGUID:            aaguid.String(),
		AttestationFormat: c.AttestationFormat,
		AttestationType:   c.AttestationType,
		AttestationTrust:  AttestationTrust(c.AttestationFormat, c.AttestationType),
		Transports:        transports,
		BackupEligible:    c.Flags.BackupEligible,
		BackupState:       c.Flags.BackupState,
		UserVerified:      c.Flags.UserVerified,
		Kind:              latchkey.KindOf(c.Flags.BackupEligible),
		Provider:          ProviderName(aaguid.String()),
		AttestationObject: c.Attestation.Object,
		ClientDataJSON:    c.Attestation.ClientDataJSON,
	}
	p.Nickname = DefaultNickname(p)
	return p
}

// AttestationTrust classifies a verified attestation statement. Without imported metadata a
// certificate chain cannot reach a trusted root, so it is "untrusted" until metadata says more.
func AttestationTrust(format, attestationType string) string {
	switch {
	case format == "" || format == string(protocol.AttestationFormatNone):
		return latchkey.AttestationNone
	case attestationType == "basic_surrogate" || attestationType == "self":
		return latchkey.AttestationSelf
	}
	return latchkey.AttestationUntrusted
}

// DefaultNickname names a new passkey after its provider, or after what it is.
func DefaultNickname(p *latchkey.Passkey) string {
	if p.Provider != "" {
		return p.Provider
	}
	for _, t := range p.Transports {
		switch t {
		case "usb", "nfc", "ble", "smart-card":
			return "Security key"
		case "hybrid":
			return "Phone or tablet"
		}
	}
	if p.Kind == latchkey.KindSynced {
		return "Synced passkey"
	}
	return "Passkey on this device"
}
