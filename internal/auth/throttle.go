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

// guessed says, per method whose secret can be guessed, what a throttled attempt tells the
// person: the refusal at the limit, and what to add to "wait, then try again".
type guessed struct {
	method string
	locked func(key string, failures int) error
	hint   string
}

var tapGuessed = guessed{method: latchkey.MethodTAP,
	locked: func(key string, n int) error {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "tap_locked",
			"This pass is blocked after too many wrong tries. Ask your IT admin for a new one.",
			"%s reached %d consecutive failures; issuing a new pass resets it", key, n)
	},
	hint: " If you are unsure of your pass, ask your IT admin for a new one."}

// checkThrottle refuses an attempt while key must wait, or once it reached the policy's limit.
func (s *Service) checkThrottle(ctx context.Context, key string, p throttlePolicy, g guessed) error {
	th, err := s.Store.FindThrottle(ctx, key)
	if err != nil {
		return err
	}
	now := s.now()
	if th.Failures == 0 || (p.forget > 0 && now.Sub(th.LastFailureAt) > p.forget) {
		return nil
	}
	if p.limit > 0 && th.Failures >= p.limit {
		return g.locked(key, th.Failures)
	}
	if wait := th.LastFailureAt.Add(p.delay(th.Failures)).Sub(now); wait > 0 {
		secs := max(1, int(wait.Round(time.Second)/time.Second))
		return latchkey.Errorf(latchkey.ETOOMANYREQUEST, "too_many_attempts",
			fmt.Sprintf("Too many tries. Wait %s, then try again carefully.%s", plural(secs, "second"), g.hint),
			"%s has %d consecutive failures; next attempt allowed at %s", key, th.Failures, now.Add(wait).Format(timeFormat))
	}
	return nil
}

// failGuess counts a wrong guess at g's method against the address (when known) and the user
// (userKey "" for none), and records the attempt in the sign-in log.
func (s *Service) failGuess(ctx context.Context, g guessed, user *latchkey.User, ipKey, userKey string, err error, c Client) {
	now := s.now()
	if c.IP != "" {
		if _, e := s.recordThrottleFailure(ctx, ipKey, ipPolicy, now); e != nil {
			s.Logger.ErrorContext(ctx, "record throttle failure", "err", e)
		}
	}
	if userKey != "" {
		if _, e := s.recordThrottleFailure(ctx, userKey, userPolicy, now); e != nil {
			s.Logger.ErrorContext(ctx, "record throttle failure", "err", e)
		}
	}
	s.recordFailure(ctx, g.method, user, nil, err, c)
}

// recordThrottleFailure counts one failure, first forgetting a counter that was idle long enough.
func (s *Service) recordThrottleFailure(ctx context.Context, key string, p throttlePolicy, now time.Time) (latchkey.Throttle, error) {
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
