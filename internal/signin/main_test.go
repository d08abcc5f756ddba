package signin

import (
	"testing"

	"github.com/latchkey/latchkey/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL server the PostgreSQL benchmarks start, if any. Tests
// that do not ask pgtest for a database start none.
func TestMain(m *testing.M) { pgtest.Main(m) }
