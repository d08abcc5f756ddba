package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func runTAP(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "issue" {
		return usageError("tap: expected issue USER")
	}
	c := newCommand("tap issue")
	var lifetime, start, publicURL string
	var oneTime bool
	publicURLFlag(c.fs, &publicURL)
	c.fs.StringVar(&lifetime, "lifetime", "", "how long the pass works: 1h, 90m, or minutes (default: the policy's default)")
	c.fs.BoolVar(&oneTime, "one-time", false, "the pass works once")
	c.fs.StringVar(&start, "start", "", "when the pass starts working: 2026-12-01T09:00 (local time) or RFC 3339")
	if err := c.parse(args[1:], 1, "one user (UPN or id)"); err != nil {
		return err
	}
	publicURL, err := resolvePublicURL(c.fs, publicURL)
	if err != nil {
		return err
	}
	o := signin.IssueOptions{OneTime: oneTime}
	if lifetime != "" {
		m, err := parseMinutes(lifetime)
		if err != nil {
			return err
		}
		o.LifetimeMinutes = m
	}
	if start != "" {
		t, err := parseTime(start)
		if err != nil {
			return err
		}
		o.StartAt = t
	}
	return c.withDirectory(ctx, func(st latchkey.Store, svc *directory.Service) error {
		u, err := findUser(ctx, st, c.args[0])
		if err != nil {
			return err
		}
		pass, ap, err := svc.IssueAccessPass(ctx, latchkey.CLIActor, u.ID, o)
		if err != nil {
			return err
		}
		signInURL := tapSignInURL(publicURL, u.UserPrincipalName)
		if c.json {
			return printJSON(out, map[string]any{"temporaryAccessPass": pass, "id": ap.ID, "userId": u.ID,
				"userPrincipalName": u.UserPrincipalName, "startDateTime": ap.StartAt, "lifetimeInMinutes": ap.LifetimeMinutes,
				"expiresDateTime": ap.ExpiresAt(), "isUsableOnce": ap.OneTime, "signInUrl": signInURL})
		}
		kind := "multi-use"
		if ap.OneTime {
			kind = "one-time"
		}
		fmt.Fprintf(out, "Temporary Access Pass: %s\n  for %s, %s, valid from %s until %s (%s).\n  It is shown only now. Sign in at %s with it, then add a passkey.\n",
			pass, u.UserPrincipalName, kind, ap.StartAt.Local().Format("2006-01-02 15:04 MST"), ap.ExpiresAt().Local().Format("2006-01-02 15:04 MST"),
			humanDuration(time.Duration(ap.LifetimeMinutes)*time.Minute), signInURL)
		return nil
	})
}

// parseMinutes reads a lifetime as a Go duration (1h, 90m) or a whole number of minutes.
func parseMinutes(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d%time.Minute != 0 {
		return 0, usageError("--lifetime %q: use whole minutes like 90, 90m or 1h", s)
	}
	return int(d / time.Minute), nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError("--start %q: use 2026-12-01T09:00 or RFC 3339", s)
}
