package device

import (
	"testing"

	"github.com/latchkey/latchkey/internal/policy"
)

func TestPlatform(t *testing.T) {
	for _, tc := range []struct {
		name, ua, hint, hintVersion string
		platform, version           string
	}{
		{"Windows 11 by client hints", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0", `"Windows"`, `"15.0.0"`, policy.PlatformWindows, "15.0.0"},
		{"Windows 10 by client hints", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0", `"Windows"`, `"10.0.0"`, policy.PlatformWindows, "10.0.0"},
		{"hint without the version (not asked for yet)", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0", `"Linux"`, "", policy.PlatformLinux, ""},
		{"macOS by client hints", "", `"macOS"`, `"14.5.0"`, policy.PlatformMacOS, "14.5.0"},
		{"ChromeOS is other", "", `"Chrome OS"`, `"16093.0.0"`, policy.PlatformOther, "16093.0.0"},
		{"an unknown hint is other", "", `"Fuchsia"`, "", policy.PlatformOther, ""},
		{"Windows without hints: no version (10 and 11 both say 10.0)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "", "", policy.PlatformWindows, ""},
		{"Safari on iOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 Version/17.1 Mobile/15E148 Safari/604.1", "", "", policy.PlatformIOS, "17.1.2"},
		{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15", "", "", policy.PlatformIOS, "16.6"},
		{"Safari on macOS: version frozen, so none", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15", "", "", policy.PlatformMacOS, ""},
		{"Firefox on Android", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "", "", policy.PlatformAndroid, "14"},
		{"Chrome's reduced Android string: frozen", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/131.0.0.0 Mobile Safari/537.36", "", "", policy.PlatformAndroid, ""},
		{"Firefox on Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "", "", policy.PlatformLinux, ""},
		{"nothing at all", "", "", "", "", ""},
		{"a bot", "curl/8.5.0", "", "", policy.PlatformOther, ""},
		{"the hint wins over the User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0", `"Android"`, `"14.0.0"`, policy.PlatformAndroid, "14.0.0"},
		{"ChromeOS by User-Agent is other", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/131.0.0.0", "", "", policy.PlatformOther, ""},
		{"Windows without NT in the string", "Mozilla/4.0 (compatible; Windows 98)", "", "", policy.PlatformWindows, ""},
		{"hint with spaces and no quotes", "", ` macOS `, ` 13.0.0 `, policy.PlatformMacOS, "13.0.0"},
	} {
		p, v := Platform(tc.ua, Hints{Platform: tc.hint, PlatformVersion: tc.hintVersion})
		if p != tc.platform || v != tc.version {
			t.Errorf("%s: Platform = %q %q, want %q %q", tc.name, p, v, tc.platform, tc.version)
		}
	}
}

func TestName(t *testing.T) {
	for p, want := range map[string]string{
		policy.PlatformWindows: "Windows", policy.PlatformMacOS: "macOS", policy.PlatformIOS: "iOS",
		policy.PlatformAndroid: "Android", policy.PlatformLinux: "Linux", policy.PlatformOther: "Other",
		"beos": "beos", "": "",
	} {
		if got := Name(p); got != want {
			t.Errorf("Name(%q) = %q, want %q", p, got, want)
		}
	}
}
