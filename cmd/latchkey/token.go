package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// tokenTime is how the token list shows a time, or "-" when there is none.
func tokenTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Local().Format("2006-01-02 15:04")
}

func runToken(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("token: expected create, list or revoke")
	}
	c := newCommand("token " + args[0])
	switch args[0] {
	case "create":
		var scopes, expires string
		c.fs.StringVar(&scopes, "scopes", "", "comma-separated scopes: "+strings.Join(latchkey.Scopes, ","))
		c.fs.StringVar(&expires, "expires", "90d", "when the token stops working: 30d, 2027-01-31 or never")
		if err := c.parse(args[1:], 1, "one token name"); err != nil {
			return err
		}
		exp, err := parseTokenExpiry(expires)
		if err != nil {
			return err
		}
		var list []string
		for _, s := range strings.Split(scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			secret, t, err := dir.CreateToken(ctx, latchkey.CLIActor, c.args[0], list, exp)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, map[string]any{"id": t.ID, "name": t.Name, "token": secret, "scopes": t.Scopes,
					"expiresDateTime": t.ExpiresAt})
			}
			fmt.Fprintf(out, "API token: %s\n  %s (id %s), scopes %s, expires %s.\n  It is shown only now: store it in your automation's secret store.\n",
				secret, t.Name, t.ID, strings.Join(t.Scopes, ","), tokenTime(t.ExpiresAt, "never"))
			return nil
		})
	case "list":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			tokens, err := dir.ListTokens(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			if c.json {
				if tokens == nil {
					tokens = []*latchkey.APIToken{}
				}
				return printJSON(out, tokens)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tREVOKED\tID")
			for _, t := range tokens {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, strings.Join(t.Scopes, ","), tokenTime(&t.CreatedAt, "-"),
					tokenTime(t.ExpiresAt, "never"), tokenTime(t.LastUsedAt, "never"), tokenTime(t.RevokedAt, "-"), t.ID)
			}
			return tw.Flush()
		})
	case "revoke":
		if err := c.parse(args[1:], 1, "one token id"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			if err := dir.RevokeToken(ctx, latchkey.CLIActor, c.args[0]); err != nil {
				return err
			}
			if c.json {
				return printJSON(out, map[string]string{"id": c.args[0], "status": "revoked"})
			}
			fmt.Fprintf(out, "Revoked API token %s: it stops working now.\n", c.args[0])
			return nil
		})
	}
	return usageError("token: unknown subcommand %q (create, list, revoke)", args[0])
}

// parseTokenExpiry reads --expires: a number of days (90d), a date (2027-01-31, the start of
// that day in local time), an RFC 3339 time, or never.
func parseTokenExpiry(s string) (directory.TokenExpiry, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "never") {
		return directory.TokenExpiry{Never: true}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 && n <= 100*366 {
			return directory.TokenExpiry{Lifetime: time.Duration(n) * 24 * time.Hour}, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return directory.TokenExpiry{At: t}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return directory.TokenExpiry{At: t}, nil
	}
	return directory.TokenExpiry{}, usageError("--expires %q: use a number of days (90d), a date (2027-01-31) or never", s)
}
