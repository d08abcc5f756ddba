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

// ThrottleStore keeps failure counters in the store, so every node sees the same count.
type ThrottleStore interface {
	// FindThrottle returns the counter for key; a zero Throttle (Failures 0) when there is none.
	FindThrottle(ctx context.Context, key string) (Throttle, error)
	// RecordFailure atomically adds one failure to key, after draining the count as
	// Throttle.FailuresAt(at, drain) does, and returns the new counter.
	RecordFailure(ctx context.Context, key string, at time.Time, drain time.Duration) (Throttle, error)
	// ResetThrottle clears key's counter.
	ResetThrottle(ctx context.Context, key string) error
}
