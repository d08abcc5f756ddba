package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// findUser finds a user by UPN or id.
func findUser(ctx context.Context, st latchkey.Store, ref string) (*latchkey.User, error) {
	u, err := st.FindUserByUPN(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = st.FindUserByID(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "No such user.", "no user with UPN or id %q; `latchkey user list` shows them", ref)
	}
	return u, err
}

func runUser(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("user: expected add, list, show, set, disable, enable, delete or signout")
	}
	c := newCommand("user " + args[0])
	switch args[0] {
	case "add":
		u := &latchkey.User{Enabled: true}
		var guest, admin bool
		c.fs.StringVar(&u.DisplayName, "display-name", "", "display name")
		c.fs.StringVar(&u.GivenName, "given-name", "", "given name")
		c.fs.StringVar(&u.Surname, "surname", "", "family name")
		c.fs.StringVar(&u.EmployeeID, "employee-id", "", "employee id")
		c.fs.StringVar(&u.Department, "department", "", "department")
		c.fs.StringVar(&u.StartDate, "start-date", "", "the day the person starts, like 2027-01-04: their first pass is mailed for it")
		c.fs.StringVar(&u.Mail, "mail", "", "work mail address")
		c.fs.StringVar(&u.PersonalMail, "personal-mail", "", "personal mail address")
		var manager string
		c.fs.StringVar(&manager, "manager", "", "the person's manager (UPN or id)")
		c.fs.BoolVar(&guest, "guest", false, "a guest from a partner organisation")
		c.fs.BoolVar(&admin, "global-admin", false, "give the global-admin role")
		if err := c.parse(args[1:], 1, "one user principal name, e.g. alice@example.com"); err != nil {
			return err
		}
		u.UserPrincipalName = c.args[0]
		if guest {
			u.UserType = latchkey.UserTypeGuest
		}
		if admin {
			u.Roles = []string{latchkey.RoleGlobalAdmin}
		}
		return c.withDirectory(ctx, func(st latchkey.Store, dir *directory.Service) error {
			if manager != "" {
				m, err := findUser(ctx, st, manager)
				if err != nil {
					return err
				}
				u.ManagerID = m.ID
			}
			if err := dir.CreateUser(ctx, latchkey.CLIActor, u); err != nil {
				return err
			}
			if c.json {
				return printJSON(out, u)
			}
			fmt.Fprintf(out, "Created user %s (id %s).\n", u.UserPrincipalName, u.ID)
			return nil
		})
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			users, err := dir.ListUsers(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			if c.json {
				return printGraphUsers(ctx, dir, out, users)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tNAME\tTYPE\tROLES\tENABLED\tID")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", u.UserPrincipalName, u.DisplayName, u.UserType, strings.Join(u.Roles, ","), u.Enabled, u.ID)
			}
			return tw.Flush()
		})
	case "show":
		if err := c.parse(args[1:], 1, "one user (UPN or id)"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(st latchkey.Store, dir *directory.Service) error {
			return showUser(ctx, st, dir, c, out)
		})
	case "set":
		return runUserSet(ctx, c, args[1:], out)
	case "disable", "enable", "delete":
		return runUserLifecycle(ctx, c, args[0], args[1:], out)
	case "signout":
		return runUserSignOut(ctx, c, args[1:], out)
	}
	return usageError("user: unknown subcommand %q (add, list, show, set, disable, enable, delete, signout)", args[0])
}

func showUser(ctx context.Context, st latchkey.Store, dir *directory.Service, c *command, out io.Writer) error {
	u, err := findUser(ctx, st, c.args[0])
	if err != nil {
		return err
	}
	groups, err := st.ListUserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	pks, err := st.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		return err
	}
	var tap *latchkey.AccessPass
	if tap, err = st.FindAccessPassByUser(ctx, u.ID); err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return err
	}
	if c.json {
		g, err := dir.Graph(ctx, u)
		if err != nil {
			return err
		}
		v := struct {
			*directory.GraphUser
			Passkeys []*latchkey.Passkey `json:"passkeys"`
			TAP      map[string]any      `json:"temporaryAccessPass,omitempty"`
		}{GraphUser: g, Passkeys: pks}
		if tap != nil {
			v.TAP = map[string]any{"pass": tap, "methodUsabilityReason": tap.State(time.Now())}
		}
		return printJSON(out, v)
	}
	fmt.Fprintf(out, "%s (%s)\n  id: %s\n  type: %s, enabled: %v\n", u.UserPrincipalName, u.DisplayName, u.ID, u.UserType, u.Enabled)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(out, "  %s: %s\n", name, value)
		}
	}
	field("given name", u.GivenName)
	field("surname", u.Surname)
	field("employee id", u.EmployeeID)
	field("department", u.Department)
	field("start date", u.StartDate)
	field("mail", u.Mail)
	field("personal mail", u.PersonalMail)
	if u.ManagerID != "" {
		manager := u.ManagerID
		if m, err := st.FindUserByID(ctx, u.ManagerID); err == nil {
			manager = m.UserPrincipalName
		}
		field("manager", manager)
	}
	field("roles", strings.Join(u.Roles, ", "))
	field("created", u.CreatedAt.Format(time.RFC3339))
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.DisplayName
	}
	field("groups", strings.Join(names, ", "))
	fmt.Fprintf(out, "  passkeys: %d\n", len(pks))
	for _, p := range pks {
		fmt.Fprintf(out, "    - %s: %s, provider %q, aaguid %s, %s attestation (%s), sign count %d\n", p.Nickname, p.Kind, p.Provider, p.AAGUID, p.AttestationFormat, p.AttestationTrust, p.SignCount)
	}
	if tap != nil {
		fmt.Fprintf(out, "  temporary access pass: %s, expires %s\n", latchkey.TAPStateWords(tap.State(time.Now())), tap.ExpiresAt().Format(time.RFC3339))
	}
	return nil
}
