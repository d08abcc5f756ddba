package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what load to run.
type Config struct {
	// URLs are the nodes to spread the load over; users are created through the first.
	URLs []string
	// Users is how many users (each with one passkey) to create; at least Concurrency.
	Users int
	// Concurrency is how many clients run ceremonies at once.
	Concurrency int
	// Duration is how long the measured load runs.
	Duration time.Duration
	// Token is the API token that creates the users and issues their passes: it needs
	// User.ReadWrite.All and UserAuthenticationMethod.ReadWrite.All.
	Token string
	// Synced makes the passkeys synced (BE=1, BS=1) instead of device-bound.
	Synced bool
	// Progress receives a progress line every second (nil for none).
	Progress io.Writer
	// ServerPIDs, when set, are the local server processes whose CPU time is measured during
	// the load (Linux /proc).
	ServerPIDs []int
}

// Result is what a run measured.
type Result struct {
	Target              []string `json:"targets"`
	Users               int      `json:"users"`
	Concurrency         int      `json:"concurrency"`
	DurationSeconds     float64  `json:"durationSeconds"`
	Ceremonies          int      `json:"ceremonies"`
	CeremoniesPerSecond float64  `json:"ceremoniesPerSecond"`
	P50Ms               float64  `json:"p50Ms"`
	P95Ms               float64  `json:"p95Ms"`
	P99Ms               float64  `json:"p99Ms"`
	MaxMs               float64  `json:"maxMs"`
	// ServerCPUMsPerCeremony is the servers' CPU time (user+system) during the load divided by
	// the ceremonies, when ServerPIDs were given.
	ServerCPUMsPerCeremony float64 `json:"serverCpuMsPerCeremony,omitempty"`
	// Errors counts failed sign-ins: one per ceremony that failed, however it is retried.
	Errors       int            `json:"errors"`
	ErrorsByCode map[string]int `json:"errorsByCode"`
	// Failovers counts, per node, how often a client left it because it was down (connection
	// refused or broken, or 502/503/504) and moved on to the next node.
	Failovers map[string]int `json:"failovers,omitempty"`
	// Set with a baseline run.
	BaselineCeremoniesPerSecond float64 `json:"baselineCeremoniesPerSecond,omitempty"`
	BaselineP99Ms               float64 `json:"baselineP99Ms,omitempty"`
	Ratio                       float64 `json:"ratio,omitempty"`
}

// TokenScopes are the scopes the load test's API token needs, as `latchkey token create
// --scopes` takes them.
const TokenScopes = "User.ReadWrite.All,UserAuthenticationMethod.ReadWrite.All"

// user is one load-test identity: a passkey and the node its client talks to.
type user struct {
	client *Client
	auth   *Authenticator
}

// Setup creates cfg.Users users through the API with the token, and registers a
// passkey for each (TAP sign-in, then registration), spreading users over the nodes.
func Setup(ctx context.Context, cfg Config) ([]*user, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("no target URL")
	}
	if cfg.Token == "" {
		return nil, errors.New("an API token is needed to create the load-test users: run `latchkey token create loadtest --scopes " + TokenScopes + "` on the server and pass it with --token")
	}
	transport := NewTransport(cfg.Concurrency)
	admin := NewClient(cfg.URLs[0], transport)
	admin.Token = cfg.Token
	run := randomID()[:8]
	users := make([]*user, cfg.Users)
	errs := make(chan error, cfg.Users)
	sem := make(chan struct{}, max(4, cfg.Concurrency/4))
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := setupUser(ctx, admin, cfg, transport, fmt.Sprintf("loadtest-%s-%d@loadtest.invalid", run, i), cfg.URLs[i%len(cfg.URLs)])
			if err != nil {
				errs <- err
				return
			}
			users[i] = u
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("create load-test users: %w", err)
	}
	return users, nil
}

func setupUser(ctx context.Context, admin *Client, cfg Config, transport *http.Transport, upn, node string) (*user, error) {
	id, err := admin.CreateUser(ctx, upn)
	if err != nil {
		return nil, err
	}
	pass, err := admin.IssueTAP(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	c := NewClient(node, transport)
	if err := c.SignInTAP(ctx, upn, pass); err != nil {
		return nil, err
	}
	a, err := NewAuthenticator(cfg.URLs[0], cfg.Synced)
	if err != nil {
		return nil, err
	}
	if _, err := c.Register(ctx, a); err != nil {
		return nil, err
	}
	return &user{client: c, auth: a}, nil
}

// Back-off after a ceremony failed because its node was down: doubled on each such failure in a
// row, up to maxBackoff, and reset by a sign-in that works.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Load runs usernameless passkey sign-in ceremonies (options + verify) with cfg.Concurrency
// clients for cfg.Duration; each client has users of its own (len(users) >= cfg.Concurrency).
// When a ceremony fails because its node is down, the user's client moves to the next node of
// cfg.URLs and the worker backs off (exponentially, capped) before its next ceremony, so that a
// dead node costs one failed sign-in per client rather than one per retry.
func Load(ctx context.Context, cfg Config, users []*user, label string) Result {
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, 1<<16)
		byCode    = map[string]int{}
		failovers = map[string]int{}
		done      atomic.Int64
		failed    atomic.Int64
	)
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	cpuBefore, cpuErr := cpuSeconds(cfg.ServerPIDs)
	start := time.Now()
	stopProgress := progress(cfg.Progress, label, start, cfg.Duration, &done, &failed)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localErr, localFailover := map[string]int{}, map[string]int{}
			var backoff time.Duration
			// Worker w owns users w, w+C, w+2C, ...: an authenticator's sign count must reach
			// the server in order, so no two workers share one.
			var mine []*user
			for i := w; i < len(users); i += cfg.Concurrency {
				mine = append(mine, users[i])
			}
			for i := 0; ctx.Err() == nil; i++ {
				u := mine[i%len(mine)]
				t0 := time.Now()
				err := u.client.SignIn(ctx, u.auth, "")
				if ctx.Err() != nil {
					break // cut off by the end of the run, not a failure
				}
				if err != nil {
					failed.Add(1)
					localErr[errorCode(err)]++
					if nodeDown(err) {
						if from, to := u.client.BaseURL, nextNode(cfg.URLs, u.client.BaseURL); to != from {
							u.client.BaseURL = to
							localFailover[from]++
						}
						backoff = min(max(2*backoff, minBackoff), maxBackoff)
						select {
						case <-time.After(backoff):
						case <-ctx.Done():
						}
					}
					continue
				}
				backoff = 0
				local = append(local, time.Since(t0))
				done.Add(1)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			for k, v := range localErr {
				byCode[k] += v
			}
			for k, v := range localFailover {
				failovers[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuAfter, cpuErr2 := cpuSeconds(cfg.ServerPIDs)
	stopProgress()
	r := summarize(cfg, latencies, byCode, elapsed)
	if len(failovers) > 0 {
		r.Failovers = failovers
	}
	if len(cfg.ServerPIDs) > 0 && cpuErr == nil && cpuErr2 == nil && r.Ceremonies > 0 {
		r.ServerCPUMsPerCeremony = round((cpuAfter - cpuBefore) * 1000 / float64(r.Ceremonies))
	}
	return r
}

func summarize(cfg Config, latencies []time.Duration, byCode map[string]int, elapsed time.Duration) Result {
	slices.Sort(latencies)
	r := Result{Target: cfg.URLs, Users: cfg.Users, Concurrency: cfg.Concurrency, DurationSeconds: round(elapsed.Seconds()),
		Ceremonies: len(latencies), ErrorsByCode: byCode}
	for _, n := range byCode {
		r.Errors += n
	}
	r.CeremoniesPerSecond = round(float64(len(latencies)) / elapsed.Seconds())
	r.P50Ms, r.P95Ms, r.P99Ms = percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99)
	if len(latencies) > 0 {
		r.MaxMs = ms(latencies[len(latencies)-1])
	}
	return r
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return ms(sorted[max(0, min(i, len(sorted)-1))])
}

func ms(d time.Duration) float64 { return round(float64(d.Microseconds()) / 1000) }

func round(f float64) float64 { return math.Round(f*100) / 100 }

// nodeDown reports whether err says the node itself is out of service, rather than refusing
// the sign-in: no connection, a connection broken mid-request, or a 502, 503 or 504.
func nodeDown(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusBadGateway || ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusGatewayTimeout
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// nextNode returns the node after current in urls (wrapping around); current itself when it is
// the only one.
func nextNode(urls []string, current string) string {
	for i, u := range urls {
		if u == current {
			return urls[(i+1)%len(urls)]
		}
	}
	if len(urls) > 0 {
		return urls[0]
	}
	return current
}

func errorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "transport: " + ue.Err.Error()
	}
	return err.Error()
}

// progress prints a line a second to w until the returned function is called.
func progress(w io.Writer, label string, start time.Time, total time.Duration, done, failed *atomic.Int64) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprintln(w)
				return
			case <-t.C:
				el := time.Since(start)
				fmt.Fprintf(w, "\r%s: %3.0fs/%.0fs  %d sign-ins  %.0f/s  %d errors ", label, el.Seconds(), total.Seconds(),
					done.Load(), float64(done.Load())/el.Seconds(), failed.Load())
			}
		}
	}()
	return func() { close(stop); <-finished }
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
