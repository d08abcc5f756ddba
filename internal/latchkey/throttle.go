package latchkey

import (
	"context"
	"time"
)

// Throttle is the count of failures against one key ("tap:user:ID", "tap:ip:ADDR").
type Throttle struct {
	Key           string
	Failures      int
	LastFailureAt time.Time
}

// FailuresAt returns the count at now when one failure drains away for every whole drain since
// the last failure (drain 0: none ever does, the count only falls on a reset).
func (t Throttle) FailuresAt(now time.Time, drain time.Duration) int {
	if drain <= 0 || t.Failures == 0 {
		return t.Failures
	}
	idle := now.Sub(t.LastFailureAt)
	if idle <= 0 {
		return t.Failures
	}
	drained := idle / drain
	if drained >= time.Duration(t.Failures) {
		return 0
	}
	return t.Failures - int(drained)
}

// AttemptRule says when one more attempt against a key may go ahead, given the attempts
// counted so far (n, drained as Throttle.FailuresAt does).
type AttemptRule struct {
	// Free attempts go ahead at once.
	Free int
	// Limit: at this count no attempt goes ahead any more (0: no limit).
	Limit int
	// MaxDelay: past Free, an attempt goes ahead only 1 s << (n-Free) after the last counted
	// one, at most MaxDelay after it.
	MaxDelay time.Duration
	// Drain: one counted attempt is forgotten per whole Drain since the last (0: only a reset).
	Drain time.Duration
}

// Delay returns how long after the last counted attempt the next may go ahead when n are
// counted: 0 below Free, then 1 s doubling up to MaxDelay.
func (r AttemptRule) Delay(n int) time.Duration {
	if n < r.Free {
		return 0
	}
	shift := min(n-r.Free, 30)
	return min(time.Second<<shift, r.MaxDelay)
}

// Admits reports whether an attempt at now may go ahead against t; when not, and the wait is
// what stops it, next is when it may (zero when only a reset lets it: the limit is reached).
func (r AttemptRule) Admits(t Throttle, now time.Time) (ok bool, next time.Time) {
	n := t.FailuresAt(now, r.Drain)
	if n < r.Free {
		return true, time.Time{}
	}
	if r.Limit > 0 && n >= r.Limit {
		return false, time.Time{}
	}
	next = t.LastFailureAt.Add(r.Delay(n))
	return !now.Before(next), next
}

// ThrottleStore keeps failure counters in the store, so every node sees the same count.
type ThrottleStore interface {
	// FindThrottle returns the counter for key; a zero Throttle (Failures 0) when there is none.
	FindThrottle(ctx context.Context, key string) (Throttle, error)
	// ReserveAttempt counts one attempt against key at `at`, in one atomic step, when rule
	// admits it (AttemptRule.Admits on the count drained to at): it returns the new counter
	// (drained, plus one, last at `at`) and true. Otherwise it changes nothing and returns the
	// counter as stored and false. However many callers race, no more are admitted than the rule
	// allows one after the other.
	ReserveAttempt(ctx context.Context, key string, at time.Time, rule AttemptRule) (Throttle, bool, error)
	// ReleaseAttempt takes one counted attempt back from key (never below zero), for an attempt
	// that turned out not to be a wrong guess.
	ReleaseAttempt(ctx context.Context, key string) error
	// ResetThrottle clears key's counter.
	ResetThrottle(ctx context.Context, key string) error
}
