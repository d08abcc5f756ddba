package web

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/recovery"
)

func init() {
	pageNames = append(pageNames, "kiosk", "my-staff")
}

// kioskOffer returns whether the signed-in person may get a pass for a new phone now, for My
// Security Info's "I have a new phone" card; nil when it cannot be told (the card then says
// nothing is offered).
func (s *Web) kioskOffer(r *http.Request) *recovery.KioskOffer {
	sess, _ := httpedge.CurrentUser(r)
	a, err := s.Actor(r)
	if err != nil {
		return nil
	}
	o, err := s.recovery.Kiosk(r.Context(), a, sess)
	if err != nil {
		s.logger.Warn("security info: decide the kiosk", "err", err)
		return nil
	}
	return o
}

// handleKioskForm issues the person a pass for their new phone and shows it once, with a QR
// code of the sign-in link, in the POST's answer (never in a URL or a cookie).
func (s *Web) handleKioskForm(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	a, err := s.Actor(r)
	var pass string
	var ap *latchkey.AccessPass
	if err == nil {
		pass, ap, err = s.recovery.IssueKioskPass(r.Context(), a, sess)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.securityInfo(w, r, &body, status)
		return
	}
	link := s.publicURL(r) + "/signin/tap?username=" + url.QueryEscape(user.UserPrincipalName)
	png, err := qrcode.Encode(link, qrcode.Medium, 320)
	if err != nil {
		s.errorPage(w, r, fmt.Errorf("draw QR code: %w", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Render(w, r, "kiosk", "A pass for your new phone", View{Data: map[string]any{
		"Pass": pass, "Link": link, "Expires": ap.ExpiresAt(),
		// The QR code is an inline image (the page's policy allows data: images only).
		"QR": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
	}})
}

// publicURL returns the address people reach Latchkey at: the issuer when set, else this
// request's scheme and host.
func (s *Web) publicURL(r *http.Request) string {
	if s.Issuer != "" {
		return strings.TrimRight(s.Issuer, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
