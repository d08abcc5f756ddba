// Package pgtest gives tests a fresh, empty PostgreSQL database each.
//
// When LATCHKEY_TEST_POSTGRES_URL is set it names a superuser on a throwaway server, and every
// database is created there. Otherwise the first call to URL starts a private server from the
// PostgreSQL binaries on this machine (initdb in a temporary folder, loopback only, durability
// off for speed), which Main stops when the package's tests are done.
//
// A package that uses pgtest calls it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding a superuser URL of an existing throwaway server,
// for example postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvURL = "LATCHKEY_TEST_POSTGRES_URL"

var (
	startOnce sync.Once
	adminURL  string  // superuser URL of the server every test database is created on
	started   *server // the server this process started, if any
	startErr  error
)

// Main runs the tests of m, stops the server this process started, if any, and exits with the
// tests' exit code. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if started != nil {
		if err := started.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	os.Exit(code)
}

// URL creates an empty database for the test, drops it when the test ends, and returns a URL
// that connects to it as a superuser. The first call may start a server, so the package's
// TestMain must call Main to stop it. Without PostgreSQL binaries the test fails, never skips.
func URL(t testing.TB) string {
	t.Helper()
	startOnce.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			adminURL = u
			return
		}
		started, startErr = startServer(false)
		if started != nil {
			adminURL = started.url
		}
	})
	if startErr != nil {
		t.Fatalf("pgtest: %v", startErr)
	}

	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvURL) // not shown: it may hold a password
	}
	name := randomName()
	if err := adminExec(`CREATE DATABASE "` + name + `"`); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement as the superuser on the server's maintenance database.
func adminExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "latchkey_test_" + hex.EncodeToString(b)
}
