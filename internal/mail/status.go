package mail

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// maxProblems is how many failed or retrying items Status lists.
const maxProblems = 5

// Status is what the admin home says about mail.
type Status struct {
	// Configured reports whether mail is sent (serve has --smtp); without it items wait.
	Configured bool
	// Waiting counts pending items, due or not, retries included.
	Waiting int
	// Failed counts items the outbox gave up on.
	Failed int
	// Problems lists the latest items that failed for good or wait for a retry, newest first, at
	// most five.
	Problems []*latchkey.MailItem
}

// Status returns the outbox's counts and latest problems.
func (o *Outbox) Status(ctx context.Context) (*Status, error) {
	counts, err := o.store.CountMail(ctx)
	if err != nil {
		return nil, fmt.Errorf("count mail: %w", err)
	}
	st := &Status{Configured: o.Configured(), Waiting: counts[latchkey.MailPending], Failed: counts[latchkey.MailFailed]}
	failed, err := o.store.ListMail(ctx, latchkey.MailFilter{State: latchkey.MailFailed, Limit: maxProblems})
	if err != nil {
		return nil, fmt.Errorf("list failed mail: %w", err)
	}
	pending, err := o.store.ListMail(ctx, latchkey.MailFilter{State: latchkey.MailPending, Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("list pending mail: %w", err)
	}
	for _, it := range pending {
		if it.Attempts > 0 && len(st.Problems) < maxProblems {
			st.Problems = append(st.Problems, it)
		}
	}
	st.Problems = append(st.Problems, failed...)
	if len(st.Problems) > maxProblems {
		st.Problems = st.Problems[:maxProblems]
	}
	return st, nil
}
