package latchkey

import (
	"context"
	"time"
)

// Throttle is the count of consecutive failures against one key ("tap:user:ID", "tap:ip:ADDR").
type Throttle struct {
	Key           string
	Failures      int
	LastFailureAt time.Time
}

// ThrottleStore keeps failure counters in the store, so every node sees the same count.
type ThrottleStore interface {
	// FindThrottle returns the counter for key; a zero Throttle (Failures 0) when there is none.
	FindThrottle(ctx context.Context, key string) (Throttle, error)
	// RecordFailure atomically adds one failure to key and returns the new counter.
	RecordFailure(ctx context.Context, key string, at time.Time) (Throttle, error)
	// ResetThrottle clears key's counter.
	ResetThrottle(ctx context.Context, key string) error
}
