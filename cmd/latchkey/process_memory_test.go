package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmHWM returns the peak resident memory of process pid so far, in bytes (VmHWM in
// /proc/PID/status).
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// guessBurst posts n wrong passes at once to the node's TAP sign-in, request i for name(i)
// from the loopback address from(i), and returns the statuses by index.
func guessBurst(t *testing.T, n *node, count int, name, from func(i int) string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	statuses := make([]int, count)
	errs := make([]error, count)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() {
			tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from(i))}}
				return d.DialContext(ctx, network, n.addr)
			}}
			defer tr.CloseIdleConnections()
			body := fmt.Sprintf(`{"username":%q,"tap":"WRONGPAS"}`, name(i))
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.publicURL+"/api/v1/signin/tap", strings.NewReader(body))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", n.publicURL)
			<-start
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return statuses
}

// TestGuessBurstMemory sends a real `latchkey serve` process 200 wrong passes at once, each for
// a name and from an address of its own, so that the throttle lets every one be checked with
// argon2id (the worst case for memory): every one is answered 401, none 503, and the process's
// peak resident memory stays under 400 MB. Then 200 at once for one name from one address:
// 5 are checked, the rest answered 429 before any hashing.
func TestGuessBurstMemory(t *testing.T) {
	const burst, limit = 200, 400 << 20
	n := startNodeOnFreePort(t, "burst", "", "--data", t.TempDir())
	pid := n.cmd.Process.Pid
	t.Logf("peak resident memory after start: %d MiB", vmHWM(t, pid)>>20)

	statuses := guessBurst(t, n, burst,
		func(i int) string { return fmt.Sprintf("nobody%d@example.com", i) },
		func(i int) string { return fmt.Sprintf("127.0.%d.%d", 2+i/250, 1+i%250) })
	for i, s := range statuses {
		if s != http.StatusUnauthorized {
			t.Errorf("wrong pass %d (own name and address): status %d, want 401", i, s)
		}
	}
	peak := vmHWM(t, pid)
	t.Logf("peak resident memory after %d wrong passes at once, all checked: %d MiB", burst, peak>>20)
	if peak >= limit {
		t.Errorf("peak resident memory %d MiB, want under %d MiB", peak>>20, limit>>20)
	}

	statuses = guessBurst(t, n, burst,
		func(int) string { return "admin" },
		func(int) string { return "127.0.9.9" })
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusUnauthorized] > 5 || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != burst {
		t.Errorf("%d wrong passes at once for one name from one address: %v, want at most 5 × 401 and the rest 429", burst, count)
	}
	peak = vmHWM(t, pid)
	t.Logf("after %d more for one name from one address (%v): peak resident memory %d MiB", burst, count, peak>>20)
	if peak >= limit {
		t.Errorf("peak resident memory %d MiB, want under %d MiB", peak>>20, limit>>20)
	}
}
