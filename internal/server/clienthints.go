package server

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/policy"
)

// acceptCH asks Chromium-based browsers for the high-entropy platform version hint on the
// requests that follow (the platform itself is sent unasked). Only they send UA client hints;
// Safari and Firefox are judged by their User-Agent string (DESIGN §5).
const acceptCH = "Sec-CH-UA-Platform-Version"

// askForClientHints adds Accept-CH to a page response.
func askForClientHints(w http.ResponseWriter) {
	w.Header().Set("Accept-CH", acceptCH)
}

// hintPlatforms maps Sec-CH-UA-Platform values to conditional access platforms.
var hintPlatforms = map[string]string{
	"Windows":     policy.PlatformWindows,
	"macOS":       policy.PlatformMacOS,
	"iOS":         policy.PlatformIOS,
	"Android":     policy.PlatformAndroid,
	"Linux":       policy.PlatformLinux,
	"Chrome OS":   policy.PlatformOther,
	"Chromium OS": policy.PlatformOther,
}

// platformNames are the conditional access platforms as people write them.
var platformNames = map[string]string{
	policy.PlatformWindows: "Windows",
	policy.PlatformMacOS:   "macOS",
	policy.PlatformIOS:     "iOS",
	policy.PlatformAndroid: "Android",
	policy.PlatformLinux:   "Linux",
	policy.PlatformOther:   "Other",
}

// platformName returns how a platform is written for people; the value itself if unknown.
func platformName(p string) string {
	if n, ok := platformNames[p]; ok {
		return n
	}
	return p
}

var (
	uaIOS     = regexp.MustCompile(`(?:iPhone|iPad|iPod).*? OS (\d+(?:_\d+)*)`)
	uaAndroid = regexp.MustCompile(`Android (\d+(?:\.\d+)*)`)
	uaWindows = regexp.MustCompile(`Windows NT \d+\.\d+`)
)

// platformOf returns the device platform and its version: from UA client hints when the browser
// sends them (Sec-CH-UA-Platform, and Sec-CH-UA-Platform-Version once asked for), otherwise from
// the User-Agent string. Versions are what was observed, not guessed: Windows' hint is "13" or
// more on Windows 11 and below 13 on Windows 10; its User-Agent says "10.0" on both; macOS
// browsers freeze the User-Agent at 10.15.7, so a Mac without hints has no version.
func platformOf(r *http.Request) (platform, version string) {
	if h := unquote(r.Header.Get("Sec-CH-UA-Platform")); h != "" {
		platform = hintPlatforms[h]
		if platform == "" {
			platform = policy.PlatformOther
		}
		return platform, unquote(r.Header.Get("Sec-CH-UA-Platform-Version"))
	}
	ua := r.UserAgent()
	switch {
	case ua == "":
		return "", ""
	case uaIOS.MatchString(ua):
		return policy.PlatformIOS, strings.ReplaceAll(uaIOS.FindStringSubmatch(ua)[1], "_", ".")
	case strings.Contains(ua, "Android 10; K"):
		return policy.PlatformAndroid, "" // Chrome's reduced User-Agent: the version is frozen
	case uaAndroid.MatchString(ua):
		return policy.PlatformAndroid, uaAndroid.FindStringSubmatch(ua)[1]
	case uaWindows.MatchString(ua):
		return policy.PlatformWindows, "" // "Windows NT 10.0" on both Windows 10 and 11
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "Mac OS X"):
		return policy.PlatformMacOS, ""
	case strings.Contains(ua, "CrOS"):
		return policy.PlatformOther, ""
	case strings.Contains(ua, "Linux"):
		return policy.PlatformLinux, ""
	}
	return policy.PlatformOther, ""
}

// unquote removes the quotes of a structured-header string ("\"Windows\"" → "Windows").
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return strings.Trim(s, `"`)
}
