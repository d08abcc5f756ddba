// Package passkeytest builds, offline and at test time, what attestation-trust tests need: test
// certificate authorities, FIDO MDS3 BLOBs signed by a test root, and registrations from a software
// authenticator whose attestation is re-signed as packed full attestation with a leaf of a test
// attestation root. It is used only from tests.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/loadtest"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/metadata"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// CA is a test certificate with its private key: a root, an intermediate or a leaf.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

var oidFIDOAAGUID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45724, 1, 1, 4}

func newCert(t testing.TB, parent *CA, tmpl *x509.Certificate) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().AddDate(2, 0, 0)
	tmpl.BasicConstraintsValid = true
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key}
}

// NewRoot returns a self-signed test root CA named cn.
func NewRoot(t testing.TB, cn string) *CA {
	return newCert(t, nil, &x509.Certificate{
		Subject:  pkix.Name{CommonName: cn, Organization: []string{"Latchkey Test"}, Country: []string{"US"}},
		IsCA:     true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	})
}

// NewIntermediate returns an intermediate CA issued by ca.
func (ca *CA) NewIntermediate(t testing.TB, cn string) *CA {
	return newCert(t, ca, &x509.Certificate{
		Subject:  pkix.Name{CommonName: cn, Organization: []string{"Latchkey Test"}, Country: []string{"US"}},
		IsCA:     true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	})
}

// NewLeaf returns an end-entity certificate issued by ca, e.g. to sign a BLOB.
func (ca *CA) NewLeaf(t testing.TB, cn string) *CA {
	return newCert(t, ca, &x509.Certificate{
		Subject:  pkix.Name{CommonName: cn, Organization: []string{"Latchkey Test"}, Country: []string{"US"}},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
}

// NewAttestationLeaf returns a packed attestation certificate issued by ca that meets WebAuthn
// §8.2.1 (C, O, OU "Authenticator Attestation", CN, not a CA) and carries aaguid in the
// id-fido-gen-ce-aaguid extension unless aaguid is uuid.Nil.
func (ca *CA) NewAttestationLeaf(t testing.TB, aaguid uuid.UUID) *CA {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			CommonName:         "Latchkey Test Authenticator",
			Organization:       []string{"Latchkey Test"},
			OrganizationalUnit: []string{"Authenticator Attestation"},
			Country:            []string{"US"},
		},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if aaguid != uuid.Nil {
		value, err := asn1.Marshal(aaguid[:])
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidFIDOAAGUID, Value: value}}
	}
	return newCert(t, ca, tmpl)
}

// PEM returns the certificate in PEM.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Base64 returns the certificate's DER in standard base64, as MDS lists certificates.
func (ca *CA) Base64() string { return base64.StdEncoding.EncodeToString(ca.Cert.Raw) }

// Entry is one authenticator listed in a test BLOB.
type Entry struct {
	AAGUID      uuid.UUID
	Description string
	// Roots are the entry's attestationRootCertificates.
	Roots []*x509.Certificate
	// Statuses are reported in order, a day apart, ending yesterday; FIDO_CERTIFIED when empty.
	Statuses []metadata.AuthenticatorStatus
}

// BLOB describes a test MDS3 BLOB.
type BLOB struct {
	Number     int
	NextUpdate time.Time // a month from now when zero
	Entries    []Entry
}

// Sign returns the BLOB as a JWT (ES256) signed by signer, whose x5c header is signer followed by
// chain (the intermediates up to, and optionally including, the root).
func (b BLOB) Sign(t testing.TB, signer *CA, chain ...*x509.Certificate) []byte {
	t.Helper()
	next := b.NextUpdate
	if next.IsZero() {
		next = time.Now().AddDate(0, 1, 0)
	}
	entries := make([]any, 0, len(b.Entries))
	for _, e := range b.Entries {
		roots := make([]string, len(e.Roots))
		for i, r := range e.Roots {
			roots[i] = base64.StdEncoding.EncodeToString(r.Raw)
		}
		statuses := e.Statuses
		if len(statuses) == 0 {
			statuses = []metadata.AuthenticatorStatus{metadata.FidoCertified}
		}
		reports := make([]any, len(statuses))
		day := time.Now().AddDate(0, 0, -len(statuses))
		for i, s := range statuses {
			reports[i] = map[string]any{"status": string(s), "effectiveDate": day.AddDate(0, 0, i).Format(time.DateOnly)}
		}
		entries = append(entries, map[string]any{
			"aaguid": e.AAGUID.String(),
			"metadataStatement": map[string]any{
				"legalHeader":                 "Test metadata; not for production.",
				"aaguid":                      e.AAGUID.String(),
				"description":                 e.Description,
				"authenticatorVersion":        1,
				"protocolFamily":              "fido2",
				"schema":                      3,
				"upv":                         []any{map[string]any{"major": 1, "minor": 1}},
				"authenticationAlgorithms":    []string{"secp256r1_ecdsa_sha256_raw"},
				"publicKeyAlgAndEncodings":    []string{"cose"},
				"attestationTypes":            []string{"basic_full"},
				"userVerificationDetails":     []any{[]any{map[string]any{"userVerificationMethod": "passcode_internal"}}},
				"keyProtection":               []string{"hardware", "secure_element"},
				"matcherProtection":           []string{"on_chip"},
				"attachmentHint":              []string{"external", "wired"},
				"tcDisplay":                   []string{},
				"attestationRootCertificates": roots,
				"authenticatorGetInfo": map[string]any{
					"versions": []string{"FIDO_2_0"},
					"aaguid":   hexAAGUID(e.AAGUID),
				},
			},
			"statusReports":          reports,
			"timeOfLastStatusChange": day.AddDate(0, 0, len(statuses)-1).Format(time.DateOnly),
		})
	}
	claims := jwt.MapClaims{
		"legalHeader": "Test metadata BLOB made by latchkey passkeytest.",
		"no":          b.Number,
		"nextUpdate":  next.Format(time.DateOnly),
		"entries":     entries,
	}
	x5c := []string{signer.Base64()}
	for _, c := range chain {
		x5c = append(x5c, base64.StdEncoding.EncodeToString(c.Raw))
	}
	token := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	token.Header["x5c"] = x5c
	s, err := token.SignedString(signer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

func hexAAGUID(id uuid.UUID) string { return fmt.Sprintf("%x", id[:]) }

// MDS is a ready-made metadata fixture: an MDS test root with an intermediate and a BLOB signing
// leaf, a test attestation root, and a BLOB listing AttestedAAGUID (FIDO_CERTIFIED) and
// RevokedAAGUID (REVOKED), both with AttestationRoot as their attestation root.
type MDS struct {
	Root, Intermediate, Signer *CA
	AttestationRoot            *CA
	AttestedAAGUID             uuid.UUID
	RevokedAAGUID              uuid.UUID
	BLOB                       []byte
}

// Descriptions of the fixture's entries.
const (
	AttestedDescription = "Latchkey Test Security Key"
	RevokedDescription  = "Latchkey Revoked Test Key"
)

// NewMDS builds the standard fixture with BLOB number 7.
func NewMDS(t testing.TB) *MDS {
	t.Helper()
	m := &MDS{
		Root:            NewRoot(t, "Latchkey Test MDS Root"),
		AttestationRoot: NewRoot(t, "Latchkey Test Attestation Root"),
		AttestedAAGUID:  uuid.MustParse("6c61746b-6579-4000-8000-000000000001"),
		RevokedAAGUID:   uuid.MustParse("6c61746b-6579-4000-8000-000000000002"),
	}
	m.Intermediate = m.Root.NewIntermediate(t, "Latchkey Test MDS CA")
	m.Signer = m.Intermediate.NewLeaf(t, "Latchkey Test MDS Signer")
	m.BLOB = BLOB{Number: 7, Entries: []Entry{
		{AAGUID: m.AttestedAAGUID, Description: AttestedDescription, Roots: []*x509.Certificate{m.AttestationRoot.Cert}},
		{AAGUID: m.RevokedAAGUID, Description: RevokedDescription, Roots: []*x509.Certificate{m.AttestationRoot.Cert},
			Statuses: []metadata.AuthenticatorStatus{metadata.FidoCertified, metadata.Revoked}},
	}}.Sign(t, m.Signer, m.Intermediate.Cert)
	return m
}

// WriteFiles writes the BLOB (blob.jwt) and the MDS test root (root.pem) into dir.
func (m *MDS) WriteFiles(t testing.TB, dir string) (blobPath, rootPath string) {
	t.Helper()
	blobPath, rootPath = filepath.Join(dir, "blob.jwt"), filepath.Join(dir, "root.pem")
	if err := os.WriteFile(blobPath, m.BLOB, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rootPath, m.Root.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return blobPath, rootPath
}

// Attestation kinds a registration can carry.
const (
	AttestationSelf   = "self"   // packed self attestation, as virtualwebauthn sends it
	AttestationNone   = "none"   // fmt "none"
	AttestationPacked = "packed" // packed full attestation with an x5c certificate chain
)

// Registration says what the software authenticator registers.
type Registration struct {
	AAGUID      uuid.UUID // random when Nil
	Attestation string    // AttestationSelf (default), AttestationNone or AttestationPacked
	// Leaf signs a packed attestation; Chain are its intermediates, sent after it in x5c.
	Leaf  *CA
	Chain []*x509.Certificate
	// Synced sets the backup flags (BE=1, BS=1).
	Synced bool
	// Origin is the relying party's origin; http://localhost when empty.
	Origin string
}

// Register runs a registration ceremony through go-webauthn (webauthn.New, BeginRegistration,
// CreateCredential) answered by a software authenticator, and returns the verified credential.
func Register(t testing.TB, r Registration) *webauthn.Credential {
	t.Helper()
	cred, err := register(r)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

type user struct{ id []byte }

func (u user) WebAuthnID() []byte                         { return u.id }
func (u user) WebAuthnName() string                       { return "alice@example.com" }
func (u user) WebAuthnDisplayName() string                { return "Alice" }
func (u user) WebAuthnCredentials() []webauthn.Credential { return nil }

func register(r Registration) (*webauthn.Credential, error) {
	origin := r.Origin
	if origin == "" {
		origin = "http://localhost"
	}
	rp, err := RelyingParty(origin)
	if err != nil {
		return nil, err
	}
	requireResident := true
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  rp.ID,
		RPDisplayName:         "Latchkey test",
		RPOrigins:             []string{rp.Origin},
		AttestationPreference: protocol.PreferDirectAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &requireResident,
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
	})
	if err != nil {
		return nil, err
	}
	id := uuid.New()
	u := user{id: id[:]}
	creation, session, err := wa.BeginRegistration(u)
	if err != nil {
		return nil, err
	}
	options, err := json.Marshal(creation)
	if err != nil {
		return nil, err
	}
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{BackupEligible: r.Synced, BackupState: r.Synced})
	if r.AAGUID != uuid.Nil {
		auth.Aaguid = r.AAGUID
	}
	response, err := Attest(auth, rp, options)
	if err != nil {
		return nil, err
	}
	switch r.Attestation {
	case "", AttestationSelf:
	case AttestationNone:
		response, err = ToNone(response)
	case AttestationPacked:
		if r.Leaf == nil {
			return nil, fmt.Errorf("packed attestation needs a Leaf")
		}
		response, err = ResignPacked(response, r.Leaf, r.Chain...)
	default:
		return nil, fmt.Errorf("unknown attestation %q", r.Attestation)
	}
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("parse registration response: %w", describe(err))
	}
	cred, err := wa.CreateCredential(u, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("verify registration: %w", describe(err))
	}
	return cred, nil
}

func describe(err error) error {
	if e, ok := err.(*protocol.Error); ok {
		return fmt.Errorf("%s: %s (%s)", e.Type, e.Details, e.DevInfo)
	}
	return err
}

// RelyingParty returns the virtualwebauthn relying party for origin (RP ID is its host name).
func RelyingParty(origin string) (virtualwebauthn.RelyingParty, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return virtualwebauthn.RelyingParty{}, fmt.Errorf("parse origin %q", origin)
	}
	return virtualwebauthn.RelyingParty{ID: u.Hostname(), Name: "Latchkey", Origin: u.Scheme + "://" + u.Host}, nil
}

// Attest answers creation options (JSON, with or without the publicKey wrapper) from auth with a
// fresh P-256 credential, as navigator.credentials.create would: packed self attestation.
func Attest(auth virtualwebauthn.Authenticator, rp virtualwebauthn.RelyingParty, options []byte) ([]byte, error) {
	o, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		return nil, fmt.Errorf("parse creation options: %w", err)
	}
	cred, err := loadtest.NewCredential()
	if err != nil {
		return nil, err
	}
	auth.Options.UserHandle = []byte(o.UserID)
	return []byte(virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *o)), nil
}

// attestationObject is the CBOR attestation object (WebAuthn §6.5.4).
type attestationObject struct {
	Fmt      string         `cbor:"fmt"`
	AttStmt  map[string]any `cbor:"attStmt"`
	AuthData []byte         `cbor:"authData"`
}

// rewrite applies fn to the attestation object of a registration response (JSON, as
// PublicKeyCredential.toJSON or virtualwebauthn produce it) and returns the new response.
func rewrite(response []byte, fn func(att *attestationObject, clientDataJSON []byte) error) ([]byte, error) {
	var msg map[string]any
	if err := json.Unmarshal(response, &msg); err != nil {
		return nil, fmt.Errorf("registration response: %w", err)
	}
	resp, _ := msg["response"].(map[string]any)
	if resp == nil {
		return nil, fmt.Errorf("registration response has no response member")
	}
	rawAtt, err := decodeB64(resp["attestationObject"])
	if err != nil {
		return nil, fmt.Errorf("attestationObject: %w", err)
	}
	clientDataJSON, err := decodeB64(resp["clientDataJSON"])
	if err != nil {
		return nil, fmt.Errorf("clientDataJSON: %w", err)
	}
	var att attestationObject
	if err := webauthncbor.Unmarshal(rawAtt, &att); err != nil {
		return nil, fmt.Errorf("decode attestation object: %w", err)
	}
	if err := fn(&att, clientDataJSON); err != nil {
		return nil, err
	}
	out, err := webauthncbor.Marshal(att)
	if err != nil {
		return nil, fmt.Errorf("encode attestation object: %w", err)
	}
	resp["attestationObject"] = base64.RawURLEncoding.EncodeToString(out)
	return json.Marshal(msg)
}

func decodeB64(v any) ([]byte, error) {
	s, _ := v.(string)
	if s == "" {
		return nil, fmt.Errorf("missing")
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

// ResignPacked turns a registration response into packed full attestation: the attestation
// statement is signed by leaf over authenticatorData || SHA-256(clientDataJSON), with x5c = leaf
// followed by chain. The authenticator data (and so the AAGUID) is left as it was.
func ResignPacked(response []byte, leaf *CA, chain ...*x509.Certificate) ([]byte, error) {
	return rewrite(response, func(att *attestationObject, clientDataJSON []byte) error {
		cdh := sha256.Sum256(clientDataJSON)
		digest := sha256.Sum256(append(append([]byte{}, att.AuthData...), cdh[:]...))
		sig, err := ecdsa.SignASN1(rand.Reader, leaf.Key, digest[:])
		if err != nil {
			return err
		}
		x5c := []any{leaf.Cert.Raw}
		for _, c := range chain {
			x5c = append(x5c, c.Raw)
		}
		att.Fmt = "packed"
		att.AttStmt = map[string]any{"alg": int64(-7), "sig": sig, "x5c": x5c}
		return nil
	})
}

// ToNone turns a registration response into one with fmt "none" and an empty statement.
func ToNone(response []byte) ([]byte, error) {
	return rewrite(response, func(att *attestationObject, _ []byte) error {
		att.Fmt = "none"
		att.AttStmt = map[string]any{}
		return nil
	})
}
