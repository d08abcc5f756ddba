// Package passwordrules says which passwords people may choose (NIST SP 800-63B-4): long enough,
// not too long, not on the blocklist of common and breached passwords, and without the person's
// names or the service's name in them; and how a password is normalised before it is hashed.
package passwordrules

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// MaxLength is the longest password accepted (NIST SP 800-63B-4 asks for at least 64).
const MaxLength = 256

// commonPasswordsText is the blocklist of common and breached passwords: the 17,950 entries of
// at least 8 characters (lowercased, deduplicated) of src/passwords.json in the npm package
// @zxcvbn-ts/language-common 4.1.3 (MIT licence, Copyright (c) 2012-2016 Dan Wheeler and
// Dropbox, Inc., Copyright (c) 2021 @zxcvbn-ts): zxcvbn's list of the most frequent passwords
// in leaked password corpora, ordered by frequency. Shorter entries are left out because every
// allowed minimum length refuses them anyway.
//
//go:embed commonpasswords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 18000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			m[line] = true
		}
	}
	return m
})

// Normalize returns what is hashed and checked: pw NFKC-normalized, so that the same password
// typed on another keyboard or platform (composed or decomposed accents) still matches, as
// NIST SP 800-63B-4 recommends.
func Normalize(pw string) string { return norm.NFKC.String(pw) }

// Check reports, as a refusal, whether pw may become u's password under a minimum
// length of minLength characters: long enough, not too long, not on the blocklist of common
// passwords, and without the person's user name, names or the service's name in it.
func Check(pw string, minLength int, u *latchkey.User) error {
	if !utf8.ValidString(pw) || strings.IndexFunc(pw, unicode.IsControl) >= 0 {
		return latchkey.Errorf(latchkey.EINVALID, "password_invalid_characters",
			"Your password contains characters that can't be used. Use letters, digits, spaces and punctuation.",
			"the password is not valid UTF-8 or contains control characters")
	}
	pw = Normalize(pw)
	n := utf8.RuneCountInString(pw)
	if n < minLength {
		return latchkey.Errorf(latchkey.EINVALID, "password_too_short",
			fmt.Sprintf("Choose a password of at least %d characters. A few unrelated words make a long password that is easy to remember.", minLength),
			"the password has %d characters; the policy's minimum length is %d", n, minLength)
	}
	if n > MaxLength {
		return latchkey.Errorf(latchkey.EINVALID, "password_too_long",
			fmt.Sprintf("Choose a password of at most %d characters.", MaxLength),
			"the password has %d characters; at most %d are accepted", n, MaxLength)
	}
	lower := strings.ToLower(pw)
	if commonPasswords()[lower] || commonPasswords()[strings.Join(strings.Fields(lower), "")] || repetitive(lower) {
		return latchkey.Errorf(latchkey.EINVALID, "password_common",
			"This password is too common: attackers try it first. Choose another one, for example a few unrelated words.",
			"the password is on the blocklist of common and breached passwords, or repeats one character")
	}
	for _, part := range nameParts(u) {
		if strings.Contains(lower, part) {
			return latchkey.Errorf(latchkey.EINVALID, "password_contains_name",
				"Don't put your name, your user name or \"Latchkey\" in your password: they are the first things attackers try. Choose another one.",
				"the password contains %q (user name, a name of the user, or the service name)", part)
		}
	}
	return nil
}

// repetitive reports whether s is one character repeated.
func repetitive(s string) bool {
	first, size := utf8.DecodeRuneInString(s)
	return size > 0 && strings.Count(s, string(first)) == utf8.RuneCountInString(s)
}

// nameParts returns the lowercase words a password may not contain: the local part of u's UPN,
// u's names (words of at least 3 characters) and "latchkey".
func nameParts(u *latchkey.User) []string {
	parts := []string{"latchkey"}
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if utf8.RuneCountInString(s) >= 3 {
			parts = append(parts, s)
		}
	}
	if u == nil {
		return parts
	}
	local, _, _ := strings.Cut(u.UserPrincipalName, "@")
	add(local)
	for _, name := range []string{u.GivenName, u.Surname, u.DisplayName} {
		for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			add(w)
		}
	}
	return parts
}
