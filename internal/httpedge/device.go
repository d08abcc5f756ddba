package httpedge

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/signin"
)

// DeviceCookie marks a browser where a passkey was registered or used: a random id, no personal
// data, kept for DeviceCookieAge. Without it, Latchkey offers to create a passkey on this device
// after a sign-in with a pass, a password or a phone across devices (signin.OfferPasskeyHere).
const DeviceCookie = "latchkey_device"

// DeviceCookieAge is how long the device cookie lasts: the longest browsers keep a cookie.
const DeviceCookieAge = 400 * 24 * time.Hour

// KnownDevice reports whether the request comes from a browser with the device cookie.
func KnownDevice(r *http.Request) bool {
	c, err := r.Cookie(DeviceCookie)
	return err == nil && len(c.Value) >= 32 && len(c.Value) <= 64
}

// SetDeviceCookie marks the browser as one where a passkey was registered or used (HttpOnly,
// Secure, SameSite=Lax), keeping its id when it has one and renewing its age.
func SetDeviceCookie(w http.ResponseWriter, r *http.Request) {
	id := signin.NewToken()
	if c, err := r.Cookie(DeviceCookie); err == nil && KnownDevice(r) {
		id = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: id, Path: "/", MaxAge: int(DeviceCookieAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
