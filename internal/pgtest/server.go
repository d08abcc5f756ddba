package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// server is a private PostgreSQL server in a temporary folder.
type server struct {
	dir   string // holds data/, the log and the unix socket
	pgCtl string
	cred  *syscall.Credential // the postgres OS user's, when this process runs as root
	url   string
	opts  string // the server options it was started with, to start it again on the same port
}

// startServer runs initdb in a new temporary folder and starts a server on a free loopback port;
// durable keeps PostgreSQL's default fsync and synchronous commit, which tests that crash the
// server need, and which the shared server turns off for speed.
func startServer(durable bool) (*server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	// Under /tmp, not $TMPDIR: the postgres user must be able to reach the folder, and /tmp's
	// parents are world-traversable.
	dir, err := os.MkdirTemp("/tmp", "latchkey-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create server folder: %w", err)
	}
	s := &server{dir: dir, pgCtl: filepath.Join(bin, "pg_ctl")}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		if s.cred, err = postgresUser(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown server folder: %w", err)
		}
	}

	data := filepath.Join(dir, "data")
	if err := s.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Another process may take the free port before the server does; try a few.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		// Loopback only; the shared server without durability: its data lives as long as the tests.
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c max_connections=300", port, dir)
		if !durable {
			opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
		}
		logFile := filepath.Join(dir, "postgres.log")
		s.opts = opts
		err = s.start()
		if err == nil {
			s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			return s, nil
		}
		if attempt == 3 {
			log, _ := os.ReadFile(logFile)
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
		}
	}
}

// start starts the server (again) with its options, waiting until it accepts connections.
func (s *server) start() error {
	return s.run(s.pgCtl, "start", "-w", "-t", "60", "-D", filepath.Join(s.dir, "data"), "-l", filepath.Join(s.dir, "postgres.log"), "-o", s.opts)
}

// stop shuts the server down at once and removes its folder.
func (s *server) stop() error {
	err := s.run(s.pgCtl, "stop", "-m", "immediate", "-w", "-D", filepath.Join(s.dir, "data"))
	if rmErr := os.RemoveAll(s.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("remove server folder: %w", rmErr)
	}
	return err
}

// run runs a PostgreSQL program, as the postgres user when this process is root.
func (s *server) run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), args[0], err, out)
	}
	return nil
}

// findBinDir returns the folder holding initdb and pg_ctl: from PATH, else the newest
// /usr/lib/postgresql/VERSION/bin.
func findBinDir() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	for _, initdb := range found {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) in PATH or /usr/lib/postgresql/*/bin: " +
		"run the test command from the README, or `apt-get install postgresql`, or set " + EnvURL +
		" to a superuser URL of a throwaway server")
}

// version returns the major version in /usr/lib/postgresql/VERSION/bin/initdb, or 0.
func version(initdb string) int {
	parts := strings.Split(initdb, string(filepath.Separator))
	if len(parts) < 3 {
		return 0
	}
	v, _ := strconv.ParseFloat(parts[len(parts)-3], 64) // "15", or "9.6" before version 10
	return int(v * 100)
}

// postgresUser returns the credential of the postgres OS user, for running the server as root.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres OS user to run the server as "+
			"(`apt-get install postgresql` creates it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of postgres user: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
