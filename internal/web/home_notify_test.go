package web

import "testing"

// TestMailKindWordsNotices: the admin home names the security notices in words, not by their
// outbox kind.
func TestMailKindWordsNotices(t *testing.T) {
	for kind, want := range map[string]string{
		"recovery":       "Security notice: a pass to get back in was issued",
		"passkeyAdded":   "Security notice: a passkey was added",
		"passkeyRemoved": "Security notice: a passkey was removed",
		"onboarding":     "Onboarding mail (first pass)",
	} {
		if got := mailKindWords(kind); got != want {
			t.Errorf("mailKindWords(%q) = %q; want %q", kind, got, want)
		}
	}
}
