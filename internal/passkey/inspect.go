package passkey

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// InspectOptions are what a registration response is checked against.
type InspectOptions struct {
	// Challenge is the challenge the relying party sent, base64url as it appears in clientDataJSON. Empty accepts
	// whatever challenge the response carries (the inspection says so in Notes).
	Challenge string
	// Origin is the expected origin, e.g. https://id.example.com. Empty accepts the origin in clientDataJSON.
	Origin string
	// RPID is the expected relying-party ID. Empty derives it from Origin's host, or from the host of the origin
	// in clientDataJSON when Origin is empty too.
	RPID string
	// AllowCrossOrigin accepts a response made in a cross-origin iframe (clientDataJSON.crossOrigin true).
	AllowCrossOrigin bool
	// TopOrigins are the top-level origins accepted for a cross-origin response that names its topOrigin.
	TopOrigins []string
	// At is the verification time; zero means now. go-webauthn v0.18.2 checks attestation certificates against
	// the current clock and offers no way to set it, so At only decides the validity reported for each
	// certificate of the chain; a certificate that has expired since At still fails verification, with
	// certificate_expired.
	At time.Time
}

// Inspection is what Inspect found in a registration response and whether it verifies.
type Inspection struct {
	OK          bool   `json:"ok"`
	Error       string `json:"error,omitempty"`
	ErrorDetail string `json:"errorDetail,omitempty"`

	Format             string `json:"format,omitempty"`
	AAGUID             string `json:"aaguid,omitempty"`
	Provider           string `json:"provider,omitempty"`
	Flags              string `json:"flags,omitempty"`
	UserPresent        bool   `json:"userPresent"`
	UserVerified       bool   `json:"userVerified"`
	BackupEligible     bool   `json:"backupEligible"`
	BackupState        bool   `json:"backupState"`
	Kind               string `json:"kind,omitempty"`
	SignCount          uint32 `json:"signCount"`
	CredentialID       string `json:"credentialId,omitempty"`
	PublicKeyAlgorithm string `json:"publicKeyAlgorithm,omitempty"`
	// CredentialPublicKey is the COSE credential public key, base64url.
	CredentialPublicKey string   `json:"credentialPublicKey,omitempty"`
	Transports          []string `json:"transports,omitempty"`

	// Attestation is the trust result (latchkey.Attestation*), set when the attestation statement verified.
	Attestation     string      `json:"attestation,omitempty"`
	AttestationType string      `json:"attestationType,omitempty"`
	Chain           []ChainCert `json:"chain,omitempty"`

	ClientData *ClientData `json:"clientData,omitempty"`

	// RPID and Origin are what the response was checked against.
	RPID   string `json:"rpId,omitempty"`
	Origin string `json:"origin,omitempty"`
	// VerifiedAt is the time the certificates' validity is reported for.
	VerifiedAt time.Time `json:"verifiedAt"`
	// Notes say what was not checked or was taken from the response itself.
	Notes []string `json:"notes,omitempty"`

	// Profiles holds the verdicts of a user's passkey profiles on the credential at registration,
	// when the inspection was asked for a user (`latchkey passkey inspect --user`).
	Profiles []ProfileVerdict `json:"profiles,omitempty"`
	// Policy is the authentication methods policy's overall verdict for that user.
	Policy *PolicyVerdict `json:"policy,omitempty"`
}

// ProfileVerdict is whether a passkey profile would accept the credential, and why not.
type ProfileVerdict struct {
	Profile string `json:"profile"` // the profile's id
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	Code    string `json:"code,omitempty"`
	Detail  string `json:"detail"`
}

// PolicyVerdict is the policy's overall verdict on registering the credential for a user: the
// first refusing rule's code when refused, or the profile that accepts it.
type PolicyVerdict struct {
	User    string `json:"user"`
	Allowed bool   `json:"allowed"`
	Profile string `json:"profile,omitempty"` // the id of the accepting profile
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// Attestation is the attestation result the policy was evaluated with, and AttestationDetail
	// how it was reached (against imported FIDO metadata when there is some).
	Attestation       string `json:"attestation"`
	AttestationDetail string `json:"attestationDetail,omitempty"`
}

// ChainCert describes one certificate of the attestation statement's x5c chain.
type ChainCert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// Valid says whether the certificate is within its validity period at the verification time.
	Valid bool `json:"valid"`
}

// ClientData is the part of clientDataJSON the relying party checks.
type ClientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
	TopOrigin   string `json:"topOrigin,omitempty"`
}

// Refusal codes of an Inspection.
const (
	InspectMalformed         = "malformed_response"
	InspectWrongType         = "wrong_ceremony_type"
	InspectChallengeMismatch = "challenge_mismatch"
	InspectOriginMismatch    = "origin_mismatch"
	InspectCrossOrigin       = "cross_origin"
	InspectTopOriginMismatch = "top_origin_mismatch"
	InspectRPIDMismatch      = "rp_id_mismatch"
	InspectRPIDUnknown       = "rp_id_unknown"
	InspectUserNotPresent    = "user_not_present"
	InspectUnsupportedAlg    = "unsupported_algorithm"
	InspectUnsupportedFormat = "unsupported_format"
	InspectBadSignature      = "bad_signature"
	InspectCertExpired       = "certificate_expired"
	InspectUntrustedRoot     = "untrusted_root"
	InspectAttestation       = "attestation_invalid"
	InspectCredentialID      = "credential_id_mismatch"
	InspectInvalidFlags      = "invalid_flags"
	InspectVerification      = "verification_failed"
)

// Inspect parses a registration response (RegistrationResponseJSON) and verifies it the way
// webauthn.CreateCredential does: client data against the challenge and origin, the authenticator data against
// the RP ID with user presence required (user verification is reported, not required), the credential algorithm
// against go-webauthn's default list, and the attestation statement with its format's procedure. It never
// returns nil; a response that does not verify has OK false and a refusal code in Error.
func Inspect(body []byte, o InspectOptions) *Inspection {
	in := &Inspection{VerifiedAt: o.At}
	if in.VerifiedAt.IsZero() {
		in.VerifiedAt = time.Now()
	}
	in.VerifiedAt = in.VerifiedAt.UTC().Truncate(time.Second)

	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		in.ClientData = lenientClientData(body)
		in.refuse(InspectMalformed, err)
		// go-webauthn drops the cause of a failed attestation-response parse; ask its parser again for it.
		var ccr protocol.CredentialCreationResponse
		if json.Unmarshal(body, &ccr) == nil {
			if _, cause := ccr.AttestationResponse.Parse(); cause != nil {
				in.ErrorDetail += ": " + errorDetail(cause)
			}
		}
		return in
	}
	in.describe(parsed)

	cd := parsed.Response.CollectedClientData
	challenge := o.Challenge
	if challenge == "" {
		challenge = cd.Challenge
		in.Notes = append(in.Notes, "no challenge given: the response's own challenge was accepted")
	}
	origin := o.Origin
	if origin == "" {
		origin = cd.Origin
		in.Notes = append(in.Notes, "no origin given: the response's own origin was accepted")
	}
	in.Origin = origin
	rpID := o.RPID
	if rpID == "" {
		if u, err := url.Parse(origin); err == nil {
			rpID = u.Hostname()
		}
		if rpID == "" {
			in.refuse(InspectRPIDUnknown, fmt.Errorf("cannot derive an RP ID from origin %q; give one", origin))
			return in
		}
	}
	in.RPID = rpID
	if !o.At.IsZero() {
		in.Notes = append(in.Notes, "go-webauthn checks attestation certificates against the current time, not "+in.VerifiedAt.Format(time.RFC3339))
	}

	_, err = parsed.Verify(challenge, rpID, []string{origin}, nil, o.TopOrigins,
		protocol.TopOriginExplicitVerificationMode, o.AllowCrossOrigin,
		false, // user verification is reported, not required
		true,  // user presence is required
		nil, webauthn.CredentialParametersDefault(),
		protocol.AttestationPolicy{
			AndroidKey: protocol.AndroidKeyPolicy{AuthorizationScope: protocol.AndroidKeyAuthorizationScopeTEEEnforced},
			Compound:   protocol.CompoundPolicy{SubStatementScope: protocol.CompoundSubStatementScopeAll},
		},
		protocol.SignaturePolicy{ECDSAEncoding: protocol.ECDSASignatureEncodingDER})
	if err != nil {
		in.refuse(classify(err), err)
		if in.Error == InspectCertExpired {
			now := time.Now()
			for _, c := range in.Chain {
				if now.Before(c.NotBefore) || now.After(c.NotAfter) {
					in.ErrorDetail += fmt.Sprintf("; %q is valid %s to %s", c.Subject, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
				}
			}
		}
		return in
	}
	// §7.1 step 18, as CreateCredential checks it.
	if flags := parsed.Response.AttestationObject.AuthData.Flags; !flags.HasBackupEligible() && flags.HasBackupState() {
		in.refuse(InspectInvalidFlags, errors.New("backup state flag set but backup eligible flag not set"))
		return in
	}
	in.OK = true
	att := parsed.Response.AttestationObject
	in.AttestationType = att.Type
	in.Attestation = AttestationTrust(att.Format, att.Type)
	if att.Format == string(protocol.AttestationFormatCompound) {
		in.Attestation = compoundTrust(att.SubStatements)
	}
	return in
}

// describe fills in what the parsed response says, before anything is verified.
func (in *Inspection) describe(p *protocol.ParsedCredentialCreationData) {
	cd := p.Response.CollectedClientData
	in.ClientData = &ClientData{Type: string(cd.Type), Challenge: cd.Challenge, Origin: cd.Origin, CrossOrigin: cd.CrossOrigin, TopOrigin: cd.TopOrigin}
	att := p.Response.AttestationObject
	ad := att.AuthData
	in.Format = att.Format
	aaguid := uuid.Nil
	if id, err := uuid.FromBytes(ad.AttData.AAGUID); err == nil {
		aaguid = id
	}
	in.AAGUID = aaguid.String()
	in.Provider = ProviderName(in.AAGUID)
	in.Flags = fmt.Sprintf("0x%02x", byte(ad.Flags))
	in.UserPresent = ad.Flags.HasUserPresent()
	in.UserVerified = ad.Flags.HasUserVerified()
	in.BackupEligible = ad.Flags.HasBackupEligible()
	in.BackupState = ad.Flags.HasBackupState()
	in.Kind = latchkey.KindOf(in.BackupEligible)
	in.SignCount = ad.Counter
	in.CredentialID = base64.RawURLEncoding.EncodeToString(ad.AttData.CredentialID)
	in.CredentialPublicKey = base64.RawURLEncoding.EncodeToString(ad.AttData.CredentialPublicKey)
	var pk webauthncose.PublicKeyData
	if err := webauthncbor.Unmarshal(ad.AttData.CredentialPublicKey, &pk); err == nil {
		in.PublicKeyAlgorithm = webauthncose.COSEAlgorithmIdentifier(pk.Algorithm).String()
	}
	for _, t := range p.Response.Transports {
		in.Transports = append(in.Transports, string(t))
	}
	statements := []map[string]any{att.AttStatement}
	for _, s := range att.SubStatements {
		statements = append(statements, s.AttStatement)
	}
	for _, st := range statements {
		x5c, _ := st["x5c"].([]any)
		for _, raw := range x5c {
			der, ok := raw.([]byte)
			if !ok {
				continue
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				continue
			}
			in.Chain = append(in.Chain, ChainCert{
				Subject:   c.Subject.String(),
				Issuer:    c.Issuer.String(),
				NotBefore: c.NotBefore.UTC(),
				NotAfter:  c.NotAfter.UTC(),
				Valid:     !in.VerifiedAt.Before(c.NotBefore) && !in.VerifiedAt.After(c.NotAfter),
			})
		}
	}
}

// compoundTrust is the weakest trust of a compound statement's verified sub-statements.
func compoundTrust(subs []protocol.NonCompoundAttestationObject) string {
	rank := map[string]int{latchkey.AttestationNone: 0, latchkey.AttestationSelf: 1, latchkey.AttestationUntrusted: 2, latchkey.AttestationAttested: 3}
	trust := ""
	for _, s := range subs {
		t := latchkey.AttestationUntrusted
		if _, hasX5C := s.AttStatement["x5c"]; !hasX5C {
			t = latchkey.AttestationSelf
		}
		if s.Format == string(protocol.AttestationFormatNone) {
			t = latchkey.AttestationNone
		}
		if trust == "" || rank[t] < rank[trust] {
			trust = t
		}
	}
	if trust == "" {
		return latchkey.AttestationNone
	}
	return trust
}

func (in *Inspection) refuse(code string, err error) {
	in.OK = false
	in.Error = code
	in.ErrorDetail = errorDetail(err)
}

// errorDetail renders a go-webauthn error with its details and developer information.
func errorDetail(err error) string {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	parts := []string{}
	for _, s := range []string{pe.Details, pe.DevInfo} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if pe.Err != nil && !strings.Contains(strings.Join(parts, " "), pe.Err.Error()) {
		parts = append(parts, pe.Err.Error())
	}
	return strings.Join(strings.Fields(strings.Join(parts, ": ")), " ")
}

// classify maps a go-webauthn verification error to a stable refusal code. go-webauthn reports the step that failed
// only in its messages, so the mapping follows them.
func classify(err error) string {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return InspectVerification
	}
	msg := strings.ToLower(pe.Details + " " + pe.DevInfo)
	var certErr x509.CertificateInvalidError
	switch {
	case strings.Contains(msg, "validating ceremony type"):
		return InspectWrongType
	case strings.Contains(msg, "validating challenge"):
		return InspectChallengeMismatch
	case strings.Contains(msg, "validating origin"):
		return InspectOriginMismatch
	case strings.Contains(msg, "validating cross origin"):
		return InspectCrossOrigin
	case strings.Contains(msg, "top origin"), strings.Contains(msg, "toporigin"):
		return InspectTopOriginMismatch
	case strings.Contains(msg, "token binding"):
		return InspectMalformed
	case strings.Contains(msg, "rp hash mismatch"):
		return InspectRPIDMismatch
	case strings.Contains(msg, "user presence required"):
		return InspectUserNotPresent
	case strings.Contains(msg, "public key algorithm not supported"):
		return InspectUnsupportedAlg
	case strings.Contains(msg, "attested credential id"):
		return InspectCredentialID
	case strings.Contains(msg, "is unsupported"):
		return InspectUnsupportedFormat
	case errors.As(err, &certErr) && certErr.Reason == x509.Expired,
		strings.Contains(msg, "no longer valid or not yet valid"):
		return InspectCertExpired
	case errors.As(err, new(x509.UnknownAuthorityError)), strings.Contains(msg, "signed by unknown authority"):
		// android-key and apple chains must reach the vendor roots go-webauthn ships.
		return InspectUntrustedRoot
	case strings.Contains(msg, "signature"):
		return InspectBadSignature
	case pe.Type == protocol.ErrParsingData.Type || pe.Type == protocol.ErrBadRequest.Type:
		return InspectMalformed
	case pe.Type == protocol.ErrInvalidAttestation.Type || pe.Type == protocol.ErrAttestation.Type ||
		pe.Type == protocol.ErrAttestationCertificate.Type:
		return InspectAttestation
	}
	return InspectVerification
}

// lenientClientData reads clientDataJSON from a response go-webauthn could not parse, so that an inspection of a
// malformed response still shows what it was made for.
func lenientClientData(body []byte) *ClientData {
	var r struct {
		Response struct {
			ClientDataJSON string `json:"clientDataJSON"`
		} `json:"response"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(r.Response.ClientDataJSON, "="))
	if err != nil {
		return nil
	}
	var cd ClientData
	if json.Unmarshal(raw, &cd) != nil {
		return nil
	}
	return &cd
}

// UnwrapResponse returns the RegistrationResponseJSON held in the "response" member of an envelope such as a test
// vector ({"id": "vector name", "response": {"id": ..., "response": {"clientDataJSON": ...}}}), or body itself.
func UnwrapResponse(body []byte) []byte {
	var outer map[string]json.RawMessage
	if json.Unmarshal(body, &outer) != nil {
		return body
	}
	inner, ok := outer["response"]
	if !ok {
		return body
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(inner, &fields) != nil {
		return body
	}
	if _, isCredential := fields["response"]; !isCredential {
		return body
	}
	return bytes.TrimSpace(inner)
}
