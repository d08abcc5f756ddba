package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/latchkey/latchkey/internal/audit"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/provisioning"
	"github.com/latchkey/latchkey/internal/server"
	"github.com/latchkey/latchkey/internal/signin"
)

// Serve is the `latchkey serve` command: ParseFlags, then Run starts listening and returns,
// Close stops. Tests drive it the same way with --listen 127.0.0.1:0.
type Serve struct {
	store     storeFlags
	Listen    string
	PublicURL string
	// PprofListen, when set, serves net/http/pprof there for profiling.
	PprofListen string
	// MetricsListen, when set, serves GET /metrics there and not on Listen.
	MetricsListen string
	// mail is --smtp and --mail-from.
	mail   mailFlags
	Stdout io.Writer
	Logger *slog.Logger

	Store latchkey.Store
	Auth  *signin.Service
	// Policies changes policies (lint on save) over Auth.
	Policies *policyadmin.Service
	// Directory manages users and groups over Auth.
	Directory *directory.Service
	// Metrics is what GET /metrics serves; the store and the service report to it.
	Metrics  *metrics.Metrics
	listener net.Listener
	// recorder writes the provisioning log after each SCIM answer; Close waits for it.
	recorder *provisioning.Recorder
	http     *http.Server
	metrics  *http.Server // on MetricsListen
	metricsL net.Listener
	stop     context.CancelFunc
	done     chan struct{}
	// sealStop ends the audit sealer, which seals what is pending and closes sealDone.
	sealStop context.CancelFunc
	sealDone chan struct{}
	// sealEvery is how often the audit sealer seals; audit.Interval when zero (tests set it).
	sealEvery time.Duration
	// Outbox sends the stored mail (internal/mail); features Register their composers on it.
	// Without --smtp it sends nothing and mail waits.
	Outbox *mail.Outbox
	// Clock, when set before Run, is the service clock (signin.Service.Now), which the outbox
	// also reads: tests move it without racing the goroutines that read it.
	Clock func() time.Time
	// Composers, set before Run, are registered on Outbox before its worker starts.
	Composers map[string]mail.Composer
	// mailEvery is how often the outbox worker looks for due mail; mail.DefaultInterval when
	// zero (tests set it).
	mailEvery time.Duration
	mailStop  context.CancelFunc
	mailDone  chan struct{}
}

// ParseFlags reads the serve flags; every flag not on the command line takes its environment
// variable (--public-url: LATCHKEY_PUBLIC_URL), when set.
func (s *Serve) ParseFlags(args []string) error {
	fs := s.flags()
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("serve takes no arguments, got %q", rest)
	}
	s.mail.noteCommandLine(fs)
	return flagsFromEnv(fs)
}

// flags returns the serve flag set, bound to s.
func (s *Serve) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	s.store.register(fs)
	fs.StringVar(&s.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&s.PublicURL, "public-url", "", "URL people use to reach Latchkey; its host is the WebAuthn RP ID (default http://localhost:PORT)")
	fs.StringVar(&s.PprofListen, "pprof", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; keep it private")
	fs.StringVar(&s.MetricsListen, "metrics-listen", "", "serve GET /metrics on this address, e.g. 127.0.0.1:9464, instead of on --listen")
	s.mail.register(fs)
	return fs
}

// Run opens the store, bootstraps a fresh one, and starts serving in the background.
func (s *Serve) Run(ctx context.Context) (err error) {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Stdout == nil {
		s.Stdout = io.Discard
	}
	// A refused public URL or mail server creates nothing: checked before the data folder and
	// store.
	if s.PublicURL != "" {
		if err := checkPublicURL(s.PublicURL); err != nil {
			return err
		}
	}
	if _, err := s.mail.sender(); err != nil {
		return err
	}
	if s.Store, err = s.store.open(ctx); err != nil {
		return err
	}
	s.Metrics = metrics.New()
	s.Store = s.Metrics.Store(s.Store, s.store.backend())
	defer func() {
		if err != nil {
			s.Store.Close()
		}
	}()
	if s.listener, err = net.Listen("tcp", s.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if s.PublicURL == "" {
		s.PublicURL = fmt.Sprintf("http://localhost:%d", s.listener.Addr().(*net.TCPAddr).Port)
	}
	u, err := url.Parse(s.PublicURL)
	if err != nil {
		s.listener.Close()
		return checkPublicURL(s.PublicURL)
	}
	if u.Scheme == "http" && u.Hostname() != "localhost" {
		s.Logger.Warn("browsers allow passkeys only on https:// or http://localhost; set --public-url to an https address", "publicUrl", s.PublicURL)
	}
	wa, err := passkey.NewWebAuthn(s.PublicURL, "Latchkey")
	if err != nil {
		s.listener.Close()
		return err
	}
	s.Auth = signin.New(s.Store, wa, s.Logger)
	if s.Clock != nil {
		s.Auth.Now = s.Clock
	}
	s.Auth.Metrics = s.Metrics
	s.Policies = policyadmin.New(s.Auth)
	s.Directory = directory.New(s.Auth)
	srv, err := server.New(s.Auth, s.Logger)
	if err != nil {
		s.listener.Close()
		return err
	}
	provider, err := oidc.New(s.Store, s.PublicURL, s.Logger)
	if err != nil {
		s.listener.Close()
		return fmt.Errorf("openid connect provider: %w", err)
	}
	provider.Strengths = func(ctx context.Context) (map[string]policy.Strength, error) {
		cfg, err := s.Auth.ConditionalAccess(ctx)
		if err != nil {
			return nil, err
		}
		return cfg.StrengthMap(), nil
	}
	srv.MountOIDC(provider, oidc.Paths, oidc.CrossOriginPaths)
	srv.MountSCIM(srv.SCIM())
	s.recorder = srv.Recorder()
	if err := s.setUpMail(srv); err != nil {
		s.listener.Close()
		return err
	}
	if s.MetricsListen == "" {
		srv.MountMetrics(s.Metrics.Handler())
	}
	pass, err := s.Directory.Bootstrap(ctx)
	if err != nil {
		s.listener.Close()
		return fmt.Errorf("bootstrap: %w", err)
	}
	if pass != "" {
		// Printed, never logged: the pass is a secret and shown only this once.
		fmt.Fprintf(s.Stdout, "Temporary Access Pass: %s (user %q, one-time, valid 60 minutes). Sign in at %s/signin/tap with user name %q and this pass, then add your passkey.\n",
			pass, directory.BootstrapUPN, s.PublicURL, directory.BootstrapUPN)
	}
	if err := s.listenMetrics(); err != nil {
		s.listener.Close()
		return err
	}
	s.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)}
	bg, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go s.janitor(bg)
	sealCtx, sealStop := context.WithCancel(context.Background())
	s.sealStop, s.sealDone = sealStop, make(chan struct{})
	go func() {
		defer close(s.sealDone)
		(&audit.Sealer{Store: s.Store, Log: s.Logger, Interval: s.sealEvery}).Run(sealCtx)
	}()
	mailCtx, mailStop := context.WithCancel(context.Background())
	s.mailStop, s.mailDone = mailStop, make(chan struct{})
	go func() {
		defer close(s.mailDone)
		s.Outbox.Run(mailCtx)
	}()
	go func() {
		defer close(s.done)
		if err := s.http.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve", "err", err)
		}
	}()
	if s.PprofListen != "" {
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			s.Logger.Info("profiler listening", "addr", s.PprofListen)
			if err := http.ListenAndServe(s.PprofListen, mux); err != nil {
				s.Logger.Error("profiler", "err", err)
			}
		}()
	}
	s.Logger.Info("latchkey listening", "addr", s.listener.Addr().String(), "publicUrl", s.PublicURL)
	return nil
}

// Addr returns the address the server listens on.
func (s *Serve) Addr() string { return s.listener.Addr().String() }

// janitor removes expired challenges, sessions, authorization requests and refresh tokens once
// a minute.
func (s *Serve) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			if _, err := s.Store.DeleteExpiredChallenges(ctx, now); err != nil && ctx.Err() == nil {
				s.Logger.Warn("delete expired challenges", "err", err)
			}
			if _, err := s.Store.DeleteExpiredSessions(ctx, now); err != nil && ctx.Err() == nil {
				s.Logger.Warn("delete expired sessions", "err", err)
			}
			if _, err := s.Store.DeleteExpiredOIDC(ctx, now); err != nil && ctx.Err() == nil {
				s.Logger.Warn("delete expired oidc", "err", err)
			}
		}
	}
}

// listenMetrics serves GET /metrics on MetricsListen, when set.
func (s *Serve) listenMetrics() error {
	if s.MetricsListen == "" {
		return nil
	}
	l, err := net.Listen("tcp", s.MetricsListen)
	if err != nil {
		return fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	s.metricsL = l
	s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := s.metrics.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve metrics", "err", err)
		}
	}()
	s.Logger.Info("metrics listening", "addr", l.Addr().String())
	return nil
}

// MetricsAddr returns the address GET /metrics is served on: MetricsListen's, or Addr.
func (s *Serve) MetricsAddr() string {
	if s.metricsL != nil {
		return s.metricsL.Addr().String()
	}
	return s.Addr()
}

// Close stops serving, waiting up to 10 seconds for requests in flight, and closes the store.
func (s *Serve) Close() error {
	if s.http == nil {
		return nil
	}
	if s.metrics != nil {
		s.metrics.Close()
	}
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	<-s.done
	s.mailStop() // the mail being sent is finished and recorded
	<-s.mailDone
	s.recorder.Wait() // the provisioning log's last writes, before the store closes
	s.sealStop()      // after the last request: the sealer seals what they wrote, then stops
	<-s.sealDone
	return errors.Join(err, s.Store.Close())
}

// tuneGC trades memory for CPU on the sign-in path: a sign-in allocates a lot of short-lived
// garbage, and collecting at 4x the live heap instead of 2x saved about 4% of its CPU (see
// docs/performance.md). A soft limit of 1 GiB keeps the heap bounded. GOGC and GOMEMLIMIT, when
// set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	tuneGC()
	s := &Serve{Stdout: stdout, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if err := s.ParseFlags(args); err != nil {
		return err
	}
	if err := s.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	s.Logger.Info("shutting down")
	return s.Close()
}
