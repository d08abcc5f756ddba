package passkey

import (
	"context"
	"crypto/sha1" //nolint:gosec // FIDO key identifiers are SHA-1 of the public key (RFC 5280 method 1).
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/go-webauthn/webauthn/metadata/providers/memory"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// AttestationRevoked is the trust result for an authenticator whose metadata carries an
// undesired status (revoked, compromised keys, user-verification bypass, retired). Policy refuses
// such a passkey with authenticator_revoked; the detail names the status.
const AttestationRevoked = "revoked"

// MDSSettingKey is the setting under which the imported metadata BLOB is shared by every node.
const MDSSettingKey = "mds.blob"

// Metadata is a FIDO Metadata Service (MDS3) BLOB whose signature chain has been verified to the
// FIDO Alliance MDS root (or to a test root), parsed by go-webauthn.
type Metadata struct {
	Number     int       `json:"number"`
	NextUpdate time.Time `json:"nextUpdate"`
	Entries    int       `json:"entries"`
	// Skipped counts entries go-webauthn could not parse; they are left out, not trusted.
	Skipped  int  `json:"skipped,omitempty"`
	TestRoot bool `json:"testRoot,omitempty"`

	byAAGUID map[uuid.UUID]*metadata.Entry
	byKeyID  map[string]*metadata.Entry
	provider metadata.Provider
}

// ParseMDS verifies and parses an MDS3 BLOB (a JWT whose x5c header chains to the root). The root
// is the FIDO Alliance production MDS root shipped by go-webauthn (metadata.ProductionMDSRoot)
// unless testRoot is given. A BLOB whose nextUpdate day has passed at now is refused as expired.
func ParseMDS(blob []byte, testRoot *x509.Certificate, now time.Time) (*Metadata, error) {
	var opts []metadata.DecoderOption
	if testRoot != nil {
		opts = append(opts, metadata.WithRootCertificate(base64.StdEncoding.EncodeToString(testRoot.Raw)))
	}
	opts = append(opts, metadata.WithIgnoreEntryParsingErrors())
	dec, err := metadata.NewDecoder(opts...)
	if err != nil {
		return nil, fmt.Errorf("metadata decoder: %w", err)
	}
	root := "the FIDO Alliance MDS root"
	if testRoot != nil {
		root = fmt.Sprintf("the test root %q", testRoot.Subject.String())
	}
	payload, err := dec.DecodeBytes([]byte(strings.TrimSpace(string(blob))))
	if err != nil {
		return nil, &latchkey.Error{Kind: latchkey.EINVALID, Code: "mds_invalid",
			Message: "The metadata BLOB could not be verified.",
			Detail:  fmt.Sprintf("the BLOB is not a JWT whose signature chain verifies to %s: %v", root, err)}
	}
	parsed, err := dec.Parse(payload)
	if err != nil {
		return nil, &latchkey.Error{Kind: latchkey.EINVALID, Code: "mds_invalid",
			Message: "The metadata BLOB could not be read.", Detail: err.Error()}
	}
	// nextUpdate is a date: the BLOB is current through that whole day (UTC).
	if !now.Before(parsed.Parsed.NextUpdate.AddDate(0, 0, 1)) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "mds_expired", "The metadata BLOB is out of date.",
			"BLOB number %d was due to be replaced on %s; download a current one from %s",
			parsed.Parsed.Number, parsed.Parsed.NextUpdate.Format(time.DateOnly), metadata.ProductionMDSURL)
	}
	m := &Metadata{
		Number:     parsed.Parsed.Number,
		NextUpdate: parsed.Parsed.NextUpdate,
		Entries:    len(parsed.Parsed.Entries),
		Skipped:    len(parsed.Unparsed),
		TestRoot:   testRoot != nil,
		byAAGUID:   parsed.ToMap(),
		byKeyID:    parsed.ToKeyIdentifierMap(),
	}
	m.provider, err = memory.New(
		memory.WithMetadata(m.byAAGUID),
		memory.WithMetadataKeyIdentifiers(m.byKeyID),
		memory.WithValidateEntryKeyIdentifier(true),
		memory.WithValidateTrustAnchor(true),
		memory.WithValidateStatus(true),
		memory.WithValidateEntry(true),
		memory.WithValidateEntryPermitZeroAAGUID(true),
	)
	if err != nil {
		return nil, fmt.Errorf("metadata provider: %w", err)
	}
	return m, nil
}

// Provider returns a go-webauthn metadata provider over the BLOB's entries that validates trust
// anchors, status reports and the presence of an entry; zero-AAGUID (U2F) keys without an entry
// are permitted. It can be given to webauthn.Config{MDS: ...} or Credential.Verify.
func (m *Metadata) Provider() metadata.Provider { return m.provider }

// Name returns the description of the metadata entry for aaguid, or "" when there is none.
func (m *Metadata) Name(aaguid string) string {
	if m == nil {
		return ""
	}
	id, err := uuid.Parse(aaguid)
	if err != nil || id == uuid.Nil {
		return ""
	}
	if e := m.byAAGUID[id]; e != nil {
		return e.MetadataStatement.Description
	}
	return ""
}

// Trust classifies a verified credential's attestation against metadata:
//   - AttestationNone: no attestation statement;
//   - AttestationRevoked: the metadata entry for the credential's AAGUID (or U2F key identifier)
//     carries an undesired status in effect now; detail names it;
//   - AttestationSelf: signed by the credential key itself;
//   - AttestationAttested: go-webauthn re-verifies the stored attestation (Credential.Verify) and
//     its certificate chains to an attestation root the metadata lists for that authenticator;
//   - AttestationUntrusted: a certificate chain that does not reach such a root, or no metadata.
//
// The AAGUID of a self or none attestation is the authenticator's unproven claim; a claim to be a
// revoked model is still reported as revoked, since a genuine revoked authenticator says just that.
func Trust(cred *webauthn.Credential, md *Metadata) (result string, detail string) {
	base := AttestationTrust(cred.AttestationFormat, cred.AttestationType)
	if md == nil {
		switch base {
		case latchkey.AttestationNone:
			return base, "the authenticator sent no attestation statement"
		case latchkey.AttestationSelf:
			return base, "the attestation is signed by the credential key itself"
		}
		return base, "no FIDO metadata has been imported, so the certificate chain cannot be checked"
	}
	ctx := context.Background()
	aaguid := uuid.Nil
	if id, err := uuid.FromBytes(cred.Authenticator.AAGUID); err == nil {
		aaguid = id
	}
	entry, entryName := md.entryFor(cred, aaguid)
	if entry != nil {
		if err := md.provider.ValidateStatusReports(ctx, entry.StatusReports); err != nil {
			return AttestationRevoked, fmt.Sprintf("metadata for %s reports an undesired status: %s", entryName, statusDetail(entry, err))
		}
	}
	switch base {
	case latchkey.AttestationNone:
		return base, "the authenticator sent no attestation statement"
	case latchkey.AttestationSelf:
		return base, "the attestation is signed by the credential key itself"
	}
	if entry == nil {
		return latchkey.AttestationUntrusted, fmt.Sprintf("authenticator %s is not listed in metadata BLOB %d", aaguid, md.Number)
	}
	if len(cred.Attestation.Object) == 0 {
		return latchkey.AttestationUntrusted, "the attestation object was not kept, so it cannot be verified against metadata"
	}
	// Verify re-parses and re-verifies the attestation and, through protocol.ValidateMetadata,
	// checks the certificate chain against the entry's attestation root certificates.
	c := *cred
	if err := c.Verify(md.provider, protocol.AttestationPolicy{}, protocol.SignaturePolicy{}); err != nil {
		return latchkey.AttestationUntrusted, fmt.Sprintf("the attestation does not chain to an attestation root of %s: %s", entryName, verifyDetail(err))
	}
	return latchkey.AttestationAttested, fmt.Sprintf("the attestation chains to an attestation root of %s (metadata BLOB %d)", entryName, md.Number)
}

// verifyDetail spells out a go-webauthn verification error: the innermost protocol error's
// details, then the underlying cause (such as an x509 error).
func verifyDetail(err error) string {
	var inner, cause string
	for e := err; e != nil; e = errors.Unwrap(e) {
		if pe, ok := e.(*protocol.Error); ok {
			if d := strings.TrimSpace(pe.Details); d != "" {
				inner = d
			} else if d := strings.TrimSpace(pe.DevInfo); d != "" {
				inner = d
			}
		} else if errors.Unwrap(e) == nil {
			cause = e.Error()
		}
	}
	switch {
	case inner != "" && cause != "":
		return inner + ": " + cause
	case inner != "":
		return inner
	}
	return err.Error()
}

// entryFor finds the metadata entry of a credential: by AAGUID, or for a zero-AAGUID (U2F) key by
// the key identifier of its attestation certificate, as the metadata service lists those.
func (m *Metadata) entryFor(cred *webauthn.Credential, aaguid uuid.UUID) (*metadata.Entry, string) {
	name := func(e *metadata.Entry, id string) string {
		if d := e.MetadataStatement.Description; d != "" {
			return fmt.Sprintf("%q (%s)", d, id)
		}
		return id
	}
	if aaguid != uuid.Nil {
		if e := m.byAAGUID[aaguid]; e != nil {
			return e, name(e, aaguid.String())
		}
		return nil, aaguid.String()
	}
	leaf := attestationLeaf(cred.Attestation.Object)
	if leaf == nil {
		return nil, aaguid.String()
	}
	for _, id := range keyIdentifiers(leaf) {
		if e := m.byKeyID[id]; e != nil {
			return e, name(e, "key identifier "+id)
		}
	}
	return nil, aaguid.String()
}

// attestationLeaf returns the first x5c certificate of a stored attestation object, if any.
func attestationLeaf(object []byte) *x509.Certificate {
	if len(object) == 0 {
		return nil
	}
	var att protocol.AttestationObject
	if err := webauthncbor.Unmarshal(object, &att); err != nil {
		return nil
	}
	x5c, _ := att.AttStatement["x5c"].([]any)
	if len(x5c) == 0 {
		return nil
	}
	raw, _ := x5c[0].([]byte)
	cert, err := x509.ParseCertificate(raw)
	if err != nil {
		return nil
	}
	return cert
}

// keyIdentifiers returns the identifiers MDS uses for a U2F attestation certificate: its subject
// key identifier and the SHA-1 of its public key bits, in lower-case hex.
func keyIdentifiers(cert *x509.Certificate) []string {
	var ids []string
	if len(cert.SubjectKeyId) != 0 {
		ids = append(ids, hex.EncodeToString(cert.SubjectKeyId))
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err == nil {
		sum := sha1.Sum(spki.PublicKey.Bytes) //nolint:gosec // see import
		ids = append(ids, hex.EncodeToString(sum[:]))
	}
	return ids
}

// statusDetail names the undesired statuses of an entry in effect now, with their dates.
func statusDetail(e *metadata.Entry, err error) string {
	var parts []string
	for _, r := range metadata.EffectiveStatusReports(e.StatusReports, time.Now()) {
		if metadata.IsUndesiredAuthenticatorStatus(r.Status) {
			s := string(r.Status)
			if r.EffectiveDate != nil {
				s += " since " + r.EffectiveDate.Format(time.DateOnly)
			}
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, ", ")
}

// storedMDS is the JSON document kept under MDSSettingKey.
type storedMDS struct {
	BLOB       string    `json:"blob"`
	TestRoot   string    `json:"testRootPEM,omitempty"`
	ImportedAt time.Time `json:"importedAt"`
}

// ParseCertificatePEM returns the first certificate of a PEM file.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM CERTIFICATE block found")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// ImportMDS verifies blob (against testRoot when given, else the FIDO Alliance MDS root) and, when
// it verifies, stores it for every node under MDSSettingKey.
func ImportMDS(ctx context.Context, store latchkey.SettingStore, blob []byte, testRoot *x509.Certificate, now time.Time) (*Metadata, error) {
	md, err := ParseMDS(blob, testRoot, now)
	if err != nil {
		return nil, err
	}
	doc := storedMDS{BLOB: strings.TrimSpace(string(blob)), ImportedAt: now.UTC()}
	if testRoot != nil {
		doc.TestRoot = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testRoot.Raw}))
	}
	value, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	replace := func(v []byte) func([]byte) ([]byte, error) {
		return func([]byte) ([]byte, error) { return v, nil }
	}
	if _, err := store.UpdateSetting(ctx, MDSSettingKey, replace(value)); err != nil {
		return nil, fmt.Errorf("store metadata BLOB: %w", err)
	}
	// A small version beside the (large) BLOB lets every node notice an import cheaply.
	sum := sha256.Sum256(value)
	if _, err := store.UpdateSetting(ctx, MDSVersionKey, replace([]byte(hex.EncodeToString(sum[:])))); err != nil {
		return nil, fmt.Errorf("store metadata BLOB version: %w", err)
	}
	return md, nil
}

// MDSVersionKey holds a hash of the stored BLOB, changed by every import.
const MDSVersionKey = "mds.version"

// LoadMetadata parses the stored BLOB, verifying its chain again; nil, nil when none was imported.
func LoadMetadata(ctx context.Context, store latchkey.SettingStore, now time.Time) (*Metadata, error) {
	value, err := store.GetSetting(ctx, MDSSettingKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read metadata BLOB: %w", err)
	}
	var doc storedMDS
	if err := json.Unmarshal(value, &doc); err != nil {
		return nil, fmt.Errorf("read metadata BLOB: setting %s: %w", MDSSettingKey, err)
	}
	var root *x509.Certificate
	if doc.TestRoot != "" {
		if root, err = ParseCertificatePEM([]byte(doc.TestRoot)); err != nil {
			return nil, fmt.Errorf("read metadata BLOB: test root: %w", err)
		}
	}
	return ParseMDS([]byte(doc.BLOB), root, now)
}
