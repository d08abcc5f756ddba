package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/signin"
)

// runKeys is `latchkey keys list|rotate`: the keys that sign ID and access tokens.
func runKeys(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("keys: expected list or rotate")
	}
	switch args[0] {
	case "list":
		c := newCommand("keys list")
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			keys, err := st.ListSigningKeys(ctx)
			if err != nil {
				return err
			}
			type row struct {
				ID        string     `json:"kid"`
				Algorithm string     `json:"alg"`
				CreatedAt time.Time  `json:"createdDateTime"`
				RetiredAt *time.Time `json:"retiredDateTime,omitempty"`
				State     string     `json:"state"`
			}
			rows := make([]row, 0, len(keys))
			now := time.Now()
			for _, k := range keys {
				state := "signing"
				switch {
				case k.RetiredAt != nil && now.Sub(*k.RetiredAt) > oidc.RetiredKeyPublished:
					state = "retired, no longer published"
				case k.RetiredAt != nil:
					state = "retired, still published"
				}
				rows = append(rows, row{k.ID, k.Algorithm, k.CreatedAt, k.RetiredAt, state})
			}
			if c.json {
				return printJSON(out, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(out, "No signing keys yet: the first is made when the first token is signed.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tALG\tCREATED\tSTATE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Algorithm, r.CreatedAt.Format(time.RFC3339), r.State)
			}
			return tw.Flush()
		})
	case "rotate":
		c := newCommand("keys rotate")
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			ctx := latchkey.Audit(ctx, latchkey.CLIActor, "signingKey.rotate", "signingKey", "", "", nil)
			k, err := oidc.RotateSigningKey(ctx, st, time.Now())
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, map[string]any{"kid": k.ID, "alg": k.Algorithm, "createdDateTime": k.CreatedAt})
			}
			fmt.Fprintf(out, "New signing key %s: every node signs with it from now on. Older keys stay published for %s so that tokens they signed still verify.\n",
				k.ID, humanDuration(oidc.RetiredKeyPublished))
			return nil
		})
	}
	return usageError("keys: expected list or rotate, not %q", args[0])
}
