package policyadmin

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// settingAttempts is how many times a change of a shared document (conditional access, the
// methods policy) is made, from the read on, when another change landed between its read and its
// write; after that the change is refused as a conflict. Twenty admins saving at the same moment
// on a slow machine (the race detector on two CPUs) starved one of them at 10 attempts; at 20 the
// random pauses (at most 5 ms more each time) add up to about a second at worst.
const settingAttempts = 20

// settingBackoff is the longest pause before the second attempt of a change; each further
// attempt may wait one more of it. The pause is random, so that changes racing each other spread
// out instead of colliding again.
const settingBackoff = 5 * time.Millisecond

// errSettingChanged says that the stored document is no longer the one a change was made on.
var errSettingChanged = errors.New("the stored document changed after it was read")

// replaceSetting stores value under key only if key still holds read (nil: nothing stored), in
// one store transaction (latchkey.SettingStore.UpdateSetting); errSettingChanged otherwise, and
// then nothing is written.
func (s *Service) replaceSetting(ctx context.Context, key string, read, value []byte) error {
	_, err := s.Store.UpdateSetting(ctx, key, func(current []byte) ([]byte, error) {
		if !bytes.Equal(current, read) {
			return nil, errSettingChanged
		}
		return value, nil
	})
	return err
}

// retryChanged makes a change through attempt, which reads the document, changes, checks and
// lints it and stores it with replaceSetting. It makes it again, from the read, while attempt
// returns errSettingChanged, settingAttempts times at most; then it returns the last attempt's
// value with conflict. Between attempts it pauses a random while (see settingBackoff). The
// checks of a change read the store, so they cannot run inside UpdateSetting's transaction: this
// loop is what keeps two nodes from losing each other's edit.
func retryChanged[T any](ctx context.Context, attempt func() (T, error), conflict error) (T, error) {
	var v T
	for i := range settingAttempts {
		if i > 0 {
			pause := time.NewTimer(rand.N(time.Duration(i) * settingBackoff))
			select {
			case <-ctx.Done():
				pause.Stop()
				return v, ctx.Err()
			case <-pause.C:
			}
		}
		var err error
		if v, err = attempt(); !errors.Is(err, errSettingChanged) {
			return v, err
		}
	}
	return v, conflict
}
