package main

import (
	"context"
	"fmt"
	"io"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// runTAPRevoke is `latchkey tap revoke USER`: the person's pass stops working and the sessions
// made with it end.
func runTAPRevoke(ctx context.Context, args []string, out io.Writer) error {
	c := newCommand("tap revoke")
	if err := c.parse(args, 1, "one user (UPN or id)"); err != nil {
		return err
	}
	return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
		if err := dir.RevokeAccessPass(ctx, latchkey.CLIActor, c.args[0]); err != nil {
			return err
		}
		if c.json {
			return printJSON(out, map[string]any{"user": c.args[0], "revoked": true})
		}
		fmt.Fprintf(out, "Revoked the Temporary Access Pass of %s; the sessions made with it have ended.\n", c.args[0])
		return nil
	})
}

// runPasskeyRemove is `latchkey passkey remove USER PASSKEY_ID`: the passkey can no longer sign
// in and the sessions made with it end (a stolen phone).
func runPasskeyRemove(ctx context.Context, args []string, out io.Writer) error {
	c := newCommand("passkey remove")
	if err := c.parse(args, 2, "a user (UPN or id) and a passkey id"); err != nil {
		return err
	}
	return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
		if err := dir.RemovePasskeyFor(ctx, latchkey.CLIActor, c.args[0], c.args[1]); err != nil {
			return err
		}
		if c.json {
			return printJSON(out, map[string]any{"user": c.args[0], "passkeyId": c.args[1], "removed": true})
		}
		fmt.Fprintf(out, "Removed passkey %s of %s; it can no longer sign in and its sessions have ended.\n", c.args[1], c.args[0])
		return nil
	})
}

// runUserSignOut is `latchkey user signout USER`: every session and refresh token of the person
// ends, on every node.
func runUserSignOut(ctx context.Context, c *command, args []string, out io.Writer) error {
	if err := c.parse(args, 1, "one user (UPN or id)"); err != nil {
		return err
	}
	return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
		sessions, tokens, err := dir.SignOutEverywhere(ctx, latchkey.CLIActor, c.args[0])
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(out, map[string]any{"user": c.args[0], "sessions": sessions, "refreshTokens": tokens})
		}
		fmt.Fprintf(out, "Signed %s out everywhere: %d sessions and %d refresh tokens ended.\n", c.args[0], sessions, tokens)
		return nil
	})
}
