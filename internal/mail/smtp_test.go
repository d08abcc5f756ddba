package mail_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/mailtest"
)

func TestParseSMTPURL(t *testing.T) {
	for raw, want := range map[string]string{
		"smtp://mail.example.com":                  "smtp://mail.example.com:587",
		"smtp://u%40x:p%3Aw@mail.example.com:2525": "smtp://u%40x@mail.example.com:2525",
		"smtps://user:secret@mail.example.com":     "smtps://user@mail.example.com:465",
		"smtp://user:secret@mail.example.com:587/": "smtp://user@mail.example.com:587",
	} {
		s, err := mail.ParseSMTPURL(raw)
		if err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", raw, err)
			continue
		}
		if s.String() != want {
			t.Errorf("ParseSMTPURL(%q).String() = %q, want %q (no password)", raw, s.String(), want)
		}
	}
	for _, raw := range []string{"http://user:topsecret@mail.example.com", "smtp://user:topsecret@:587",
		"smtp://user:topsecret@mail.example.com:99999", "smtp://user:topsecret@mail.example.com/x",
		"smtp://user:topsecret@mail.example.com?tls=no", "smtp://user:topsecret@[::1", "mail.example.com"} {
		_, err := mail.ParseSMTPURL(raw)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) accepted it", raw)
		} else if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("ParseSMTPURL(%q) error repeats the password: %v", raw, err)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	if err := mail.CheckAddress("latchkey@example.com"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "latchkey", "Latchkey <latchkey@example.com>", "a@b@c"} {
		if mail.CheckAddress(bad) == nil {
			t.Errorf("CheckAddress(%q) accepted it", bad)
		}
	}
}

// TestCredentialsRequireTLS: with a user and password, a server that offers no STARTTLS gets
// no mail (and so never the password); without credentials the mail goes out in plain text.
func TestCredentialsRequireTLS(t *testing.T) {
	srv := mailtest.StartWith(t, mailtest.Options{NoTLS: true})
	msg := &mail.Message{To: []string{"a@example.com"}, Subject: "Hello", Text: "Hello there."}
	s, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), "latchkey@example.com", msg)
	if err == nil {
		t.Fatal("sent with credentials to a server without STARTTLS")
	}
	if strings.Contains(err.Error(), mailtest.Password) {
		t.Errorf("the error repeats the password: %v", err)
	}
	if n := srv.Attempts(); n != 0 {
		t.Errorf("%d mails reached the server", n)
	}
	plain, err := mail.ParseSMTPURL(srv.URLWithout())
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Send(t.Context(), "latchkey@example.com", msg); err != nil {
		t.Fatalf("without credentials: %v", err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].TLS {
		t.Errorf("without credentials: %d mails (TLS %v), want one in plain text", len(m), len(m) > 0 && m[0].TLS)
	}
}

// TestImplicitTLS: smtps:// speaks TLS from the first byte and authenticates.
func TestImplicitTLS(t *testing.T) {
	srv := mailtest.StartWith(t, mailtest.Options{Implicit: true})
	s, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s.TLSConfig = srv.ClientTLS()
	if err := s.Send(t.Context(), "latchkey@example.com", &mail.Message{To: []string{"a@example.com"}, Subject: "Grüße", Text: "Hallo, schön."}); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()
	if len(m) != 1 || !m[0].TLS || m[0].AuthUser != mailtest.User || m[0].Subject != "Grüße" || !strings.Contains(m[0].Text, "Hallo, schön.") {
		t.Errorf("over smtps: %+v", m)
	}
}

// TestUntrustedCertificateRefused: a server whose certificate is not trusted gets no mail.
func TestUntrustedCertificateRefused(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), "latchkey@example.com", &mail.Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}); err == nil {
		t.Error("sent to a server whose certificate nobody trusts")
	}
	if n := srv.Attempts(); n != 0 {
		t.Errorf("%d mails reached the server", n)
	}
}
