package web

import (
	"net/url"
	"strings"
)

// maxTargetLength bounds a local target; the longest Latchkey makes (the OpenID Connect login
// route with its request id and step-up flag) is far shorter.
const maxTargetLength = 2048

// targetBase stands for this site when safeLocalTarget resolves a target: any origin would do,
// as only whether the result stays on it matters.
var targetBase = &url.URL{Scheme: "http", Host: "localhost:8080", Path: "/"}

// safeLocalTarget decides whether s is a safe place on this site to send a browser to (a next or
// return value from a query, a form or a page), and returns it when it is. It is the one place
// that decides: every redirect, continue link, hidden next field and data-next attribute goes
// through it, and the page code (static/latchkey.js) applies the same rules before it navigates.
//
// A safe target is a path on this site, with an optional query and fragment, of printable ASCII:
// it starts with one "/" and is refused when it holds a backslash, a space, a tab, CR, LF or any
// other control character, a percent-encoded slash or backslash (%2f, %5c, in any case, also
// encoded again as %252f and so on) or an encoded control character; when it is scheme-relative
// ("//host", "/\host", "\/host"), has a scheme ("https:", "javascript:", "evil.example:80"), or
// names a host or user; and when net/url, resolving it against this site, would leave the site.
func safeLocalTarget(s string) (string, bool) {
	if s == "" || len(s) > maxTargetLength || s[0] != '/' {
		return "", false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "", false
	}
	// Check s and each of its decodings: a browser, or a server behind us, may decode once more
	// before it treats a slash or backslash as the start of another host.
	for d, i := s, 0; ; i++ {
		if !printableTarget(d) {
			return "", false
		}
		lower := strings.ToLower(d)
		if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
			return "", false
		}
		if i == 4 { // encoded five times over: no one sends that in good faith
			return "", false
		}
		next, err := url.PathUnescape(d)
		if err != nil {
			return "", false
		}
		if next == d {
			break
		}
		d = next
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	to := targetBase.ResolveReference(u)
	if to.Scheme != targetBase.Scheme || to.Host != targetBase.Host || to.User != nil {
		return "", false
	}
	return s, true
}

// printableTarget reports whether s is printable ASCII without spaces or backslashes.
func printableTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
