package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/loadtest"
)

// urlList is a repeatable, comma-separated --url flag.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, ",") }
func (l *urlList) Set(v string) error {
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			*l = append(*l, strings.TrimRight(u, "/"))
		}
	}
	return nil
}

// pidList is a repeatable --server-pid flag.
type pidList []int

func (l *pidList) String() string { return fmt.Sprint(*l) }
func (l *pidList) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("not a process id: %q", v)
	}
	*l = append(*l, n)
	return nil
}

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var (
		urls     urlList
		cfg      loadtest.Config
		asJSON   bool
		baseline bool
		quiet    bool
		pids     pidList
		profile  string
	)
	fs.Var(&urls, "url", "server URL; repeat or separate with commas to spread the load over several nodes; a client whose node is down moves to the next one (default http://localhost:8080)")
	fs.IntVar(&cfg.Users, "users", 0, "users to create, each with a passkey (default: the concurrency)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "clients running sign-ins at once")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to measure")
	fs.StringVar(&cfg.Token, "token", os.Getenv("LATCHKEY_TOKEN"), "API token with "+loadtest.TokenScopes+" that creates the users (or $LATCHKEY_TOKEN)")
	fs.BoolVar(&cfg.Synced, "synced", false, "use synced passkeys (BE=1) instead of device-bound ones")
	fs.BoolVar(&baseline, "baseline", false, "also run the same load against a bare in-process go-webauthn server and print the ratio")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.BoolVar(&quiet, "quiet", false, "no progress line")
	fs.StringVar(&profile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.Var(&pids, "server-pid", "PID of a local server process whose CPU time to measure (repeatable; Linux)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("loadtest takes no arguments, got %q", rest)
	}
	if len(urls) == 0 {
		urls = urlList{"http://localhost:8080"}
	}
	if cfg.Concurrency < 1 || cfg.Duration < time.Second {
		return usageError("loadtest: --concurrency must be at least 1 and --duration at least 1s")
	}
	cfg.URLs = urls
	cfg.ServerPIDs = pids
	cfg.Users = max(cfg.Users, cfg.Concurrency)
	if !quiet {
		cfg.Progress = stderr
	}
	if !quiet {
		fmt.Fprintf(stderr, "Creating %d users with a passkey each through %s ...\n", cfg.Users, cfg.URLs[0])
	}
	users, err := loadtest.Setup(ctx, cfg)
	if err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	res := loadtest.Load(ctx, cfg, users, "latchkey")
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if baseline {
		b, err := loadtest.RunBaseline(ctx, cfg)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		res.BaselineCeremoniesPerSecond, res.BaselineP99Ms = b.CeremoniesPerSecond, b.P99Ms
		if b.CeremoniesPerSecond > 0 {
			res.Ratio = float64(int(res.CeremoniesPerSecond/b.CeremoniesPerSecond*1000+0.5)) / 1000
		}
	}
	if asJSON {
		return printJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "Passkey sign-in ceremonies (options + verify, usernameless) against %s\n", strings.Join(res.Target, ", "))
	fmt.Fprintf(stdout, "  %d clients, %d users, %.1f s\n", res.Concurrency, res.Users, res.DurationSeconds)
	fmt.Fprintf(stdout, "  ceremonies/s: %.1f  (%d in all)\n", res.CeremoniesPerSecond, res.Ceremonies)
	fmt.Fprintf(stdout, "  latency ms:   p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", res.P50Ms, res.P95Ms, res.P99Ms, res.MaxMs)
	if res.ServerCPUMsPerCeremony > 0 {
		fmt.Fprintf(stdout, "  server CPU:   %.3f ms per ceremony\n", res.ServerCPUMsPerCeremony)
	}
	fmt.Fprintf(stdout, "  errors:       %d\n", res.Errors)
	codes := make([]string, 0, len(res.ErrorsByCode))
	for c := range res.ErrorsByCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(stdout, "    %-30s %d\n", c, res.ErrorsByCode[c])
	}
	if len(res.Failovers) > 0 {
		nodes := make([]string, 0, len(res.Failovers))
		for n := range res.Failovers {
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		fmt.Fprintf(stdout, "  failovers (clients that left a node that was down):\n")
		for _, n := range nodes {
			fmt.Fprintf(stdout, "    %-30s %d\n", n, res.Failovers[n])
		}
	}
	if baseline {
		fmt.Fprintf(stdout, "  baseline (bare go-webauthn, in-process): %.1f ceremonies/s, p99 %.2f ms\n", res.BaselineCeremoniesPerSecond, res.BaselineP99Ms)
		fmt.Fprintf(stdout, "  ratio: %.3f of the baseline\n", res.Ratio)
	}
	return nil
}
