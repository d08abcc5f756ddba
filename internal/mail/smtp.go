package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Default ports of the two schemes.
const (
	submissionPort = 587 // smtp://: STARTTLS
	smtpsPort      = 465 // smtps://: TLS from the first byte
)

// sendTimeout bounds one connection to the mail server.
const sendTimeout = 30 * time.Second

// SMTP sends mail to one SMTP server. smtp:// uses STARTTLS when the server offers it, and
// requires it when the URL has credentials, so that a password never crosses the network in
// clear; smtps:// speaks TLS from the start. It is a Sender.
type SMTP struct {
	Host      string
	Port      int
	Implicit  bool // smtps://
	Username  string
	password  string
	TLSConfig *tls.Config // nil: the system's roots and Host as the server name
}

// ParseSMTPURL reads an SMTP server URL: smtp://[user[:password]@]host[:port] (port 587) or
// smtps://... (port 465); user and password percent-encoded. Its errors never repeat the
// URL, which may hold a password.
func ParseSMTPURL(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("the SMTP address is not a URL such as smtp://user:password@mail.example.com:587")
	}
	s := &SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.Port = submissionPort
	case "smtps":
		s.Port, s.Implicit = smtpsPort, true
	default:
		return nil, fmt.Errorf("the SMTP address must start with smtp:// or smtps://, not %q", u.Scheme+":")
	}
	if s.Host == "" {
		return nil, errors.New("the SMTP address names no host, as in smtp://mail.example.com:587")
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil || s.Port < 1 || s.Port > 65535 {
			return nil, fmt.Errorf("the SMTP port %q is not a port number", p)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("the SMTP address takes no path or query, only smtp://user:password@host:port")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.password, _ = u.User.Password()
	}
	return s, nil
}

// String returns the server's URL without the password, for logs and messages.
func (s *SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: fmt.Sprintf("%s:%d", s.Host, s.Port)}
	if s.Implicit {
		u.Scheme = "smtps"
	}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	return u.String()
}

// HasPassword reports whether the URL carried a password.
func (s *SMTP) HasPassword() bool { return s.password != "" }

// CheckAddress checks that addr is one plain mail address, as --mail-from must be.
func CheckAddress(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return fmt.Errorf("%q is not a mail address such as latchkey@example.com", addr)
	}
	return nil
}

// Send sends msg from the address from, over one connection that ends with the call.
func (s *SMTP) Send(ctx context.Context, from string, msg *Message) error {
	m := gomail.NewMsg()
	if err := m.From(from); err != nil {
		return fmt.Errorf("set mail sender: %w", err)
	}
	if err := m.To(msg.To...); err != nil {
		return fmt.Errorf("set mail recipients: %w", err)
	}
	m.Subject(msg.Subject)
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)

	tlsConfig := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsConfig = s.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = s.Host
		}
	}
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(sendTimeout), gomail.WithTLSConfig(tlsConfig)}
	switch {
	case s.Implicit:
		opts = append(opts, gomail.WithSSL())
	case s.Username != "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Username), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("set up smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return &SendError{Err: scrub(err, s.password)}
	}
	return nil
}

// scrub returns err with the password, should a server or library ever repeat it, replaced.
func scrub(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "*****"))
}
