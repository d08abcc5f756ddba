package passwordrules

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// goodPassword meets every rule at a minimum length of 15.
const goodPassword = "tangerine velvet orbit 42"

// wantCode fails unless err is a refusal with code, a message and a detail.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *latchkey.Error
	if le, ok := err.(*latchkey.Error); ok {
		e = le
	}
	if e == nil || e.Message == "" || e.Detail == "" {
		t.Fatalf("refusal %v lacks a message or detail", err)
	}
}

func TestCheck(t *testing.T) {
	u := &latchkey.User{UserPrincipalName: "alice.smith@example.com", GivenName: "Roberta", Surname: "Nguyen", DisplayName: "Roberta Nguyen"}
	for _, tc := range []struct {
		name, pw string
		min      int
		code     string
	}{
		{"long and unusual", goodPassword, 15, ""},
		{"exactly the minimum", "abcdefgh-xyzuvw", 15, ""},
		{"one short of the minimum", "abcdefg-xyzuvw", 15, "password_too_short"},
		{"counts characters, not bytes", "ééééééé-ùùùùùùù", 15, ""},
		{"too long", strings.Repeat("ab-", 90), 15, "password_too_long"},
		{"common", "iloveyou", 8, "password_common"},
		{"common, any case", "PassWord123", 8, "password_common"},
		{"common with spaces", "1qaz 2wsx 3edc 4rfv", 15, "password_common"},
		{"one character repeated", strings.Repeat("z", 20), 15, "password_common"},
		{"user name", "my alice.smith password", 15, "password_contains_name"},
		{"given name any case", "ROBERTA's long password", 15, "password_contains_name"},
		{"surname", "nguyen family holiday", 15, "password_contains_name"},
		{"service name", "my LatchKey sign-in words", 15, "password_contains_name"},
		{"control character", "tangerine\x00velvet orbit", 15, "password_invalid_characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.pw, tc.min, u)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantCode(t, err, tc.code)
			if !latchkey.IsKind(err, latchkey.EINVALID) {
				t.Errorf("kind %s, want invalid", latchkey.ErrorKind(err))
			}
		})
	}
	if err := Check("abcdefg-xyzuvw", 15, u); !strings.Contains(err.(*latchkey.Error).Message, "at least 15 characters") {
		t.Errorf("too-short message %q does not say the minimum", err.(*latchkey.Error).Message)
	}
	if n := len(commonPasswords()); n < 17000 {
		t.Errorf("blocklist has %d entries, want the embedded ~18,000", n)
	}
}
