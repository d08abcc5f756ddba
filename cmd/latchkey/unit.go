package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// runUnit creates administrative units, adds members to them and lists them.
func runUnit(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("unit: expected add, add-member or list")
	}
	c := newCommand("unit " + args[0])
	switch args[0] {
	case "add":
		if err := c.parse(args[1:], 1, "one unit name"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			u, err := dir.CreateUnit(ctx, latchkey.CLIActor, c.args[0])
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, u)
			}
			fmt.Fprintf(out, "Created administrative unit %s (id %s).\n", u.DisplayName, u.ID)
			return nil
		})
	case "add-member":
		if err := c.parse(args[1:], 2, "UNIT USER|GROUP"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			m, err := dir.AddUnitMember(ctx, latchkey.CLIActor, c.args[0], c.args[1])
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, m)
			}
			fmt.Fprintf(out, "Added %s %s to %s.\n", m.Kind, m.Name, c.args[0])
			return nil
		})
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			units, err := dir.ListUnits(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, units)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "UNIT\tMEMBERS\tID")
			for _, u := range units {
				names := make([]string, len(u.Members))
				for i, m := range u.Members {
					names[i] = m.Name
					if m.Kind == latchkey.UnitMemberGroup {
						names[i] = "group:" + m.Name
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", u.DisplayName, strings.Join(names, ", "), u.ID)
			}
			return tw.Flush()
		})
	}
	return usageError("unit: unknown subcommand %q (add, add-member, list)", args[0])
}
