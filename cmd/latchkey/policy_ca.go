package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
)

// Conditional access from the command line: `latchkey policy ca|strength|location|lint|whatif`.

// readDocument reads a JSON document from a file, or standard input for "-".
func readDocument(name string, stdin io.Reader) ([]byte, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// decodeDocument decodes a policy, strength or location document, refusing unknown fields.
func decodeDocument(b []byte, v any) error {
	if err := latchkey.CheckJSONObject(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON document")
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The file could not be read: "+msg+".", "decode: %s", msg)
	}
	return nil
}

// printLints prints each policy's findings with the people they name.
func printLints(out io.Writer, lints []policyadmin.PolicyLint) {
	for _, pl := range lints {
		if len(pl.Findings) == 0 {
			continue
		}
		fmt.Fprintf(out, "Policy %q (%s, %s): %s affected\n", pl.Name, stateName(pl.State), pl.PolicyID, policy.People(pl.Affected))
		for _, f := range pl.Findings {
			fmt.Fprintf(out, "  %s: %s\n", f.Code, f.Message)
			if len(f.UserPrincipalNames) > 0 {
				fmt.Fprintf(out, "    %s\n", strings.Join(f.UserPrincipalNames, ", "))
			}
		}
	}
}

func stateName(s string) string {
	if s == policy.CAStateReportOnly {
		return "report-only"
	}
	return s
}

// withLockout prints a lint refusal's findings before returning it, so that the person sees who
// would be locked out and the count to confirm with --lockout-override.
func withLockout(out io.Writer, err error) error {
	var le *policyadmin.LockoutError
	if errors.As(err, &le) {
		printLints(out, le.Policies)
		fmt.Fprintf(out, "Refused: %s would be locked out. Fix the policy, or repeat the command with --lockout-override %d.\n", policy.People(le.Affected), le.Affected)
	}
	return err
}

// findCARef finds a policy by id or (case-insensitive) name.
func findCARef(cfg *policy.ConditionalAccessConfig, ref string) (policy.ConditionalAccessPolicy, error) {
	id := refID(ref, cfg.Policies, func(p policy.ConditionalAccessPolicy) (string, string) { return p.ID, p.Name })
	if i := slices.IndexFunc(cfg.Policies, func(p policy.ConditionalAccessPolicy) bool { return p.ID == id }); i >= 0 {
		return cfg.Policies[i], nil
	}
	return policy.ConditionalAccessPolicy{}, latchkey.Errorf(latchkey.ENOTFOUND, "policy_not_found", "No such conditional access policy.",
		"no conditional access policy with id or name %q; `latchkey policy ca list` shows them", ref)
}

// refID returns the id of the item that ref names: an item whose id is ref, else one whose name
// is ref regardless of case, else ref itself (for the service to report as not found).
func refID[T any](ref string, items []T, idName func(T) (id, name string)) string {
	for _, x := range items {
		if id, _ := idName(x); id == ref {
			return id
		}
	}
	for _, x := range items {
		if id, name := idName(x); strings.EqualFold(name, ref) {
			return id
		}
	}
	return ref
}

func runPolicyCA(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageError("policy ca: expected list, show, add, set, remove or state")
	}
	c := newCommand("policy ca " + args[0])
	var override int
	if args[0] == "add" || args[0] == "set" || args[0] == "state" {
		c.fs.IntVar(&override, "lockout-override", 0, "the number of people the lint says would be locked out, to confirm turning the policy on anyway")
	}
	// saved prints the outcome of a change.
	saved := func(verb string, p policy.ConditionalAccessPolicy, ch *policyadmin.CAChange) error {
		if c.json {
			return printJSON(out, map[string]any{"policy": p, "lintWarnings": ch.Warnings})
		}
		fmt.Fprintf(out, "%s conditional access policy %q (%s), %s.\n", verb, p.Name, p.ID, stateName(p.State))
		if len(ch.Warnings) > 0 {
			fmt.Fprintln(out, "Lint, as if enforced:")
			printLints(out, ch.Warnings)
		}
		return nil
	}
	switch args[0] {
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withCA(ctx, func(svc *policyadmin.Service, cfg *policy.ConditionalAccessConfig) error {
			if c.json {
				return printJSON(out, cfg.Policies)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATE\tGRANT")
			for _, p := range cfg.Policies {
				grant := "block"
				if !p.Grant.Block {
					grant = cfg.StrengthMap()[p.Grant.StrengthID].Name
				}
				if p.SignInFrequency != nil {
					grant += ", sign in again every " + humanDuration(p.SignInFrequency.Duration)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.Name, stateName(p.State), grant)
			}
			return tw.Flush()
		})
	case "show", "remove":
		if err := c.parse(args[1:], 1, "one policy id or name"); err != nil {
			return err
		}
		return c.withCA(ctx, func(svc *policyadmin.Service, cfg *policy.ConditionalAccessConfig) error {
			p, err := findCARef(cfg, c.args[0])
			if err != nil {
				return err
			}
			if args[0] == "remove" {
				if err := svc.DeleteCAPolicy(ctx, latchkey.CLIActor, p.ID); err != nil {
					return err
				}
				fmt.Fprintf(out, "Removed conditional access policy %q (%s).\n", p.Name, p.ID)
				return nil
			}
			return printJSON(out, p)
		})
	case "add", "set":
		n, what := 1, "one file holding the policy JSON (- for standard input)"
		if args[0] == "set" {
			n, what = 2, "a policy id or name and a file holding the policy JSON (- for standard input)"
		}
		if err := c.parse(args[1:], n, what); err != nil {
			return err
		}
		b, err := readDocument(c.args[n-1], stdin)
		if err != nil {
			return err
		}
		var p policy.ConditionalAccessPolicy
		if err := decodeDocument(b, &p); err != nil {
			return err
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			if args[0] == "add" {
				got, ch, err := svc.CreateCAPolicy(ctx, latchkey.CLIActor, p, override)
				if err != nil {
					return withLockout(out, err)
				}
				return saved("Added", got, ch)
			}
			cfg, err := svc.ConditionalAccess(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			old, err := findCARef(cfg, c.args[0])
			if err != nil {
				return err
			}
			got, ch, err := svc.UpdateCAPolicy(ctx, latchkey.CLIActor, old.ID, p, override)
			if err != nil {
				return withLockout(out, err)
			}
			return saved("Stored", got, ch)
		})
	case "state":
		if err := c.parse(args[1:], 2, "a policy id or name and enabled, disabled or reportOnly"); err != nil {
			return err
		}
		switch c.args[1] {
		case "enabled", "disabled", "reportOnly", policy.CAStateReportOnly:
		default:
			return usageError("policy ca state: the state must be enabled, disabled or reportOnly, not %q", c.args[1])
		}
		return c.withCA(ctx, func(svc *policyadmin.Service, cfg *policy.ConditionalAccessConfig) error {
			old, err := findCARef(cfg, c.args[0])
			if err != nil {
				return err
			}
			got, ch, err := svc.SetCAPolicyState(ctx, latchkey.CLIActor, old.ID, c.args[1], override)
			if err != nil {
				return withLockout(out, err)
			}
			return saved("Switched", got, ch)
		})
	}
	return usageError("policy ca: unknown subcommand %q (list, show, add, set, remove, state)", args[0])
}

func runPolicyStrength(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageError("policy strength: expected list, add or remove")
	}
	c := newCommand("policy strength " + args[0])
	switch args[0] {
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			sts, err := svc.Strengths(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, sts)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tBUILT-IN\tALLOWED COMBINATIONS\tPASSKEY CONDITIONS")
			for _, s := range sts {
				cond := "-"
				if pc := s.PasskeyConditions; pc != nil {
					var parts []string
					if len(pc.Kinds) > 0 {
						parts = append(parts, "kinds "+strings.Join(pc.Kinds, ","))
					}
					if len(pc.AllowedAAGUIDs) > 0 {
						parts = append(parts, "AAGUIDs "+strings.Join(pc.AllowedAAGUIDs, ","))
					}
					if pc.AttestationRequired {
						parts = append(parts, "attestation required")
					}
					cond = strings.Join(parts, "; ")
				}
				fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\n", s.ID, s.Name, s.BuiltIn, strings.Join(s.AllowedCombinations, " | "), cond)
			}
			return tw.Flush()
		})
	case "add":
		if err := c.parse(args[1:], 1, "one file holding the strength JSON (- for standard input)"); err != nil {
			return err
		}
		b, err := readDocument(c.args[0], stdin)
		if err != nil {
			return err
		}
		var st policy.Strength
		if err := decodeDocument(b, &st); err != nil {
			return err
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			got, err := svc.CreateStrength(ctx, latchkey.CLIActor, st)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, got)
			}
			fmt.Fprintf(out, "Added authentication strength %q (%s).\n", got.Name, got.ID)
			return nil
		})
	case "remove":
		if err := c.parse(args[1:], 1, "one strength id or name"); err != nil {
			return err
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			sts, err := svc.Strengths(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			id := refID(c.args[0], sts, func(s policy.Strength) (string, string) { return s.ID, s.Name })
			if err := svc.DeleteStrength(ctx, latchkey.CLIActor, id); err != nil {
				return err
			}
			fmt.Fprintf(out, "Removed authentication strength %s.\n", c.args[0])
			return nil
		})
	}
	return usageError("policy strength: unknown subcommand %q (list, add, remove)", args[0])
}

func runPolicyLocation(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("policy location: expected list, add or remove")
	}
	c := newCommand("policy location " + args[0])
	switch args[0] {
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withCA(ctx, func(svc *policyadmin.Service, cfg *policy.ConditionalAccessConfig) error {
			if c.json {
				return printJSON(out, cfg.NamedLocations)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tTRUSTED\tRANGES")
			for _, l := range cfg.NamedLocations {
				fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", l.ID, l.Name, l.IsTrusted, strings.Join(l.CIDRs, " "))
			}
			return tw.Flush()
		})
	case "add":
		var trusted bool
		c.fs.BoolVar(&trusted, "trusted", false, "a trusted network (such as the office)")
		rest, err := parseArgs(c.fs, args[1:])
		if err != nil {
			return err
		}
		if len(rest) < 2 {
			return usageError("policy location add: expected a name and at least one address range (CIDR)")
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			l, err := svc.CreateNamedLocation(ctx, latchkey.CLIActor, policy.NamedLocation{Name: rest[0], CIDRs: rest[1:], IsTrusted: trusted})
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, l)
			}
			fmt.Fprintf(out, "Added named location %q (%s): %s.\n", l.Name, l.ID, strings.Join(l.CIDRs, ", "))
			return nil
		})
	case "remove":
		if err := c.parse(args[1:], 1, "one location id or name"); err != nil {
			return err
		}
		return c.withCA(ctx, func(svc *policyadmin.Service, cfg *policy.ConditionalAccessConfig) error {
			id := refID(c.args[0], cfg.NamedLocations, func(l policy.NamedLocation) (string, string) { return l.ID, l.Name })
			if err := svc.DeleteNamedLocation(ctx, latchkey.CLIActor, id); err != nil {
				return err
			}
			fmt.Fprintf(out, "Removed named location %s.\n", c.args[0])
			return nil
		})
	}
	return usageError("policy location: unknown subcommand %q (list, add, remove)", args[0])
}

// runPolicyLint lints every policy that is not off as if it were enforced. It fails (exit 1)
// when an enabled policy would lock someone out.
func runPolicyLint(ctx context.Context, args []string, out io.Writer) error {
	c := newCommand("policy lint")
	if err := c.parse(args, 0, "no arguments"); err != nil {
		return err
	}
	return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
		lints, err := svc.LintAll(ctx, latchkey.CLIActor)
		if err != nil {
			return err
		}
		var enabled []string
		reportOnly := 0
		for _, pl := range lints {
			switch {
			case len(pl.Findings) == 0:
			case pl.State == policy.CAStateEnabled:
				enabled = append(enabled, fmt.Sprintf("%q", pl.Name))
			default:
				reportOnly++
			}
		}
		if c.json {
			if err := printJSON(out, map[string]any{"policies": lints, "enabledWithFindings": len(enabled), "reportOnlyWithFindings": reportOnly}); err != nil {
				return err
			}
		} else {
			printLints(out, lints)
			if len(enabled) == 0 {
				fmt.Fprintf(out, "No enabled policy locks anyone out (%d policies checked; %d report-only with findings).\n", len(lints), reportOnly)
			}
		}
		if len(enabled) > 0 {
			return latchkey.Errorf(latchkey.EINVALID, "lint_findings",
				fmt.Sprintf("%d enabled policies would lock people out: %s. Fix them, or switch them to report-only.", len(enabled), strings.Join(enabled, ", ")),
				"%d enabled and %d report-only policies have lint findings", len(enabled), reportOnly)
		}
		return nil
	})
}

// runPolicyWhatIf says what conditional access would do for a user, an app or action, a device.
func runPolicyWhatIf(ctx context.Context, args []string, out io.Writer) error {
	c := newCommand("policy whatif")
	var in policyadmin.WhatIfInput
	c.fs.StringVar(&in.User, "user", "", "the user (UPN or id)")
	c.fs.StringVar(&in.App, "app", "", "the application: its client id or its name")
	c.fs.StringVar(&in.UserAction, "action", "", "a user action instead of an application: "+policy.UserActionRegisterSecurityInfo)
	c.fs.StringVar(&in.Platform, "platform", "", "windows, macOS, iOS, android, linux or other")
	c.fs.StringVar(&in.PlatformVersion, "platform-version", "", "the platform's version, such as 10.0.22631")
	c.fs.StringVar(&in.IP, "ip", "", "the client's IP address")
	c.fs.StringVar(&in.ClientType, "client-type", policy.ClientBrowser, "browser, mobileAppsAndDesktopClients or other")
	if err := c.parse(args, 0, "flags only"); err != nil {
		return err
	}
	if in.User == "" || (in.App == "") == (in.UserAction == "") {
		return usageError("policy whatif: give --user and one of --app or --action")
	}
	return c.withPolicyAdmin(ctx, func(st latchkey.Store, svc *policyadmin.Service) error {
		if in.App != "" {
			id, err := findAppID(ctx, st, in.App)
			if err != nil {
				return err
			}
			in.App = id
		}
		rep, err := svc.WhatIf(ctx, latchkey.CLIActor, in)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(out, rep)
		}
		fmt.Fprintln(out, rep.Verdict)
		if len(rep.Policies) == 0 {
			fmt.Fprintln(out, "No policy applies.")
		} else {
			fmt.Fprintln(out, "Policies that apply:")
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			for _, p := range rep.Policies {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, stateName(p.State), p.Grant, p.Result, p.Detail)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "Methods of %s:\n", rep.UserPrincipalName)
		for _, m := range rep.Methods {
			fmt.Fprintf(out, "  %s: meets what is enforced: %s; with report-only policies: %s\n", m.Description, yesNo(m.MeetsEnforced), yesNo(m.MeetsAll))
		}
		if len(rep.Methods) == 0 {
			fmt.Fprintln(out, "  none")
		}
		return nil
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// withCA runs fn with the sign-in service and the conditional access configuration it reads
// from the store.
func (c *command) withCA(ctx context.Context, fn func(*policyadmin.Service, *policy.ConditionalAccessConfig) error) error {
	return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
		cfg, err := svc.ConditionalAccess(ctx, latchkey.CLIActor)
		if err != nil {
			return err
		}
		return fn(svc, cfg)
	})
}
