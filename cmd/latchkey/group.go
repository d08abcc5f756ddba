package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func runGroup(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("group: expected add, add-member, remove-member, rename, delete or list")
	}
	c := newCommand("group " + args[0])
	switch args[0] {
	case "add":
		g := &latchkey.Group{}
		c.fs.StringVar(&g.Description, "description", "", "what the group is for")
		if err := c.parse(args[1:], 1, "one group name"); err != nil {
			return err
		}
		g.DisplayName = c.args[0]
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			if err := dir.CreateGroup(ctx, latchkey.CLIActor, g); err != nil {
				return err
			}
			if c.json {
				return printJSON(out, g)
			}
			fmt.Fprintf(out, "Created group %s (id %s).\n", g.DisplayName, g.ID)
			return nil
		})
	case "add-member":
		if err := c.parse(args[1:], 2, "GROUP USER"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(st latchkey.Store, dir *directory.Service) error {
			g, err := st.FindGroupByName(ctx, c.args[0])
			if latchkey.IsKind(err, latchkey.ENOTFOUND) {
				g, err = st.FindGroupByID(ctx, c.args[0])
			}
			if latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return latchkey.Errorf(latchkey.ENOTFOUND, "group_not_found", "No such group.", "no group named %q; `latchkey group list` shows them", c.args[0])
			} else if err != nil {
				return err
			}
			u, err := findUser(ctx, st, c.args[1])
			if err != nil {
				return err
			}
			added, err := dir.AddGroupMember(ctx, latchkey.CLIActor, g.ID, u.ID)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, map[string]any{"groupId": g.ID, "userId": u.ID, "added": added})
			}
			if !added {
				fmt.Fprintf(out, "%s was already a member of %s; nothing changed.\n", u.UserPrincipalName, g.DisplayName)
				return nil
			}
			fmt.Fprintf(out, "Added %s to %s.\n", u.UserPrincipalName, g.DisplayName)
			return nil
		})
	case "remove-member", "rename", "delete":
		return runGroupChange(ctx, c, args[0], args[1:], out)
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			groups, err := st.ListGroups(ctx)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, groups)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tMEMBERS\tDESCRIPTION\tID")
			for _, g := range groups {
				members, err := st.ListGroupMembers(ctx, g.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", g.DisplayName, len(members), g.Description, g.ID)
			}
			return tw.Flush()
		})
	}
	return usageError("group: unknown subcommand %q (add, add-member, remove-member, rename, delete, list)", args[0])
}

// runGroupChange takes a member out of a group, renames a group or deletes one.
func runGroupChange(ctx context.Context, c *command, verb string, args []string, out io.Writer) error {
	want := map[string]string{"remove-member": "GROUP USER", "rename": "GROUP NEW-NAME", "delete": "GROUP"}[verb]
	if err := c.parse(args, len(strings.Fields(want)), want); err != nil {
		return err
	}
	return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
		g, err := dir.FindGroup(ctx, latchkey.CLIActor, c.args[0])
		if err != nil {
			return err
		}
		switch verb {
		case "remove-member":
			u, err := dir.FindUser(ctx, latchkey.CLIActor, c.args[1])
			if err != nil {
				return err
			}
			if err := dir.RemoveGroupMember(ctx, latchkey.CLIActor, g.ID, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(out, "Removed %s from %s.\n", u.UserPrincipalName, g.DisplayName)
		case "rename":
			old := g.DisplayName
			if g, err = dir.RenameGroup(ctx, latchkey.CLIActor, g.ID, c.args[1]); err != nil {
				return err
			}
			fmt.Fprintf(out, "Renamed %s to %s.\n", old, g.DisplayName)
		default:
			if _, err := dir.DeleteGroup(ctx, latchkey.CLIActor, g.ID); err != nil {
				return err
			}
			fmt.Fprintf(out, "Deleted group %s; its members stay.\n", g.DisplayName)
		}
		return nil
	})
}
