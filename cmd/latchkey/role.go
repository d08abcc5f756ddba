package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// runRole assigns, removes and lists administrative roles (DESIGN §4, §5).
func runRole(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("role: expected assign, remove or list")
	}
	c := newCommand("role " + args[0])
	switch args[0] {
	case "assign", "remove":
		var unit string
		c.fs.StringVar(&unit, "unit", "", "administrative unit (name or id) the role is scoped to; none for the whole directory")
		if err := c.parse(args[1:], 2, "USER ROLE"); err != nil {
			return err
		}
		user, role := c.args[0], c.args[1]
		scope := "the whole directory"
		if unit != "" {
			scope = "unit " + unit
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			if args[0] == "remove" {
				if err := dir.RemoveRole(ctx, latchkey.CLIActor, user, role, unit); err != nil {
					return err
				}
				if c.json {
					return printJSON(out, map[string]string{"user": user, "role": role, "unit": unit, "removed": "true"})
				}
				fmt.Fprintf(out, "Removed %s over %s from %s.\n", role, scope, user)
				return nil
			}
			v, err := dir.AssignRole(ctx, latchkey.CLIActor, user, role, unit)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, v)
			}
			fmt.Fprintf(out, "Assigned %s over %s to %s.\n", role, scope, v.UserPrincipalName)
			return nil
		})
	case "list":
		rest, err := parseArgs(c.fs, args[1:])
		if err != nil {
			return err
		}
		if len(rest) > 1 {
			return usageError("role list: expected at most one user")
		}
		user := ""
		if len(rest) == 1 {
			user = rest[0]
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			asgs, err := dir.ListRoleAssignments(ctx, latchkey.CLIActor, user)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, asgs)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tROLE\tSCOPE\tSINCE")
			for _, a := range asgs {
				scope := "directory"
				if a.UnitID != "" {
					scope = "unit " + a.UnitName
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.UserPrincipalName, a.Role, scope, a.CreatedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		})
	}
	return usageError("role: unknown subcommand %q (assign, remove, list)", args[0])
}
