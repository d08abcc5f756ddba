// Package device reads what a browser says about the device it runs on: the User-Agent string and
// UA client hints, turned into a conditional access platform and the version observed. It is the
// only parser of these headers (DESIGN §3, §5); it does no I/O.
package device

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/policy"
)

// AcceptCH asks Chromium-based browsers for the high-entropy platform version hint on the
// requests that follow (the platform itself is sent unasked). Only they send UA client hints;
// Safari and Firefox are judged by their User-Agent string (DESIGN §5).
const AcceptCH = "Sec-CH-UA-Platform-Version"

// Hints are the UA client-hint headers a request carried, as sent (structured-header strings,
// quotes included): Sec-CH-UA-Platform and Sec-CH-UA-Platform-Version.
type Hints struct {
	Platform        string
	PlatformVersion string
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

// Name returns how a platform is written for people; the value itself if unknown.
func Name(p string) string {
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

// Platform returns the device platform (policy.PlatformWindows, ...) and its version: from UA
// client hints when the browser sends them (Sec-CH-UA-Platform, and Sec-CH-UA-Platform-Version
// once asked for), otherwise from the User-Agent string. Versions are what was observed, not
// guessed: Windows' hint is "13" or more on Windows 11 and below 13 on Windows 10; its User-Agent
// says "10.0" on both; macOS browsers freeze the User-Agent at 10.15.7, so a Mac without hints
// has no version. Both empty when nothing was sent.
func Platform(userAgent string, h Hints) (platform, version string) {
	if hp := unquote(h.Platform); hp != "" {
		platform = hintPlatforms[hp]
		if platform == "" {
			platform = policy.PlatformOther
		}
		return platform, unquote(h.PlatformVersion)
	}
	ua := userAgent
	switch {
	case ua == "":
		return "", ""
	case uaIOS.MatchString(ua):
		return policy.PlatformIOS, strings.ReplaceAll(uaIOS.FindStringSubmatch(ua)[1], "_", ".")
	case strings.Contains(ua, "Android 10; K"):
		return policy.PlatformAndroid, "" // Chrome's reduced User-Agent: the version is frozen
	case uaAndroid.MatchString(ua):
		return policy.PlatformAndroid, uaAndroid.FindStringSubmatch(ua)[1]
	case uaWindows.MatchString(ua), strings.Contains(ua, "Windows"):
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
