package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// MaxTAPFailures is how many consecutive wrong guesses disable a user's pass (NIST SP 800-63B-4
// allows at most 100).
const MaxTAPFailures = 100

// throttlePolicy says how long to wait after n consecutive failures, and when to stop.
type throttlePolicy struct {
	free     int           // failures allowed without delay
	maxDelay time.Duration // longest delay
	limit    int           // failures after which attempts stop (0: never)
	forget   time.Duration // a counter idle this long starts again
}

var (
	userPolicy = throttlePolicy{free: 5, maxDelay: 15 * time.Minute, limit: MaxTAPFailures, forget: 0}
	ipPolicy   = throttlePolicy{free: 20, maxDelay: 15 * time.Minute, forget: 24 * time.Hour}
)

// delay returns the wait after n consecutive failures: none for the first few, then doubling
// from one second up to maxDelay.
func (p throttlePolicy) delay(n int) time.Duration {
	if n < p.free {
		return 0
	}
	shift := n - p.free
	if shift > 20 {
		return p.maxDelay
	}
	d := time.Second << shift
	if d > p.maxDelay {
		d = p.maxDelay
	}
	return d
}

func userThrottleKey(userID string) string { return "tap:user:" + userID }
func ipThrottleKey(ip string) string       { return "tap:ip:" + ip }

// checkThrottle refuses an attempt while key must wait, or once it reached the policy's limit.
func (s *Service) checkThrottle(ctx context.Context, key string, p throttlePolicy) error {
	th, err := s.Store.FindThrottle(ctx, key)
	if err != nil {
		return err
	}
	now := s.now()
	if th.Failures == 0 || (p.forget > 0 && now.Sub(th.LastFailureAt) > p.forget) {
		return nil
	}
	if p.limit > 0 && th.Failures >= p.limit {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "tap_locked",
			"This pass is blocked after too many wrong tries. Ask your IT admin for a new one.",
			"%s reached %d consecutive failures; issuing a new pass resets it", key, th.Failures)
	}
	wait := th.LastFailureAt.Add(p.delay(th.Failures)).Sub(now)
	if wait > 0 {
		secs := int(wait.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		return latchkey.Errorf(latchkey.ETOOMANYREQUEST, "too_many_attempts",
			fmt.Sprintf("Too many tries. Wait %s, then try again carefully. If you are unsure of your pass, ask your IT admin for a new one.", plural(secs, "second")),
			"%s has %d consecutive failures; next attempt allowed at %s", key, th.Failures, now.Add(wait).Format(timeFormat))
	}
	return nil
}

// recordThrottleFailure counts one failure, first forgetting a counter that was idle long enough.
func (s *Service) recordThrottleFailure(ctx context.Context, key string, p throttlePolicy, now time.Time) (latchkey.Throttle, error) {
	if key == ipThrottleKey("") {
		return latchkey.Throttle{}, nil
	}
	if p.forget > 0 {
		th, err := s.Store.FindThrottle(ctx, key)
		if err != nil {
			return th, err
		}
		if th.Failures > 0 && now.Sub(th.LastFailureAt) > p.forget {
			if err := s.Store.ResetThrottle(ctx, key); err != nil {
				return th, err
			}
		}
	}
	return s.Store.RecordFailure(ctx, key, now)
}
