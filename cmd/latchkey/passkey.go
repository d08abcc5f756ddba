package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policyadmin"
)

func runPasskey(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) > 0 && args[0] == "remove" {
		return runPasskeyRemove(ctx, args[1:], out)
	}
	if len(args) == 0 || args[0] != "inspect" {
		return usageError("passkey: expected inspect or remove")
	}
	c := newCommand("passkey inspect")
	var o passkey.InspectOptions
	c.fs.StringVar(&o.Challenge, "challenge", "", "expected challenge, base64url as in clientDataJSON (default: accept the response's)")
	c.fs.StringVar(&o.Origin, "origin", "", "expected origin (default: accept the response's)")
	c.fs.StringVar(&o.RPID, "rp-id", "", "expected RP ID (default: the origin's host)")
	c.fs.BoolVar(&o.AllowCrossOrigin, "allow-cross-origin", false, "accept a response made in a cross-origin iframe")
	var user string
	c.fs.StringVar(&user, "user", "", "evaluate the passkey against this user's passkey profiles (UPN or id), as at registration")
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
	body = passkey.UnwrapResponse(body)
	in := passkey.Inspect(body, o)
	if user != "" {
		if err := c.withPolicyAdmin(ctx, func(st latchkey.Store, svc *policyadmin.Service) error {
			u, err := findUser(ctx, st, user)
			if err != nil {
				return err
			}
			return svc.EvaluateInspection(ctx, latchkey.CLIActor, u, body, in)
		}); err != nil {
			return err
		}
	}
	if c.json {
		return printJSON(out, in)
	}
	printInspection(out, in)
	printPolicyVerdict(out, in)
	return nil
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

func printPolicyVerdict(w io.Writer, in *passkey.Inspection) {
	pv := in.Policy
	if pv == nil {
		return
	}
	fmt.Fprintf(w, "\nPolicy for %s at registration (attestation %s", pv.User, orNone(pv.Attestation))
	if pv.AttestationDetail != "" {
		fmt.Fprintf(w, ": %s", pv.AttestationDetail)
	}
	fmt.Fprintln(w, ")")
	for _, p := range in.Profiles {
		verdict := "accepts"
		if !p.Allowed {
			verdict = "refuses (" + p.Code + ")"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", p.Name, verdict, p.Detail)
	}
	if pv.Allowed {
		fmt.Fprintf(w, "Policy verdict: allowed\n")
		return
	}
	fmt.Fprintf(w, "Policy verdict: REFUSED %s: %s (%s)\n", pv.Code, pv.Message, pv.Detail)
}

func orNone(s string) string {
	if s == "" {
		return "not established"
	}
	return s
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
