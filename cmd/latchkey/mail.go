package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/recovery"
	"github.com/latchkey/latchkey/internal/server"
)

// smtpTLS, when set (by tests), is the TLS configuration Latchkey uses towards the mail
// server, instead of the system's roots.
var smtpTLS *tls.Config

// mailFlags are the SMTP flags `serve` and `mail test` share.
type mailFlags struct {
	smtp, from string
	// onCommandLine reports whether --smtp, with a password, was given on the command line, where
	// every user of the machine can read it.
	onCommandLine bool
}

func (m *mailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.smtp, "smtp", "", "mail server as smtp://USER:PASSWORD@HOST:587 (STARTTLS) or smtps://...:465; better given as LATCHKEY_SMTP, which keeps the password out of the process list")
	fs.StringVar(&m.from, "mail-from", "", "sender address of Latchkey's mail, e.g. latchkey@example.com")
}

// noteCommandLine records whether the command line, before the environment was read, gave
// --smtp with a password.
func (m *mailFlags) noteCommandLine(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "smtp" {
			if s, err := mail.ParseSMTPURL(m.smtp); err == nil && s.HasPassword() {
				m.onCommandLine = true
			}
		}
	})
}

// sender returns the SMTP server the flags name; nil when --smtp is not set. A refused URL or
// sender address is a usage error that never repeats the password.
func (m *mailFlags) sender() (*mail.SMTP, error) {
	if m.smtp == "" {
		if m.from != "" {
			if err := mail.CheckAddress(m.from); err != nil {
				return nil, usageError("--mail-from: %v", err)
			}
		}
		return nil, nil
	}
	s, err := mail.ParseSMTPURL(m.smtp)
	if err != nil {
		return nil, usageError("--smtp (or LATCHKEY_SMTP): %v", err)
	}
	if m.from == "" {
		return nil, usageError("--smtp needs --mail-from, the address Latchkey's mail comes from (LATCHKEY_MAIL_FROM)")
	}
	if err := mail.CheckAddress(m.from); err != nil {
		return nil, usageError("--mail-from: %v", err)
	}
	s.TLSConfig = smtpTLS
	return s, nil
}

// describeSMTP says in plain words how Latchkey talks to s.
func describeSMTP(s *mail.SMTP) string {
	switch {
	case s.Implicit:
		return fmt.Sprintf("%s (TLS from the start)", s)
	case s.Username != "":
		return fmt.Sprintf("%s (STARTTLS required, as the address has a user name)", s)
	}
	return fmt.Sprintf("%s (STARTTLS when the server offers it)", s)
}

func runMail(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		if len(args) > 0 && isHelp(args[0]) {
			return flag.ErrHelp
		}
		return usageError("mail: expected test ADDRESS")
	}
	var m mailFlags
	fs := flag.NewFlagSet("mail test", flag.ContinueOnError)
	m.register(fs)
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("mail test: expected one ADDRESS to send the test mail to")
	}
	if err := flagsFromEnv(fs, "smtp", "mail-from"); err != nil {
		return err
	}
	to := rest[0]
	if err := mail.CheckAddress(to); err != nil {
		return usageError("mail test: %v", err)
	}
	s, err := m.sender()
	if err != nil {
		return err
	}
	if s == nil {
		return usageError("mail test: give the mail server with --smtp or LATCHKEY_SMTP, as for serve")
	}
	fmt.Fprintf(stdout, "Sending a test mail from %s to %s through %s.\n", m.from, to, describeSMTP(s))
	msg := &mail.Message{To: []string{to}, Subject: "Latchkey test mail",
		Text: "This is a test mail from Latchkey, sent with `latchkey mail test` at " + time.Now().UTC().Format(time.RFC1123) +
			".\n\nIf you can read it, Latchkey's mail settings work: mails such as onboarding passes will reach people.\n"}
	if err := s.Send(ctx, m.from, msg); err != nil {
		return fmt.Errorf("the mail server did not take the test mail: %s", strings.TrimPrefix(err.Error(), "send mail: "))
	}
	fmt.Fprintf(stdout, "The mail server took the mail. If it does not arrive within a few minutes, look in the spam folder, and check that the server may send mail from %s.\n", m.from)
	return nil
}

// setUpMail makes the outbox (sending through --smtp, when set, on the service clock) and
// shows its status on the admin home.
func (s *Serve) setUpMail(srv *server.Server) error {
	sender, err := s.mail.sender()
	if err != nil {
		return err
	}
	opts := mail.Options{From: s.mail.from, Now: func() time.Time { return s.Auth.Now() }, Logger: s.Logger,
		Metrics: s.Metrics, Interval: s.mailEvery}
	if sender != nil {
		opts.Sender = sender
		s.Logger.Info("mail is sent through the outbox", "smtp", sender.String(), "from", s.mail.from)
		if s.mail.onCommandLine {
			s.Logger.Warn("the --smtp password is on the command line, where every user of this machine can read it; give the address as LATCHKEY_SMTP instead")
		}
	} else {
		s.Logger.Warn("mail is not set up (--smtp): mails wait in the outbox until it is")
	}
	s.Outbox = mail.NewOutbox(s.Store, opts)
	s.Outbox.Register(directory.MailKindOnboarding, s.Directory.OnboardingComposer(s.PublicURL))
	for kind, c := range recovery.New(s.Directory).Composers(s.PublicURL) { // recovery, passkeyAdded, passkeyRemoved
		s.Outbox.Register(kind, c)
	}
	for kind, c := range s.Composers {
		s.Outbox.Register(kind, c)
	}
	srv.SetMail(s.Outbox.Status)
	return nil
}
