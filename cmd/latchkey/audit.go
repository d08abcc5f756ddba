package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey/internal/audit"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// errAuditBroken makes `latchkey audit verify` exit 1 after printing what it found.
var errAuditBroken = errors.New("the audit log failed verification")

func runAudit(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("audit: expected verify, checkpoint or list")
	}
	c := newCommand("audit " + args[0])
	switch args[0] {
	case "verify":
		var file string
		c.fs.StringVar(&file, "checkpoint", "", "a checkpoint kept outside the database (the output of latchkey audit checkpoint)")
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		var external []byte
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			external = b
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			rep, err := audit.Verify(ctx, st, external)
			if err != nil {
				return err
			}
			if c.json {
				if err := printJSON(out, rep); err != nil {
					return err
				}
			} else if rep.OK {
				fmt.Fprintf(out, "The audit log verifies: %d sealed events, latest checkpoint %d", rep.Events, rep.CheckpointSize)
				if external != nil {
					fmt.Fprintf(out, ", consistent with the given checkpoint of %d", rep.ExternalSize)
				}
				fmt.Fprintf(out, "; %d waiting to be sealed.\n", rep.Pending)
			} else {
				fmt.Fprintf(out, "The audit log does NOT verify: %s.\n", rep.Problem)
			}
			if !rep.OK {
				return errAuditBroken
			}
			return nil
		})
	case "checkpoint":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			// What is pending goes into the checkpoint, when no server's sealer holds the lease
			// (then it seals within a second anyway).
			release, held, err := st.AuditLease(ctx)
			if err != nil {
				return err
			}
			if held {
				_, err = audit.Seal(ctx, st)
				release()
				if err != nil {
					return err
				}
			}
			cp, err := st.LatestAuditCheckpoint(ctx)
			if latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return latchkey.Errorf(latchkey.ENOTFOUND, "no_checkpoint", "The audit log has no events yet, so there is no checkpoint.", "no audit checkpoint")
			} else if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, map[string]any{"size": cp.Size, "root": cp.Root, "note": cp.Note, "sealedDateTime": cp.SealedAt})
			}
			_, err = io.WriteString(out, cp.Note)
			return err
		})
	case "list":
		var f latchkey.AuditFilter
		var since, until string
		c.fs.StringVar(&f.Actor, "actor", "", "only events by this actor (id or name)")
		c.fs.StringVar(&f.Action, "action", "", "only events of this action, e.g. user.create")
		c.fs.StringVar(&f.Target, "target", "", "only events on this target (id or name)")
		c.fs.StringVar(&since, "since", "", "only events at or after this time (2026-12-01 or RFC 3339)")
		c.fs.StringVar(&until, "until", "", "only events before this time (2026-12-01 or RFC 3339)")
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		var err error
		if f.Since, err = parseAuditTime("--since", since); err != nil {
			return err
		}
		if f.Until, err = parseAuditTime("--until", until); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			evs, err := dir.ListAuditEvents(ctx, latchkey.CLIActor, f)
			if err != nil {
				return err
			}
			if c.json {
				if evs == nil {
					evs = []*latchkey.AuditEvent{}
				}
				return printJSON(out, evs)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tSEQ\tACTOR\tACTION\tTARGET\tSUMMARY")
			for _, e := range evs {
				seq := "-"
				if e.Seq != nil {
					seq = fmt.Sprint(*e.Seq)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), seq, e.ActorName,
					e.Action, strings.TrimSpace(e.TargetKind+" "+e.TargetName), e.SummaryJSON())
			}
			return tw.Flush()
		})
	}
	return usageError("audit: unknown subcommand %q (verify, checkpoint, list)", args[0])
}

// parseAuditTime reads a --since or --until value: a date (local midnight) or an RFC 3339 time.
func parseAuditTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("%s %q: use a date (2026-12-01) or a time (2026-12-01T09:00:00Z)", flag, s)
}
