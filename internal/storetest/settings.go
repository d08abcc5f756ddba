package storetest

import (
	"bytes"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var settingTests = []test{
	{"UpdateSetting", testUpdateSetting},
	{"UpdateSetting/Abort", testUpdateSettingAbort},
}

var settingConcurrencyTests = []test{
	{"UpdateSetting", testRaceUpdateSetting},
}

// RunTwoNodeTests runs the races between two nodes: newNodes returns two stores opened
// separately on the same fresh, empty database (two Opens of one SQLite file, two pools on one
// PostgreSQL database), as two Latchkey nodes would hold them; the caller closes both.
func RunTwoNodeTests(t *testing.T, newNodes func(t *testing.T) (latchkey.Store, latchkey.Store)) {
	t.Run("UpdateSetting", func(t *testing.T) {
		a, b := newNodes(t)
		testTwoNodesUpdateSetting(t, a, b)
	})
	t.Run("LastGlobalAdmin", func(t *testing.T) {
		a, b := newNodes(t)
		raceLastAdmin(t, a, b)
	})
	t.Run("AuditRace", func(t *testing.T) {
		a, b := newNodes(t)
		testTwoNodesAuditRace(t, a, b)
	})
	t.Run("ClaimMail", func(t *testing.T) {
		a, b := newNodes(t)
		raceClaimMail(t, a, b)
	})
}

// putSetting replaces the value under key, as a caller that ignores the current value does.
func putSetting(t *testing.T, s latchkey.Store, key string, value []byte) {
	t.Helper()
	got, err := s.UpdateSetting(t.Context(), key, func([]byte) ([]byte, error) { return value, nil })
	must(t, "UpdateSetting "+key, err)
	if !bytes.Equal(got, value) {
		t.Errorf("UpdateSetting %s returned %q, want the value stored, %q", key, got, value)
	}
}

// getSetting reports unless key holds want.
func getSetting(t *testing.T, s latchkey.Store, key, want string) {
	t.Helper()
	got, err := s.GetSetting(t.Context(), key)
	must(t, "GetSetting "+key, err)
	if string(got) != want {
		t.Errorf("GetSetting %s = %q, want %q", key, got, want)
	}
}

// testUpdateSetting: fn sees nil for an absent key and then what was stored; the value fn
// returns is stored and returned; other keys are untouched; nil is stored as empty.
func testUpdateSetting(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	putSetting(t, s, "other", []byte(`{"o":1}`))
	var seen [][]byte
	appendX := func(cur []byte) ([]byte, error) {
		seen = append(seen, cur)
		return append(bytes.Clone(cur), 'x'), nil
	}
	for i := range 3 {
		got, err := s.UpdateSetting(ctx, "doc", appendX)
		must(t, "UpdateSetting", err)
		if want := bytes.Repeat([]byte("x"), i+1); !bytes.Equal(got, want) {
			t.Errorf("UpdateSetting %d returned %q, want %q", i, got, want)
		}
	}
	if len(seen) != 3 || seen[0] != nil || string(seen[1]) != "x" || string(seen[2]) != "xx" {
		t.Errorf("fn saw %q, want nil (absent), then \"x\", then \"xx\"", seen)
	}
	getSetting(t, s, "doc", "xxx")
	getSetting(t, s, "other", `{"o":1}`)

	// Replacing outright, over a value CreateSetting stored.
	must(t, "CreateSetting", s.CreateSetting(ctx, "created", []byte(`{"k":"first"}`)))
	putSetting(t, s, "created", []byte(`{"k":"second"}`))
	getSetting(t, s, "created", `{"k":"second"}`)

	// nil is stored as an empty value, not as an absent key.
	got, err := s.UpdateSetting(ctx, "doc", func([]byte) ([]byte, error) { return nil, nil })
	must(t, "UpdateSetting nil", err)
	if got == nil || len(got) != 0 {
		t.Errorf("UpdateSetting nil returned %#v, want an empty, non-nil value", got)
	}
	getSetting(t, s, "doc", "")
	wantErr(t, "CreateSetting over an empty value", s.CreateSetting(ctx, "doc", []byte("y")), latchkey.ErrConflict)
}

// testUpdateSettingAbort: fn's error is returned as it is and nothing is written, whether the
// key exists or not.
func testUpdateSettingAbort(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	stop := errors.New("stop")
	refuse := func([]byte) ([]byte, error) { return []byte("written anyway"), stop }
	got, err := s.UpdateSetting(ctx, "absent", refuse)
	if err != stop || got != nil {
		t.Errorf("UpdateSetting refused on an absent key = %q, %v; want nil, the error of fn", got, err)
	}
	_, err = s.GetSetting(ctx, "absent")
	wantErr(t, "GetSetting after a refused UpdateSetting", err, latchkey.ErrNotFound)

	putSetting(t, s, "doc", []byte("kept"))
	if _, err := s.UpdateSetting(ctx, "doc", refuse); err != stop {
		t.Errorf("UpdateSetting refused = %v, want the error of fn", err)
	}
	getSetting(t, s, "doc", "kept")
}

// increment adds one to the decimal counter under key through UpdateSetting.
func increment(s latchkey.Store, t *testing.T, key string) error {
	_, err := s.UpdateSetting(t.Context(), key, func(cur []byte) ([]byte, error) {
		n := 0
		if cur != nil {
			var err error
			if n, err = strconv.Atoi(string(cur)); err != nil {
				return nil, err
			}
		}
		return []byte(strconv.Itoa(n + 1)), nil
	})
	return err
}

// testRaceUpdateSetting: racers goroutines increment one counter, absent at first, through
// UpdateSetting: no increment is lost and none fails.
func testRaceUpdateSetting(t *testing.T, s latchkey.Store) {
	const each = 5
	errs := race(func(int) error {
		for range each {
			if err := increment(s, t, "counter"); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	getSetting(t, s, "counter", strconv.Itoa(racers*each))
}

// testTwoNodesUpdateSetting: two nodes each apply n increments to one counter, absent at first,
// at the same time: the counter ends at 2n, whichever node read it last.
func testTwoNodesUpdateSetting(t *testing.T, a, b latchkey.Store) {
	const n = 100
	start := make(chan struct{})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []latchkey.Store{a, b} {
		wg.Go(func() {
			<-start
			for range n {
				if err := increment(s, t, "counter"); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	getSetting(t, a, "counter", strconv.Itoa(2*n))
	getSetting(t, b, "counter", strconv.Itoa(2*n))
}
