package latchkey

import (
	"strings"
	"testing"
)

func TestUserValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		user User
		ok   bool
	}{
		{"plain", User{UserPrincipalName: "alice@example.com"}, true},
		{"plain name", User{UserPrincipalName: "admin"}, true},
		{"padded", User{UserPrincipalName: " alice@example.com "}, false},
		{"CRLF", User{UserPrincipalName: "a\r\nb@example.com"}, false},
		{"zero-width space", User{UserPrincipalName: "al\u200bice@example.com"}, false},
		{"right-to-left override", User{UserPrincipalName: "alice\u202e@example.com"}, false},
		{"two @", User{UserPrincipalName: "a@b@example.com"}, false},
		{"no domain", User{UserPrincipalName: "alice@"}, false},
		{"113 characters", User{UserPrincipalName: strings.Repeat("a", 101) + "@example.com"}, true},
		{"114 characters", User{UserPrincipalName: strings.Repeat("a", 102) + "@example.com"}, false},
		{"guest", User{UserPrincipalName: "g@partner.example", UserType: UserTypeGuest}, true},
		{"empty", User{UserPrincipalName: "  "}, false},
		{"space inside", User{UserPrincipalName: "al ice@example.com"}, false},
		{"NUL", User{UserPrincipalName: "a\x00b@example.com"}, false},
		{"newline", User{UserPrincipalName: "a\nb@example.com"}, false},
		{"invalid UTF-8", User{UserPrincipalName: "a\xffb@example.com"}, false},
		{"control in name", User{UserPrincipalName: "a@example.com", DisplayName: "A\x07"}, false},
		{"bidi in surname", User{UserPrincipalName: "a@example.com", Surname: "A\u2066"}, false},
		{"too long", User{UserPrincipalName: string(make([]byte, 255))}, false},
		{"bad type", User{UserPrincipalName: "a@example.com", UserType: "robot"}, false},
		{"bad role", User{UserPrincipalName: "a@example.com", Roles: []string{"king"}}, false},
	} {
		u := tc.user
		err := u.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && ErrorCode(err) != "invalid_user" && ErrorCode(err) != "invalid_name" {
			t.Errorf("%s: code %q, want invalid_user or invalid_name", tc.name, ErrorCode(err))
		}
	}
	u := User{UserPrincipalName: "Alice@Example.com", GivenName: "Alice", Surname: "Liddell"}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if u.UserPrincipalName != "Alice@Example.com" || u.DisplayName != "Alice Liddell" || u.UserType != UserTypeMember || u.Roles == nil {
		t.Fatalf("defaults not filled: %+v", u)
	}
}
