package metrics

import (
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

//go:generate go run ./internal/storegen/cmd

// store is a latchkey.Store that times every method of the store it wraps (the generated
// store_gen_*.go files have one method for each, grouped by the internal/latchkey file that
// declares it). The embedded Store passes on a method added to the interface since the wrapper
// was generated, untimed, until `go generate` runs again. The go:generate line lives in this
// file, named to sort after store_gen_*.go, so that go generate has passed those files before
// the generator removes one the store no longer needs.
type store struct {
	latchkey.Store
	m       *Metrics
	backend string
}

// Store returns st with every method timed under the backend name (sqlite or postgres: the
// store label). A nil m returns st itself.
func (m *Metrics) Store(st latchkey.Store, backend string) latchkey.Store {
	if m == nil {
		return st
	}
	return &store{Store: st, m: m, backend: backend}
}

func (s *store) observe(op string, start time.Time) {
	s.m.storeDuration.WithLabelValues(s.backend, op).Observe(time.Since(start).Seconds())
}
