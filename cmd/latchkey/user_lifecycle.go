package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// userSetFlags are the flags of `user set`, each changing one field of the person.
var userSetFlags = []struct{ name, usage string }{
	{"display-name", "display name"},
	{"given-name", "given name"},
	{"surname", "family name"},
	{"employee-id", "employee id"},
	{"department", "department"},
	{"manager", `the person's manager (UPN or id); "" clears it`},
	{"start-date", "the day the person starts, like 2027-01-04"},
	{"mail", "work mail address"},
	{"personal-mail", "personal mail address"},
}

// runUserSet changes the fields of a user that its flags name; a flag given as "" clears an
// optional field.
func runUserSet(ctx context.Context, c *command, args []string, out io.Writer) error {
	values := map[string]*string{}
	for _, f := range userSetFlags {
		values[f.name] = c.fs.String(f.name, "", f.usage)
	}
	if err := c.parse(args, 1, "one user (UPN or id) and what to change"); err != nil {
		return err
	}
	given := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	pick := func(name string) *string {
		if given[name] {
			return values[name]
		}
		return nil
	}
	ch := directory.UserChanges{DisplayName: pick("display-name"), GivenName: pick("given-name"), Surname: pick("surname"),
		EmployeeID: pick("employee-id"), Department: pick("department"), Manager: pick("manager"),
		StartDate: pick("start-date"), Mail: pick("mail"), PersonalMail: pick("personal-mail")}
	if ch == (directory.UserChanges{}) {
		return usageError("user set: nothing to change; give --display-name, --given-name, --surname, --employee-id, --department, --manager, --start-date, --mail or --personal-mail")
	}
	return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
		u, err := dir.UpdateUser(ctx, latchkey.CLIActor, c.args[0], ch)
		if err != nil {
			return err
		}
		if c.json {
			g, err := dir.Graph(ctx, u)
			if err != nil {
				return err
			}
			return printJSON(out, g)
		}
		switch {
		case ch.Manager != nil && *ch.Manager == "":
			fmt.Fprintf(out, "%s has no manager now.\n", u.UserPrincipalName)
		case ch.Manager != nil:
			fmt.Fprintf(out, "%s now reports to %s.\n", u.UserPrincipalName, *ch.Manager)
		default:
			fmt.Fprintf(out, "Updated %s.\n", u.UserPrincipalName)
		}
		return nil
	})
}

// runUserLifecycle turns a user off or on, or deletes them.
func runUserLifecycle(ctx context.Context, c *command, verb string, args []string, out io.Writer) error {
	if err := c.parse(args, 1, "one user (UPN or id)"); err != nil {
		return err
	}
	return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
		var u *latchkey.User
		var err error
		var said string
		switch verb {
		case "disable":
			u, err = dir.DisableUser(ctx, latchkey.CLIActor, c.args[0])
			said = "Turned off %s: their sessions and refresh tokens have ended and their pass is revoked. Their passkeys stay.\n"
		case "enable":
			u, err = dir.EnableUser(ctx, latchkey.CLIActor, c.args[0])
			said = "Turned on %s. They sign in again; their old sessions stay ended.\n"
		default:
			u, err = dir.DeleteUser(ctx, latchkey.CLIActor, c.args[0])
			said = "Deleted %s, with their passkeys, pass, sessions, memberships and roles.\n"
		}
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(out, map[string]any{"id": u.ID, "userPrincipalName": u.UserPrincipalName, "accountEnabled": verb == "enable", "deleted": verb == "delete"})
		}
		fmt.Fprintf(out, said, u.UserPrincipalName)
		return nil
	})
}

// printGraphUsers prints users in Graph's shape, with their managers and groups.
func printGraphUsers(ctx context.Context, dir *directory.Service, out io.Writer, users []*latchkey.User) error {
	list := make([]*directory.GraphUser, 0, len(users))
	for _, u := range users {
		g, err := dir.Graph(ctx, u)
		if err != nil {
			return err
		}
		list = append(list, g)
	}
	return printJSON(out, list)
}
