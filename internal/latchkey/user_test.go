package latchkey

import "testing"

func TestUserValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		user User
		ok   bool
	}{
		{"plain", User{UserPrincipalName: " alice@example.com "}, true},
		{"guest", User{UserPrincipalName: "g@partner.example", UserType: UserTypeGuest}, true},
		{"empty", User{UserPrincipalName: "  "}, false},
		{"space inside", User{UserPrincipalName: "al ice@example.com"}, false},
		{"NUL", User{UserPrincipalName: "a\x00b@example.com"}, false},
		{"newline", User{UserPrincipalName: "a\nb@example.com"}, false},
		{"invalid UTF-8", User{UserPrincipalName: "a\xffb@example.com"}, false},
		{"control in name", User{UserPrincipalName: "a@example.com", DisplayName: "A\x07"}, false},
		{"too long", User{UserPrincipalName: string(make([]byte, 255))}, false},
		{"bad type", User{UserPrincipalName: "a@example.com", UserType: "robot"}, false},
		{"bad role", User{UserPrincipalName: "a@example.com", Roles: []string{"king"}}, false},
	} {
		u := tc.user
		err := u.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && ErrorCode(err) != "invalid_user" {
			t.Errorf("%s: code %q, want invalid_user", tc.name, ErrorCode(err))
		}
	}
	u := User{UserPrincipalName: " alice@example.com ", GivenName: "Alice", Surname: "Liddell"}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if u.UserPrincipalName != "alice@example.com" || u.DisplayName != "Alice Liddell" || u.UserType != UserTypeMember || u.Roles == nil {
		t.Fatalf("defaults not filled: %+v", u)
	}
}
