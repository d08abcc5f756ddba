package main

// Helpers for the process-level tests in process_test.go: the real latchkey binary, built once
// per test run and started as separate OS processes, and browsers that reach any node of an
// organisation under its one public URL.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/loadtest"
)

// built is the latchkey binary, built at most once per test binary run.
var built struct {
	once sync.Once
	path string
	err  error
}

// latchkeyBinary returns the path of this package built as a binary, building it on first use.
func latchkeyBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() { built.path, built.err = buildLatchkey() })
	if built.err != nil {
		t.Fatalf("build latchkey: %v", built.err)
	}
	return built.path
}

// buildLatchkey runs `go build` on this package (the test's working folder). The binary goes to
// a temporary folder named after this checkout and is replaced atomically on every run, so runs
// leave one binary behind, not one each (TestMain belongs to pgtest and cannot remove it).
func buildLatchkey() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(wd))
	dir := filepath.Join(os.TempDir(), "latchkey-process-test-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "latchkey-*.tmp")
	if err != nil {
		return "", err
	}
	f.Close()
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	if out, err := exec.Command(goTool, "build", "-o", f.Name(), ".").CombinedOutput(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "latchkey")
	if err := os.Rename(f.Name(), bin); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return bin, nil
}

// node is one `latchkey serve` process.
type node struct {
	t         *testing.T
	name      string
	addr      string // 127.0.0.1:PORT, where it listens
	publicURL string
	cmd       *exec.Cmd
	stdout    *syncBuffer
	stderr    *syncBuffer
	exited    chan struct{} // closed once the process has exited and its output is read
	waitErr   error         // cmd.Wait's answer, set before exited is closed
}

// startNode starts `latchkey serve --listen addr --public-url publicURL args...` and waits for
// /healthz to answer 200. When the process exits first (the port was taken, say) it returns an
// error rather than failing the test, so that callers may retry. The process is killed when the
// test ends, and its log shown if the test failed.
func startNode(t *testing.T, name, addr, publicURL string, args ...string) (*node, error) {
	t.Helper()
	n := &node{t: t, name: name, addr: addr, publicURL: publicURL, stdout: &syncBuffer{}, stderr: &syncBuffer{},
		exited: make(chan struct{})}
	n.cmd = exec.Command(latchkeyBinary(t), append([]string{"serve", "--listen", addr, "--public-url", publicURL}, args...)...)
	// The flags name the store; an inherited LATCHKEY_DATABASE must not override --data.
	n.cmd.Env = append(os.Environ(), "LATCHKEY_DATABASE=")
	n.cmd.Stdout, n.cmd.Stderr = n.stdout, n.stderr
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			n.logOutput()
		}
	})
	if err := n.waitHealthy(10 * time.Second); err != nil {
		n.kill()
		return nil, err
	}
	return n, nil
}

// startNodeOnFreePort starts a node on a free loopback port. Its public URL is publicURL, or
// http://localhost:PORT of its own port when publicURL is empty.
func startNodeOnFreePort(t *testing.T, name, publicURL string, args ...string) *node {
	t.Helper()
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		pub := publicURL
		if pub == "" {
			pub = "http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
		}
		n, err := startNode(t, name, addr, pub, args...)
		if err == nil {
			return n
		}
		if attempt == 5 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
	}
}

// restartNode starts a node on addr again, retrying for a few seconds while the port is taken.
func restartNode(t *testing.T, name, addr, publicURL string, args ...string) *node {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := startNode(t, name, addr, publicURL, args...)
		if err == nil {
			return n
		}
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *node) waitHealthy(timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-n.exited:
			return fmt.Errorf("%s exited before it was healthy (%v):\n%s", n.name, n.waitErr, n.stderr.String())
		default:
		}
		if resp, err := c.Get("http://" + n.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			// A hung start says nothing by itself: SIGQUIT makes the Go runtime print where
			// every goroutine is waiting.
			n.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-n.exited:
			case <-time.After(5 * time.Second):
			}
			dump := n.stderr.String()
			if len(dump) > 16<<10 {
				dump = dump[:16<<10] + "\n..."
			}
			return fmt.Errorf("%s: /healthz did not answer 200 within %s; goroutines after SIGQUIT:\n%s", n.name, timeout, dump)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bootstrapPass returns the pass the node printed on the first start of its store.
func (n *node) bootstrapPass() string {
	n.t.Helper()
	// The line is written before the server accepts requests, but the copy from the pipe into
	// the buffer may lag behind /healthz a little.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := bootstrapLine.FindStringSubmatch(n.stdout.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s printed no bootstrap pass; stdout %q", n.name, n.stdout.String())
		}
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits for it to exit.
func (n *node) kill() {
	select {
	case <-n.exited:
		return
	default:
	}
	n.cmd.Process.Kill()
	<-n.exited
}

// stop ends the process with SIGTERM and fails the test unless it shuts down cleanly.
func (n *node) stop() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		n.t.Errorf("signal %s: %v", n.name, err)
	}
	select {
	case <-n.exited:
	case <-time.After(15 * time.Second):
		n.t.Errorf("%s did not stop within 15 s of SIGTERM", n.name)
		n.kill()
	}
	if n.waitErr != nil {
		n.t.Errorf("%s exited with %v after SIGTERM", n.name, n.waitErr)
	}
}

// serverError matches a request log line answered with a 5xx status.
var serverError = regexp.MustCompile(`\bstatus=5\d\d\b`)

// serverErrors returns the node's log lines that show a 5xx answer or an error.
func (n *node) serverErrors() []string {
	var bad []string
	for _, line := range strings.Split(n.stderr.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || serverError.MatchString(line) {
			bad = append(bad, line)
		}
	}
	return bad
}

// logOutput shows the node's output in the test log: what it printed, every log line other than
// an ordinary request line, and the last lines as they are.
func (n *node) logOutput() {
	lines := strings.Split(strings.TrimRight(n.stderr.String(), "\n"), "\n")
	var notable []string
	for _, line := range lines {
		if !strings.Contains(line, "msg=request") || serverError.MatchString(line) {
			notable = append(notable, line)
		}
	}
	if len(notable) > 300 {
		notable = append(notable[:300], "...")
	}
	tail := lines[max(0, len(lines)-40):]
	n.t.Logf("node %s (%s, exit: %v)\nstdout:\n%s\nstderr, %d lines; notable:\n%s\nlast %d lines:\n%s",
		n.name, n.addr, n.waitErr, n.stdout.String(), len(lines), strings.Join(notable, "\n"), len(tail), strings.Join(tail, "\n"))
}

// viaNode returns a transport that sends every request to addr, whatever host its URL names.
func viaNode(addr string) *http.Transport {
	tr := loadtest.NewTransport(16)
	tr.Proxy = nil
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// browserVia returns one browser (one cookie jar) as one client per node: client i sends to
// nodes[i]. Every client uses the organisation's public URL, so the origin, the cookies and the
// WebAuthn RP ID are the same whichever node answers, as behind a load balancer.
func browserVia(publicURL string, nodes ...*node) []*loadtest.Client {
	cs := make([]*loadtest.Client, len(nodes))
	for i, n := range nodes {
		cs[i] = loadtest.NewClient(publicURL, viaNode(n.addr))
		if i > 0 {
			cs[i].HTTP.Jar = cs[0].HTTP.Jar
		}
	}
	return cs
}

// apiError returns err as *loadtest.APIError, or nil when it is not one.
func apiError(err error) *loadtest.APIError {
	var ae *loadtest.APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}
