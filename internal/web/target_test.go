package web

import (
	"net/url"
	"strings"
	"testing"
)

// targetSpellings are the ways of writing "somewhere else" that a post-sign-in target must not
// get past, and the ordinary targets that must still work.
var targetSpellings = []struct {
	target string
	ok     bool
}{
	// Ordinary local targets.
	{"/my/security-info", true},
	{"/my/security-info?notice=added", true},
	{"/oidc/login?authRequestID=0b8c5a8e-7a0e-4c51-9a57-2f0b3c4d5e6f", true},
	{"/oidc/login?authRequestID=abc&stepup=1", true},
	{"/admin/users#top", true},
	{"/a/../b", true},
	{"/", true},
	{"/ok%3Dvalue", true},
	// Empty, relative, or too long.
	{"", false},
	{"my/security-info", false},
	{"./x", false},
	{"?next=/x", false},
	{"#x", false},
	{"/" + strings.Repeat("a", maxTargetLength), false},
	// Backslashes: browsers read them as slashes.
	{`/\evil.example/phish`, false},
	{`\/evil.example`, false},
	{`\\evil.example`, false},
	{`/x\y`, false},
	{`/\/evil.example`, false},
	// Scheme-relative.
	{"//evil.example", false},
	{"//evil.example/phish", false},
	{"///evil.example", false},
	{"////evil.example", false},
	// Encoded slashes and backslashes, in any case and encoded again.
	{"/%2Fevil.example", false},
	{"/%2fevil.example", false},
	{"/%5Cevil.example", false},
	{"/%5cevil.example", false},
	{"/%252Fevil.example", false},
	{"/%255cevil.example", false},
	{"/%25252fevil.example", false},
	{"/%2525252525252fevil.example", false},
	{"/x?next=%2F%2Fevil.example", false},
	// Tabs, CR, LF and other control characters, raw or encoded: browsers drop tabs and newlines
	// from URLs, so "/\t/evil.example" is "//evil.example" to them.
	{"/\t/evil.example", false},
	{"/\n/evil.example", false},
	{"/\r/evil.example", false},
	{"/\x00/evil.example", false},
	{"/\x7f", false},
	{"/%09/evil.example", false},
	{"/%0a/evil.example", false},
	{"/%0D%0ALocation:%20http://evil.example", false},
	{"/%00", false},
	{"/x y", false},
	{"/\u00a0", false},
	{"/\u2215evil.example", false},
	// Schemes and hosts.
	{"http://evil.example", false},
	{"https://evil.example/phish", false},
	{"javascript:alert(1)", false},
	{"JavaScript:alert(1)", false},
	{"data:text/html,<script>alert(1)</script>", false},
	{"evil.example:80/phish", false},
	{"evil.example:", false},
	{"mailto:x@evil.example", false},
	{"http:/evil.example", false},
	{"http:evil.example", false},
	{"//user@evil.example", false},
	// Malformed escapes.
	{"/%zz", false},
	{"/%", false},
	{"/%ff", false},
}

// TestSafeLocalTarget checks every spelling above: accepted targets come back unchanged, refused
// ones are refused, and safeNext and nextParam fall back to their defaults.
func TestSafeLocalTarget(t *testing.T) {
	for _, tc := range targetSpellings {
		got, ok := safeLocalTarget(tc.target)
		if ok != tc.ok {
			t.Errorf("safeLocalTarget(%q) ok = %v, want %v", tc.target, ok, tc.ok)
			continue
		}
		if ok && got != tc.target {
			t.Errorf("safeLocalTarget(%q) = %q, want it unchanged", tc.target, got)
		}
		if !ok {
			if got != "" {
				t.Errorf("safeLocalTarget(%q) refused but returned %q", tc.target, got)
			}
			if n := safeNext(tc.target); n != "/my/security-info" {
				t.Errorf("safeNext(%q) = %q, want the default", tc.target, n)
			}
			if n := nextParam(tc.target); n != "" {
				t.Errorf("nextParam(%q) = %q, want empty", tc.target, n)
			}
		}
	}
}

// FuzzSafeLocalTarget checks the promise of safeLocalTarget on any input: an accepted target,
// resolved by net/url against http://localhost:8080, stays on that origin, and holds no
// backslash or control character (raw or percent-encoded).
func FuzzSafeLocalTarget(f *testing.F) {
	for _, tc := range targetSpellings {
		f.Add(tc.target)
	}
	base, err := url.Parse("http://localhost:8080/signin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := safeLocalTarget(s)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q but returned %q", s, got)
			}
			return
		}
		if got != s {
			t.Fatalf("accepted %q as %q", s, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q, which net/url cannot parse: %v", got, err)
		}
		to := base.ResolveReference(u)
		if to.Scheme != "http" || to.Host != "localhost:8080" || to.User != nil {
			t.Fatalf("accepted %q, which resolves to %s", got, to)
		}
		for d := got; ; {
			if strings.ContainsAny(d, "\\") || strings.ContainsFunc(d, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("accepted %q, which holds a backslash or control character (as %q)", got, d)
			}
			next, err := url.PathUnescape(d)
			if err != nil || next == d {
				break
			}
			d = next
		}
	})
}
