// Package mailtest is an SMTP server for tests: it runs in the test process on a loopback
// port (github.com/emersion/go-smtp serves the protocol), offers STARTTLS with a self-signed
// certificate that ClientTLS trusts, takes AUTH PLAIN only over TLS, and keeps what arrives.
// Tests use it as they would any mail server, through its URL.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Credentials the server accepts.
const (
	User     = "latchkey"
	Password = "s3cret-smtp-password"
)

// Message is one mail the server received.
type Message struct {
	From     string
	To       []string
	Subject  string // decoded
	Text     string // the decoded body
	Raw      []byte
	TLS      bool   // the mail came over TLS
	AuthUser string // who authenticated, "" when nobody did
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // 127.0.0.1:port
	Host string
	Port int

	srv      *smtp.Server
	implicit bool

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{} // closed and replaced when a message arrives
	failures []*smtp.SMTPError
	attempts int
}

// Options change how the server speaks; the zero value is STARTTLS.
type Options struct {
	// NoTLS offers no STARTTLS (and so no AUTH): a server a password must never be sent to.
	NoTLS bool
	// Implicit speaks TLS from the first byte, as smtps:// servers do.
	Implicit bool
}

// Start starts a server with STARTTLS on a loopback port, closed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith starts a server with opts on a loopback port, closed when the test ends.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	cert, _, err := certificate()
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{Addr: l.Addr().String(), Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port,
		arrived: make(chan struct{}), implicit: opts.Implicit}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	s.srv.Domain = "localhost"
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch {
	case opts.Implicit:
		l = tls.NewListener(l, tlsConfig)
	case !opts.NoTLS:
		s.srv.TLSConfig = tlsConfig
	}
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.ErrorLog = quietLog{}
	go s.srv.Serve(l)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// URL returns the server's URL (smtp://, or smtps:// for Implicit) with the accepted
// credentials.
func (s *Server) URL() string {
	return (&url.URL{Scheme: s.scheme(), User: url.UserPassword(User, Password), Host: s.Addr}).String()
}

// URLWithout returns the server's URL without credentials.
func (s *Server) URLWithout() string { return s.scheme() + "://" + s.Addr }

func (s *Server) scheme() string {
	if s.implicit {
		return "smtps"
	}
	return "smtp"
}

// ClientTLS returns a client TLS configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config { return ClientTLS() }

// ClientTLS returns a client TLS configuration that trusts every server of this process: they
// share one certificate, for 127.0.0.1 and localhost. The server name is left to the client.
func ClientTLS() *tls.Config {
	_, roots, err := certificate()
	if err != nil {
		panic(fmt.Sprintf("mailtest: certificate: %v", err))
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

var (
	certOnce  sync.Once
	certValue tls.Certificate
	certRoots *x509.CertPool
	certErr   error
)

// certificate returns the process's one server certificate and a pool that trusts it.
func certificate() (tls.Certificate, *x509.CertPool, error) {
	certOnce.Do(func() { certValue, certRoots, certErr = selfSigned() })
	return certValue, certRoots, certErr
}

// Fail makes the next len(codes) mails be refused at DATA with those reply codes (4xx:
// try again later; 5xx: refused).
func (s *Server) Fail(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.failures = append(s.failures, &smtp.SMTPError{Code: c, EnhancedCode: smtp.EnhancedCode{c / 100, 0, 0},
			Message: fmt.Sprintf("mailtest refuses this mail (%d)", c)})
	}
}

// Attempts returns how many mails reached DATA, refused ones included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Messages returns the mails received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Wait returns the mails once at least n have arrived, failing the test after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, arrived := append([]Message(nil), s.messages...), s.arrived
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("mailtest: %d mails arrived in %v, want %d", len(got), timeout, n)
		}
	}
}

type session struct {
	s        *Server
	c        *smtp.Conn
	from     string
	to       []string
	authUser string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnsupported
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != User || password != Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.authUser = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error { ss.to = append(ss.to, to); return nil }

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		return f
	}
	m := Message{From: ss.from, To: ss.to, Raw: raw, AuthUser: ss.authUser}
	_, m.TLS = ss.c.TLSConnectionState()
	m.Subject, m.Text, err = decode(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "mailtest cannot read the message: " + err.Error()}
	}
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// decode returns a single-part message's subject and body, decoded.
func decode(raw []byte) (subject, text string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", err
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return "", "", err
	}
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", "", err
	}
	return subject, strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// selfSigned returns a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}

// quietLog drops the server's connection errors (a client that hangs up), which tests provoke.
type quietLog struct{}

func (quietLog) Printf(string, ...any) {}
func (quietLog) Println(...any)        {}
