package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
)

func runPolicy(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageError("policy: expected show, set, profile, ca, strength, location, lint or whatif")
	}
	switch args[0] {
	case "show":
		c := newCommand("policy show")
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withPolicyAdmin(ctx, func(st latchkey.Store, svc *policyadmin.Service) error {
			p, err := svc.MethodsPolicy(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, p)
			}
			names, err := groupNames(ctx, st)
			if err != nil {
				return err
			}
			printPolicy(out, p, names)
			return nil
		})
	case "set":
		c := newCommand("policy set")
		override := lockoutOverrideFlag(c)
		if err := c.parse(args[1:], 1, "one file holding the policy JSON (- for standard input)"); err != nil {
			return err
		}
		var body []byte
		var err error
		if c.args[0] == "-" {
			body, err = io.ReadAll(stdin)
		} else {
			body, err = os.ReadFile(c.args[0])
		}
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			p, err := svc.SetMethodsPolicyJSON(ctx, latchkey.CLIActor, body, *override)
			if err != nil {
				return withLockout(out, err)
			}
			if c.json {
				return printJSON(out, p)
			}
			fmt.Fprintf(out, "Stored the authentication methods policy (%d passkey profiles, default %q).\n",
				len(p.Passkey.Profiles), profileName(p, p.Passkey.DefaultProfileID))
			return nil
		})
	case "profile":
		return runPolicyProfile(ctx, args[1:], out)
	case "ca":
		return runPolicyCA(ctx, args[1:], stdin, out)
	case "strength":
		return runPolicyStrength(ctx, args[1:], stdin, out)
	case "location":
		return runPolicyLocation(ctx, args[1:], out)
	case "lint":
		return runPolicyLint(ctx, args[1:], out)
	case "whatif":
		return runPolicyWhatIf(ctx, args[1:], out)
	}
	return usageError("policy: unknown subcommand %q (show, set, profile, ca, strength, location, lint, whatif)", args[0])
}

func runPolicyProfile(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("policy profile: expected add or remove")
	}
	c := newCommand("policy profile " + args[0])
	override := lockoutOverrideFlag(c)
	switch args[0] {
	case "add":
		var groups, types, attestation, allow, block string
		var makeDefault bool
		c.fs.StringVar(&groups, "groups", "", "comma-separated target groups (names or ids)")
		c.fs.StringVar(&types, "types", policy.PasskeyTypesBoth, "passkey types: deviceBound, synced or both")
		c.fs.StringVar(&attestation, "attestation", policy.AttestationEnforcementDisabled, "attestation enforcement: disabled or registrationOnly")
		c.fs.StringVar(&allow, "allow", "", "comma-separated AAGUIDs: accept only these")
		c.fs.StringVar(&block, "block", "", "comma-separated AAGUIDs: refuse these")
		c.fs.BoolVar(&makeDefault, "default", false, "make it the default profile")
		if err := c.parse(args[1:], 1, "one profile name"); err != nil {
			return err
		}
		if allow != "" && block != "" {
			return usageError("policy profile add: give --allow or --block, not both")
		}
		pr := policy.PasskeyProfile{ID: latchkey.NewID(), Name: c.args[0], TargetGroupIDs: []string{},
			PasskeyTypes: types, AttestationEnforcement: attestation,
			KeyRestrictions: policy.KeyRestrictions{EnforcementType: policy.EnforcementBlock, AAGUIDs: []string{}}}
		switch {
		case allow != "":
			pr.KeyRestrictions = policy.KeyRestrictions{IsEnforced: true, EnforcementType: policy.EnforcementAllow, AAGUIDs: splitList(allow)}
		case block != "":
			pr.KeyRestrictions = policy.KeyRestrictions{IsEnforced: true, EnforcementType: policy.EnforcementBlock, AAGUIDs: splitList(block)}
		}
		return c.withPolicyAdmin(ctx, func(st latchkey.Store, svc *policyadmin.Service) error {
			for _, ref := range splitList(groups) {
				g, err := findGroup(ctx, st, ref)
				if err != nil {
					return err
				}
				pr.TargetGroupIDs = append(pr.TargetGroupIDs, g.ID)
			}
			_, err := svc.ChangeMethodsPolicy(ctx, latchkey.CLIActor, *override, func(p *policy.MethodsPolicy) error {
				p.Passkey.Profiles = append(p.Passkey.Profiles, pr)
				if makeDefault {
					p.Passkey.DefaultProfileID = pr.ID
				}
				return nil
			})
			if err != nil {
				return withLockout(out, err)
			}
			if c.json {
				return printJSON(out, pr)
			}
			fmt.Fprintf(out, "Added passkey profile %s (id %s).\n", pr.Name, pr.ID)
			return nil
		})
	case "remove":
		if err := c.parse(args[1:], 1, "one profile name or id"); err != nil {
			return err
		}
		return c.withPolicyAdmin(ctx, func(_ latchkey.Store, svc *policyadmin.Service) error {
			var pr policy.PasskeyProfile
			_, err := svc.ChangeMethodsPolicy(ctx, latchkey.CLIActor, *override, func(p *policy.MethodsPolicy) error {
				i := slices.IndexFunc(p.Passkey.Profiles, func(pr policy.PasskeyProfile) bool {
					return strings.EqualFold(pr.Name, c.args[0]) || pr.ID == c.args[0]
				})
				if i < 0 {
					return latchkey.Errorf(latchkey.ENOTFOUND, "profile_not_found", "No such passkey profile.",
						"no passkey profile named %q; `latchkey policy show` lists them", c.args[0])
				}
				pr = p.Passkey.Profiles[i]
				if pr.ID == p.Passkey.DefaultProfileID {
					return latchkey.Errorf(latchkey.EINVALID, "invalid_policy",
						"The authentication methods policy is not valid: profile "+fmt.Sprintf("%q", pr.Name)+" is the default passkey profile; make another profile the default first.",
						"profile %q (id %s) is defaultPasskeyProfileId", pr.Name, pr.ID)
				}
				p.Passkey.Profiles = slices.Delete(p.Passkey.Profiles, i, i+1)
				return nil
			})
			if err != nil {
				return withLockout(out, err)
			}
			if c.json {
				return printJSON(out, map[string]string{"removed": pr.ID})
			}
			fmt.Fprintf(out, "Removed passkey profile %s.\n", pr.Name)
			return nil
		})
	}
	return usageError("policy profile: unknown subcommand %q (add, remove)", args[0])
}

// lockoutOverrideFlag adds --lockout-override to a command that changes the methods policy.
func lockoutOverrideFlag(c *command) *int {
	return c.fs.Int("lockout-override", 0, "the number of people the lockout lint says would be left with no way to sign in, to confirm the change anyway")
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// findGroup finds a group by name or id; unknown_group like the policy's own refusal.
func findGroup(ctx context.Context, st latchkey.Store, ref string) (*latchkey.Group, error) {
	g, err := st.FindGroupByName(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		g, err = st.FindGroupByID(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "unknown_group", "The policy names a group that does not exist. Choose an existing group.",
			"no group named or with id %q; `latchkey group list` shows them", ref)
	}
	return g, err
}

// groupNames maps group ids to names, with all_users as "All users".
func groupNames(ctx context.Context, st latchkey.Store) (map[string]string, error) {
	groups, err := st.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{policy.AllUsers: "All users"}
	for _, g := range groups {
		names[g.ID] = g.DisplayName
	}
	return names, nil
}

func profileName(p policy.MethodsPolicy, id string) string {
	for _, pr := range p.Passkey.Profiles {
		if pr.ID == id {
			return pr.Name
		}
	}
	return id
}

func printPolicy(w io.Writer, p policy.MethodsPolicy, names map[string]string) {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id + " (unknown group)"
	}
	targets := func(ts []policy.Target) string {
		if len(ts) == 0 {
			return "nobody"
		}
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = name(t.ID)
		}
		return strings.Join(out, ", ")
	}
	yes := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	pm := p.Passkey
	fmt.Fprintf(w, "Passkeys: %s\n  include: %s\n  exclude: %s\n", pm.State, targets(pm.IncludeTargets), targets(pm.ExcludeTargets))
	fmt.Fprintf(w, "  self-service registration: %s\n  user verification: %s\n  guest registration: %s\n",
		yes(pm.IsSelfServiceRegistrationAllowed, "allowed", "not allowed"),
		yes(pm.IsUserVerificationRequired, "required", "not required"),
		yes(pm.IsGuestRegistrationAllowed, "allowed", "not allowed"))
	fmt.Fprintf(w, "  profiles:\n")
	for _, pr := range pm.Profiles {
		def := ""
		if pr.ID == pm.DefaultProfileID {
			def = " (default)"
		}
		groups := make([]string, len(pr.TargetGroupIDs))
		for i, g := range pr.TargetGroupIDs {
			groups[i] = name(g)
		}
		if len(groups) == 0 {
			groups = []string{"none"}
		}
		fmt.Fprintf(w, "    - %s%s [id %s]\n      groups: %s\n      passkey types: %s\n      attestation: %s\n",
			pr.Name, def, pr.ID, strings.Join(groups, ", "), pr.PasskeyTypes,
			yes(pr.AttestationEnforcement == policy.AttestationEnforcementRegistrationOnly, "required at registration", "not required"))
		kr := pr.KeyRestrictions
		switch {
		case !kr.IsEnforced:
			fmt.Fprintf(w, "      key restrictions: not enforced\n")
		case kr.EnforcementType == policy.EnforcementAllow:
			fmt.Fprintf(w, "      key restrictions: allow only\n")
		default:
			fmt.Fprintf(w, "      key restrictions: block\n")
		}
		for _, a := range kr.AAGUIDs {
			provider := passkey.ProviderName(a)
			if provider == "" {
				provider = "provider unknown"
			}
			fmt.Fprintf(w, "        %s (%s)\n", a, provider)
		}
	}
	t := p.TemporaryAccessPass
	fmt.Fprintf(w, "Temporary access passes: %s\n  include: %s\n  exclude: %s\n", t.State, targets(t.IncludeTargets), targets(t.ExcludeTargets))
	minutes := func(n int) string { return humanDuration(time.Duration(n) * time.Minute) }
	fmt.Fprintf(w, "  lifetime: %s by default, %s to %s allowed\n  length: %d characters\n  one-time: %s\n",
		minutes(t.DefaultLifetimeInMinutes), minutes(t.MinimumLifetimeInMinutes), minutes(t.MaximumLifetimeInMinutes), t.DefaultLength,
		yes(t.IsUsableOnce, "always", "when the issuer chooses"))
	pw, totp, rc := p.Password, p.TOTP, p.RegistrationCampaign
	fmt.Fprintf(w, "Passwords (migration only): %s\n  include: %s\n  exclude: %s\n  minimum length: %d characters\n",
		pw.State, targets(pw.IncludeTargets), targets(pw.ExcludeTargets), pw.MinimumLength)
	fmt.Fprintf(w, "Authenticator apps (TOTP, migration only): %s\n  include: %s\n  exclude: %s\n",
		totp.State, targets(totp.IncludeTargets), targets(totp.ExcludeTargets))
	fmt.Fprintf(w, "Offer to create a passkey after a sign-in without one: %s, \"Not now\" allowed %d times\n",
		rc.State, rc.SnoozesAllowed)
}
