package web

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// The offer, after a sign-in on a device where the person has no passkey, to create one here in
// one step (issue 13 item 1). It never changes where a sign-in lands: My Security Info shows it as
// a card; on the way to an application it takes the place of the "Signed in" page, and its "Not
// now" is the link that continues to the application.

// offerHere reports whether to offer the signed-in person a passkey on this browser (see
// signin.OfferPasskeyHere); attachment is "" outside a passkey sign-in's answer.
func (s *Web) offerHere(r *http.Request, sess *latchkey.Session, user *latchkey.User) (bool, error) {
	return s.auth.OfferPasskeyHere(r.Context(), sess, user, httpedge.KnownDevice(r), "")
}

// continueOrOffer sends the browser on to next after a sign-in as continueTo does, except that
// on the way to an application it shows the offer to create a passkey here when there is one.
func (s *Web) continueOrOffer(w http.ResponseWriter, r *http.Request, sess *latchkey.Session, user *latchkey.User, next string) {
	next = safeNext(next)
	if strings.HasPrefix(next, "/oidc/") {
		offer, err := s.offerHere(r, sess, user)
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		if offer {
			s.renderOffer(w, r, user, next)
			return
		}
	}
	s.continueTo(w, r, next)
}

// renderOffer shows the offer page (the nudge page in its "here" form) going on to next.
func (s *Web) renderOffer(w http.ResponseWriter, r *http.Request, user *latchkey.User, next string) {
	s.Render(w, r, "nudge", "Create a passkey on this device", View{User: user, Data: map[string]any{
		"Here": true, "Next": next, "Continue": next, "ToApp": strings.HasPrefix(next, "/oidc/")}})
}

// handleOfferPage shows the offer after a passkey sign-in with a phone across devices (the
// sign-in page's script comes here when the answer says so), or goes straight on to next.
func (s *Web) handleOfferPage(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	next := safeNext(r.URL.Query().Get("next"))
	offer, err := s.offerHere(r, sess, user)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if !offer {
		s.continueTo(w, r, next)
		return
	}
	s.renderOffer(w, r, user, next)
}
