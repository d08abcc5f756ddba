package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Private is a PostgreSQL server of one test's own, which the test may stop and start again to
// cause an outage without disturbing other tests. Unlike the shared server it keeps
// PostgreSQL's durable defaults (fsync, synchronous commit), so a crash loses nothing that was
// acknowledged. It is removed when the test ends.
type Private struct {
	// URL connects as a superuser to the server's postgres database.
	URL     string
	s       *server
	stopped bool
}

// StartPrivate starts a private server for t. Without PostgreSQL binaries the test fails.
func StartPrivate(t testing.TB) *Private {
	t.Helper()
	s, err := startServer(true)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	p := &Private{URL: s.url, s: s}
	t.Cleanup(func() {
		if p.stopped {
			os.RemoveAll(s.dir)
			return
		}
		if err := s.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return p
}

// Stop stops the server: mode "fast" (a clean shutdown: sessions are ended with SQLSTATE 57P01)
// or "immediate" (a crash: every process quits at once, and the next start recovers).
func (p *Private) Stop(t testing.TB, mode string) {
	t.Helper()
	if err := p.s.run(p.s.pgCtl, "stop", "-m", mode, "-w", "-D", filepath.Join(p.s.dir, "data")); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	p.stopped = true
}

// Start starts the stopped server again on the same port.
func (p *Private) Start(t testing.TB) {
	t.Helper()
	if err := p.s.start(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	p.stopped = false
}
