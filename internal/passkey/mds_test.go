package passkey_test

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/passkey/passkeytest"
	"github.com/latchkey/latchkey/internal/sqlite"
)

func TestParseMDS(t *testing.T) {
	mds := passkeytest.NewMDS(t)
	md, err := passkey.ParseMDS(mds.BLOB, mds.Root.Cert, time.Now())
	if err != nil {
		t.Fatalf("ParseMDS: %v", err)
	}
	if md.Number != 7 || md.Entries != 2 || md.Skipped != 0 || !md.TestRoot {
		t.Fatalf("parsed %+v", md)
	}
	if got := md.Name(mds.AttestedAAGUID.String()); got != passkeytest.AttestedDescription {
		t.Fatalf("Name = %q", got)
	}
	if got := md.Name(uuid.NewString()); got != "" {
		t.Fatalf("Name of unknown AAGUID = %q", got)
	}
	if md.Provider() == nil {
		t.Fatal("no provider")
	}
	var nilMD *passkey.Metadata
	if nilMD.Name(mds.AttestedAAGUID.String()) != "" {
		t.Fatal("nil metadata has a name")
	}
}

func TestParseMDSRefusals(t *testing.T) {
	mds := passkeytest.NewMDS(t)
	other := passkeytest.NewRoot(t, "Some Other Root")
	expired := passkeytest.BLOB{Number: 3, NextUpdate: time.Now().AddDate(0, 0, -3)}.Sign(t, mds.Signer, mds.Intermediate.Cert)
	selfSignedLeaf := passkeytest.NewRoot(t, "Impostor")
	garbled := []byte(string(mds.BLOB[:len(mds.BLOB)-10]) + "AAAAAAAAAA")
	parts := strings.Split(string(mds.BLOB), ".")
	tamperedPayload := passkeytest.BLOB{Number: 99}.Sign(t, selfSignedLeaf)
	tampered := []byte(parts[0] + "." + strings.Split(string(tamperedPayload), ".")[1] + "." + parts[2])

	for _, tc := range []struct {
		name string
		test func() error
		code string
		want string
	}{
		{name: "wrong root", test: func() error { _, err := passkey.ParseMDS(mds.BLOB, other.Cert, time.Now()); return err }, code: "mds_invalid", want: "Some Other Root"},
		{name: "production root", test: func() error { _, err := passkey.ParseMDS(mds.BLOB, nil, time.Now()); return err }, code: "mds_invalid", want: "FIDO Alliance MDS root"},
		{name: "expired", test: func() error { _, err := passkey.ParseMDS(expired, mds.Root.Cert, time.Now()); return err }, code: "mds_expired", want: "BLOB number 3"},
		{name: "expired later", test: func() error {
			_, err := passkey.ParseMDS(mds.BLOB, mds.Root.Cert, time.Now().AddDate(0, 2, 0))
			return err
		}, code: "mds_expired"},
		{name: "garbled signature", test: func() error { _, err := passkey.ParseMDS(garbled, mds.Root.Cert, time.Now()); return err }, code: "mds_invalid"},
		{name: "tampered payload", test: func() error { _, err := passkey.ParseMDS(tampered, mds.Root.Cert, time.Now()); return err }, code: "mds_invalid"},
		{name: "not a JWT", test: func() error { _, err := passkey.ParseMDS([]byte("hello"), mds.Root.Cert, time.Now()); return err }, code: "mds_invalid"},
		{name: "signed by a stranger", test: func() error {
			_, err := passkey.ParseMDS(passkeytest.BLOB{Number: 1}.Sign(t, selfSignedLeaf), mds.Root.Cert, time.Now())
			return err
		}, code: "mds_invalid"},
		{name: "leaf of another root", test: func() error {
			_, err := passkey.ParseMDS(passkeytest.BLOB{Number: 1}.Sign(t, other.NewLeaf(t, "x"), other.Cert), mds.Root.Cert, time.Now())
			return err
		}, code: "mds_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.test()
			t.Logf("%v", err)
			if err == nil {
				t.Fatal("accepted")
			}
			if latchkey.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (code %s), want code %s mentioning %q", err, latchkey.ErrorCode(err), tc.code, tc.want)
			}
		})
	}
}

func TestTrust(t *testing.T) {
	mds := passkeytest.NewMDS(t)
	md, err := passkey.ParseMDS(mds.BLOB, mds.Root.Cert, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	attCA := mds.AttestationRoot.NewIntermediate(t, "Latchkey Test Attestation CA")
	stranger := passkeytest.NewRoot(t, "Unlisted Vendor Root")

	for _, tc := range []struct {
		name string
		reg  passkeytest.Registration
		md   *passkey.Metadata
		want string
		in   string // the detail mentions this
	}{
		{name: "attested", reg: passkeytest.Registration{AAGUID: mds.AttestedAAGUID, Attestation: passkeytest.AttestationPacked,
			Leaf: mds.AttestationRoot.NewAttestationLeaf(t, mds.AttestedAAGUID)},
			md: md, want: latchkey.AttestationAttested, in: passkeytest.AttestedDescription},
		{name: "attested through an intermediate", reg: passkeytest.Registration{AAGUID: mds.AttestedAAGUID, Attestation: passkeytest.AttestationPacked,
			Leaf: attCA.NewAttestationLeaf(t, mds.AttestedAAGUID), Chain: []*x509.Certificate{attCA.Cert}, Synced: true},
			md: md, want: latchkey.AttestationAttested},
		{name: "revoked", reg: passkeytest.Registration{AAGUID: mds.RevokedAAGUID, Attestation: passkeytest.AttestationPacked,
			Leaf: mds.AttestationRoot.NewAttestationLeaf(t, mds.RevokedAAGUID)},
			md: md, want: passkey.AttestationRevoked, in: "REVOKED"},
		{name: "revoked model claimed with self attestation", reg: passkeytest.Registration{AAGUID: mds.RevokedAAGUID},
			md: md, want: passkey.AttestationRevoked, in: string(metadata.Revoked)},
		{name: "self", reg: passkeytest.Registration{}, md: md, want: latchkey.AttestationSelf},
		{name: "self with listed AAGUID", reg: passkeytest.Registration{AAGUID: mds.AttestedAAGUID}, md: md, want: latchkey.AttestationSelf},
		{name: "none", reg: passkeytest.Registration{Attestation: passkeytest.AttestationNone}, md: md, want: latchkey.AttestationNone},
		{name: "unlisted AAGUID", reg: passkeytest.Registration{Attestation: passkeytest.AttestationPacked,
			Leaf: stranger.NewAttestationLeaf(t, uuid.Nil)}, md: md, want: latchkey.AttestationUntrusted, in: "not listed"},
		{name: "listed AAGUID, root not in metadata", reg: passkeytest.Registration{AAGUID: mds.AttestedAAGUID, Attestation: passkeytest.AttestationPacked,
			Leaf: stranger.NewAttestationLeaf(t, mds.AttestedAAGUID)}, md: md, want: latchkey.AttestationUntrusted, in: "does not chain"},
		{name: "no metadata", reg: passkeytest.Registration{AAGUID: mds.AttestedAAGUID, Attestation: passkeytest.AttestationPacked,
			Leaf: mds.AttestationRoot.NewAttestationLeaf(t, mds.AttestedAAGUID)}, md: nil, want: latchkey.AttestationUntrusted, in: "no FIDO metadata"},
		{name: "no metadata, self", reg: passkeytest.Registration{}, md: nil, want: latchkey.AttestationSelf},
		{name: "no metadata, none", reg: passkeytest.Registration{Attestation: passkeytest.AttestationNone}, md: nil, want: latchkey.AttestationNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred := passkeytest.Register(t, tc.reg)
			got, detail := passkey.Trust(cred, tc.md)
			t.Logf("%s/%s: %s: %s", cred.AttestationFormat, cred.AttestationType, got, detail)
			if got != tc.want || !strings.Contains(detail, tc.in) {
				t.Fatalf("Trust = %q, %q; want %q mentioning %q (format %s, type %s)", got, detail, tc.want, tc.in, cred.AttestationFormat, cred.AttestationType)
			}
			// Without its stored attestation object a chain cannot be re-verified.
			if tc.want == latchkey.AttestationAttested {
				c := *cred
				c.Attestation.Object = nil
				if got, _ := passkey.Trust(&c, tc.md); got != latchkey.AttestationUntrusted {
					t.Fatalf("without attestation object: %q", got)
				}
			}
		})
	}
}

func TestLoadMetadataRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if md, err := passkey.LoadMetadata(ctx, st, time.Now()); md != nil || err != nil {
		t.Fatalf("before import: %v, %v", md, err)
	}
	mds := passkeytest.NewMDS(t)
	// A BLOB that does not verify is not stored.
	if _, err := passkey.ImportMDS(ctx, st, mds.BLOB, nil, time.Now()); err == nil {
		t.Fatal("imported a test BLOB against the production root")
	}
	if md, err := passkey.LoadMetadata(ctx, st, time.Now()); md != nil || err != nil {
		t.Fatalf("after refused import: %v, %v", md, err)
	}
	if _, err := passkey.ImportMDS(ctx, st, mds.BLOB, mds.Root.Cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	md, err := passkey.LoadMetadata(ctx, st, time.Now())
	if err != nil || md == nil {
		t.Fatalf("LoadMetadata: %v, %v", md, err)
	}
	if md.Number != 7 || md.Entries != 2 || !md.TestRoot || md.Name(mds.RevokedAAGUID.String()) != passkeytest.RevokedDescription {
		t.Fatalf("loaded %+v", md)
	}
	cred := passkeytest.Register(t, passkeytest.Registration{AAGUID: mds.AttestedAAGUID, Attestation: passkeytest.AttestationPacked,
		Leaf: mds.AttestationRoot.NewAttestationLeaf(t, mds.AttestedAAGUID)})
	if got, detail := passkey.Trust(cred, md); got != latchkey.AttestationAttested {
		t.Fatalf("Trust with loaded metadata = %q, %q", got, detail)
	}
	// Once the BLOB is past its next update, loading it fails plainly.
	if _, err := passkey.LoadMetadata(ctx, st, time.Now().AddDate(0, 3, 0)); latchkey.ErrorCode(err) != "mds_expired" {
		t.Fatalf("stale BLOB: %v", err)
	}
}
