package signin

import (
	"context"

	"github.com/latchkey/latchkey/internal/health"
)

// HeartbeatEvery is how often, at most, the health check writes this node's heartbeat
// (health.HeartbeatEvery).
const HeartbeatEvery = health.HeartbeatEvery

// healthDeps is what the outage tracker works with: this service's store, logger and clock.
func (s *Service) healthDeps() health.Deps {
	return health.Deps{Store: s.Store, Logger: s.Logger, Now: s.Now}
}

// StoreUnavailable records that a store call failed because the store cannot be reached or
// written; see health.Tracker.StoreUnavailable.
func (s *Service) StoreUnavailable(ctx context.Context, err error) {
	s.outage.StoreUnavailable(ctx, s.healthDeps(), err)
}

// Health reports whether this node can write to its store; see health.Tracker.Health.
func (s *Service) Health(ctx context.Context) error { return s.outage.Health(ctx, s.healthDeps()) }

// CheckRecovery, called after a request that worked, notices the end of an outage; see
// health.Tracker.CheckRecovery.
func (s *Service) CheckRecovery() { s.outage.CheckRecovery(s.healthDeps()) }

// logStoreError logs a store write whose failure does not stop the request; see
// health.Tracker.LogStoreError.
func (s *Service) logStoreError(ctx context.Context, msg string, err error, attrs ...any) {
	s.outage.LogStoreError(ctx, s.healthDeps(), msg, err, attrs...)
}
