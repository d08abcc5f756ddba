package latchkey

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// One validation of what people name things and of the ids callers choose, used by every
// service that creates or renames something, so that the API, the pages and the command line
// accept and refuse the same input. Validation refuses; it never rewrites: what is accepted is
// stored exactly as given, case kept.

// Limits, as Microsoft Graph has them.
const (
	// MaxNameLength is the most characters a display name, a name or a nickname may have.
	MaxNameLength = 256
	// MaxUPNLength is the most characters a user principal name may have.
	MaxUPNLength = 113
	// MaxDescriptionLength is the most characters a description may have.
	MaxDescriptionLength = 1024
	// MaxIDLength is the most characters an id chosen by the caller may have.
	MaxIDLength = 128
)

// badRune says why r may not appear in a name or identifier, or "" when it may: control
// characters (C0, DEL, C1), invisible formatting characters (Unicode category Cf: zero-width
// spaces and joiners, the byte order mark, soft hyphens, and the bidirectional marks, embeddings,
// overrides and isolates that make text read in another order than it is stored), line and
// paragraph separators, and U+FFFD, which is what broken text turns into.
func badRune(r rune) string {
	switch {
	case unicode.IsControl(r):
		return "a control character such as a line break, tab or NUL"
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return "a character that changes the direction of the text"
	case unicode.Is(unicode.Cf, r):
		return "an invisible character such as a zero-width space"
	case unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return "a line break"
	case r == utf8.RuneError:
		return "broken text (the replacement character U+FFFD)"
	}
	return ""
}

// textProblem returns what is wrong with s as text (plain words) and the precise detail, or "".
func textProblem(s string) (words, detail string) {
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				return "text that is not valid UTF-8", fmt.Sprintf("invalid UTF-8 at byte %d", i)
			}
			i += n
		}
	}
	for i, r := range s {
		if w := badRune(r); w != "" {
			return w, fmt.Sprintf("%U at byte %d", r, i)
		}
	}
	return "", ""
}

// shorten quotes s for a detail, cut to its first 64 bytes.
func shorten(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q… (%d bytes)", s[:64], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// ValidateName checks a name that people read: a display name, a group's or a policy's name, a
// passkey's nickname. kind says which in the refusal ("group name"). A name has 1 to
// MaxNameLength characters of valid UTF-8, no control, invisible or direction-changing
// characters, and no space at either end (two names that differ only there look alike).
// Refusals are EINVALID with code invalid_name.
func ValidateName(kind, s string) error {
	return validateText("invalid_name", kind, s, MaxNameLength)
}

// ValidateDescription checks an optional description: at most MaxDescriptionLength characters,
// with the same characters as a name.
func ValidateDescription(kind, s string) error {
	if s == "" {
		return nil
	}
	return validateText("invalid_description", kind, s, MaxDescriptionLength)
}

func validateText(code, kind, s string, limit int) error {
	if strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, code, "Enter a "+kind+".", "the %s is empty", kind)
	}
	if words, detail := textProblem(s); words != "" {
		return Errorf(EINVALID, code, fmt.Sprintf("The %s may not contain %s.", kind, words),
			"the %s %s contains %s", kind, shorten(s), detail)
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return Errorf(EINVALID, code, fmt.Sprintf("The %s may be at most %d characters long.", kind, limit),
			"the %s has %d characters; the limit is %d", kind, n, limit)
	}
	if first, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(first) {
		return Errorf(EINVALID, code, fmt.Sprintf("The %s may not begin with a space.", kind), "the %s %s begins with white space", kind, shorten(s))
	}
	if last, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(last) {
		return Errorf(EINVALID, code, fmt.Sprintf("The %s may not end with a space.", kind), "the %s %s ends with white space", kind, shorten(s))
	}
	return nil
}

// ValidateUserPrincipalName checks a user principal name: local@domain, or a plain name such as
// the first administrator's "admin"; at most MaxUPNLength characters, no spaces, quotes or angle
// brackets, and none of the characters ValidateName refuses. Refusals are EINVALID with code
// invalid_user.
func ValidateUserPrincipalName(upn string) error {
	bad := func(msg, format string, args ...any) error {
		return Errorf(EINVALID, "invalid_user", msg, format, args...)
	}
	if upn == "" {
		return bad("Enter a user name such as alice@example.com.", "userPrincipalName is required")
	}
	if words, detail := textProblem(upn); words != "" {
		return bad("A user name may not contain "+words+".", "userPrincipalName %s contains %s", shorten(upn), detail)
	}
	if n := utf8.RuneCountInString(upn); n > MaxUPNLength {
		return bad(fmt.Sprintf("A user name may be at most %d characters long.", MaxUPNLength),
			"userPrincipalName has %d characters; the limit is %d", n, MaxUPNLength)
	}
	if i := strings.IndexFunc(upn, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`<>"'`, r) }); i >= 0 {
		return bad("A user name may not contain spaces, quotes or angle brackets.", "userPrincipalName %s has %q at byte %d", shorten(upn), upn[i:i+1], i)
	}
	if local, domain, ok := strings.Cut(upn, "@"); ok && (local == "" || domain == "" || strings.Contains(domain, "@")) {
		return bad("A user name is a name, or a name and a domain such as alice@example.com.",
			"userPrincipalName %s is not local@domain", shorten(upn))
	}
	return nil
}

// ValidateID checks an id that a caller chooses for something it creates (a conditional access
// policy, a strength, a named location): 1 to MaxIDLength letters, digits and the characters
// - . _ ~, so that the id can stand in an address unchanged. kind says which in the refusal.
func ValidateID(kind, id string) error {
	bad := func(msg, format string, args ...any) error {
		return Errorf(EINVALID, "invalid_id", msg, format, args...)
	}
	if id == "" {
		return bad("Enter the "+kind+".", "the %s is empty", kind)
	}
	if len(id) > MaxIDLength {
		return bad(fmt.Sprintf("The %s may be at most %d characters long.", kind, MaxIDLength), "the %s has %d bytes; the limit is %d", kind, len(id), MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return bad(fmt.Sprintf("The %s may contain only letters, digits, and the characters - . _ ~", kind),
				"the %s %s has %q at byte %d", kind, shorten(id), id[i:i+1], i)
		}
	}
	if id == "." || id == ".." {
		return bad("The "+kind+" must contain a letter or digit.", "the %s %q is a path segment of its own", kind, id)
	}
	return nil
}

// CanNameSomething reports whether ref could be the id or name of a stored item: valid UTF-8
// without NUL. Look-ups answer "not found" for anything else without asking the store, whose
// text columns could not hold it.
func CanNameSomething(ref string) bool {
	return utf8.ValidString(ref) && !strings.ContainsRune(ref, 0)
}
