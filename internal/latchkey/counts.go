package latchkey

import (
	"context"
	"time"
)

// AttentionCounts are the admin home page's counts over the whole directory, each one
// aggregate in the store rather than a read per person.
type AttentionCounts struct {
	// NoPasskey counts the enabled users who have no passkey.
	NoPasskey int
	// UsablePasses counts the enabled users whose pass is usable at the time asked: started,
	// not expired, and not a one-time pass already used (AccessPass.State is TAPUsable).
	UsablePasses int
	// FailedSignIns counts the sign-in events with result SignInFailure at or after the time
	// asked, however many there are.
	FailedSignIns int
}

// CountStore answers aggregate questions about the directory in one query.
type CountStore interface {
	// CountAttention returns the AttentionCounts with passes judged at now and failed sign-ins
	// counted from since.
	CountAttention(ctx context.Context, now, since time.Time) (AttentionCounts, error)
	// CountNeedingSecondPasskey counts the enabled users with passkeys who have exactly one, or
	// none of whose passkeys was used or created at or after unusedBefore (the rule of
	// policy.SecondPasskey.Reason).
	CountNeedingSecondPasskey(ctx context.Context, unusedBefore time.Time) (int, error)
}
