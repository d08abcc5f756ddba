package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/oidc"
)

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runApp is `latchkey app add|list|remove`: the applications (OpenID Connect clients) that sign
// people in through Latchkey.
func runApp(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("app: expected add, list or remove")
	}
	switch args[0] {
	case "add":
		c := newCommand("app add")
		var redirects, logoutRedirects stringList
		var public bool
		c.fs.Var(&redirects, "redirect-uri", "a redirect URI, exactly as the application sends it (repeatable)")
		c.fs.Var(&logoutRedirects, "post-logout-redirect-uri", "where the application may send people after signing out (repeatable)")
		c.fs.BoolVar(&public, "public", false, "a public client (single-page or native app): no secret, PKCE required")
		if err := c.parse(args[1:], 1, "one application name"); err != nil {
			return err
		}
		if len(redirects) == 0 {
			return usageError("app add: at least one --redirect-uri is required")
		}
		return c.withApps(ctx, func(dir *directory.Service) error {
			cl, secret, err := dir.CreateApp(ctx, latchkey.CLIActor, c.args[0], redirects, logoutRedirects, public)
			if err != nil {
				return err
			}
			if c.json {
				v := map[string]any{"clientId": cl.ID, "name": cl.Name, "public": cl.Public, "redirectUris": cl.RedirectURIs,
					"postLogoutRedirectUris": cl.PostLogoutRedirectURIs, "createdDateTime": cl.CreatedAt}
				if secret != "" {
					v["clientSecret"] = secret
				}
				return printJSON(out, v)
			}
			fmt.Fprintf(out, "Application %q added.\n  Client ID: %s\n", cl.Name, cl.ID)
			if secret != "" {
				fmt.Fprintf(out, "  Client secret: %s\n  The secret is shown only now; keep it in the application's configuration.\n", secret)
			} else {
				fmt.Fprintf(out, "  Public client: no secret; the application must use PKCE (S256).\n")
			}
			return nil
		})
	case "list":
		c := newCommand("app list")
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withApps(ctx, func(dir *directory.Service) error {
			cls, err := dir.ListApps(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, cls)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tREDIRECT URIS")
			for _, cl := range cls {
				kind := "confidential"
				if cl.Public {
					kind = "public"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cl.ID, cl.Name, kind, strings.Join(cl.RedirectURIs, " "))
			}
			return tw.Flush()
		})
	case "remove":
		c := newCommand("app remove")
		if err := c.parse(args[1:], 1, "one client id"); err != nil {
			return err
		}
		return c.withApps(ctx, func(dir *directory.Service) error {
			if err := dir.DeleteApp(ctx, latchkey.CLIActor, c.args[0]); err != nil {
				return err
			}
			fmt.Fprintf(out, "Application %s removed.\n", c.args[0])
			return nil
		})
	}
	return usageError("app: expected add, list or remove, got %q", args[0])
}

// withApps is withDirectory for the application commands: the directory registers
// applications with the OpenID provider's rules.
func (c *command) withApps(ctx context.Context, fn func(*directory.Service) error) error {
	return c.withDirectory(ctx, func(st latchkey.Store, dir *directory.Service) error {
		dir.CreateClient = func(ctx context.Context, name string, redirects, postLogout []string, public bool) (*latchkey.Client, string, error) {
			return oidc.CreateClient(ctx, st, name, redirects, postLogout, public)
		}
		return fn(dir)
	})
}

// findAppID returns the client id of the application ref names: a client id, or else an
// application's name in any case. A name two applications share is refused, naming them.
func findAppID(ctx context.Context, st latchkey.Store, ref string) (string, error) {
	if cl, err := st.FindClient(ctx, ref); err == nil {
		return cl.ID, nil
	} else if !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return "", err
	}
	cls, err := st.ListClients(ctx)
	if err != nil {
		return "", fmt.Errorf("list applications: %w", err)
	}
	var found []string
	id := ""
	for _, cl := range cls {
		if strings.EqualFold(strings.TrimSpace(cl.Name), strings.TrimSpace(ref)) {
			found = append(found, fmt.Sprintf("%s (%s)", cl.Name, cl.ID))
			id = cl.ID
		}
	}
	switch len(found) {
	case 0:
		return ref, nil // the service says that the application does not exist
	case 1:
		return id, nil
	}
	return "", latchkey.Errorf(latchkey.EINVALID, "ambiguous_application", "More than one application has that name. Give the client id instead.",
		"applications named %q: %s", ref, strings.Join(found, ", "))
}
