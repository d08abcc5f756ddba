package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
)

func runPasskey(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "inspect" {
		return usageError("passkey: expected inspect")
	}
	c := newCommand("passkey inspect")
	var o passkey.InspectOptions
	c.fs.StringVar(&o.Challenge, "challenge", "", "expected challenge, base64url as in clientDataJSON (default: accept the response's)")
	c.fs.StringVar(&o.Origin, "origin", "", "expected origin (default: accept the response's)")
	c.fs.StringVar(&o.RPID, "rp-id", "", "expected RP ID (default: the origin's host)")
	c.fs.BoolVar(&o.AllowCrossOrigin, "allow-cross-origin", false, "accept a response made in a cross-origin iframe")
	if err := c.parse(args[1:], 1, "one file holding a registration response (- for standard input)"); err != nil {
		return err
	}
	var body []byte
	var err error
	if name := c.args[0]; name == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(name)
	}
	if err != nil {
		return fmt.Errorf("read registration response: %w", err)
	}
	in := passkey.Inspect(unwrapResponse(body), o)
	if c.json {
		return printJSON(out, in)
	}
	printInspection(out, in)
	return nil
}

// unwrapResponse returns the RegistrationResponseJSON held in the "response" member of an envelope such as a test
// vector ({"id": "vector name", "response": {"id": ..., "response": {"clientDataJSON": ...}}}), or body itself.
func unwrapResponse(body []byte) []byte {
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

func printInspection(w io.Writer, in *passkey.Inspection) {
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	if in.Format != "" {
		format := in.Format
		if in.AttestationType != "" {
			format += " (" + in.AttestationType + ")"
		}
		row("Format", "%s", format)
		provider := in.Provider
		if provider == "" {
			provider = "provider not in the catalogue"
		}
		row("AAGUID", "%s (%s)", in.AAGUID, provider)
		row("Flags", "%s: %s", in.Flags, flagWords(in))
		row("Kind", "%s", in.Kind)
		alg := in.PublicKeyAlgorithm
		if alg == "" {
			alg = "unknown algorithm"
		}
		row("Credential", "%s (%s, sign count %d)", in.CredentialID, alg, in.SignCount)
		if len(in.Transports) > 0 {
			row("Transports", "%s", strings.Join(in.Transports, ", "))
		}
	}
	switch in.Attestation {
	case "":
		row("Attestation", "not established (the response did not verify)")
	case latchkey.AttestationNone:
		row("Attestation", "none: the authenticator sent no attestation statement")
	case latchkey.AttestationSelf:
		row("Attestation", "self: signed by the credential key itself")
	case latchkey.AttestationUntrusted:
		row("Attestation", "untrusted: a verified certificate chain, but no imported metadata root to trust it")
	default:
		row("Attestation", "%s", in.Attestation)
	}
	for i, c := range in.Chain {
		validity := "valid"
		if !c.Valid {
			validity = "NOT valid"
		}
		fmt.Fprintf(w, "  %d. %s\n     issued by %s\n     %s to %s (%s on %s)\n", i+1, c.Subject, c.Issuer,
			c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), validity, in.VerifiedAt.Format(time.DateOnly))
	}
	if cd := in.ClientData; cd != nil {
		cross := ""
		if cd.CrossOrigin {
			cross = " (cross-origin"
			if cd.TopOrigin != "" {
				cross += ", top origin " + cd.TopOrigin
			}
			cross += ")"
		}
		row("Client data", "%s from %s%s, challenge %s", cd.Type, cd.Origin, cross, cd.Challenge)
	}
	if in.RPID != "" {
		row("Checked", "RP ID %s, origin %s", in.RPID, in.Origin)
	}
	for _, n := range in.Notes {
		row("Note", "%s", n)
	}
	if in.OK {
		row("Verdict", "verifies")
		return
	}
	row("Verdict", "REFUSED %s: %s", in.Error, in.ErrorDetail)
}

func flagWords(in *passkey.Inspection) string {
	say := func(on bool, yes, no string) string {
		if on {
			return yes
		}
		return no
	}
	return strings.Join([]string{
		say(in.UserPresent, "user present", "user NOT present"),
		say(in.UserVerified, "user verified", "user not verified"),
		say(in.BackupEligible, "backup eligible", "not backup eligible"),
		say(in.BackupState, "backed up", "not backed up"),
	}, ", ")
}
