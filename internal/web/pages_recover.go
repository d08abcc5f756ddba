package web

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// The "Lost your phone?" page (issue 13 item 7): two questions and the way back in that fits
// the answers, in plain words. It is a GET form so that it works without JavaScript and needs no
// session.

func init() {
	pageNames = append(pageNames, "recover")
}

// The ways back in the recover page leads to.
const (
	recoverOldPhone = "old-phone" // sign in with the old phone, add the new one on My Security Info
	recoverLaptop   = "laptop"    // "I have a new phone" on My Security Info of the laptop
	recoverNothing  = "nothing"   // verify your identity, or ask your manager or the helpdesk
)

// recoverRoutes adds the recover page's route and the offer to create a passkey here.
func (s *Web) recoverRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /recover", s.handleRecoverPage)
	m.HandleFunc("GET /signin/offer", s.page(s.handleOfferPage))
}

// recoverPath returns the way back in for the answers: phone is whether the person still has
// their old phone, laptop whether they have a computer where they are still signed in ("yes",
// "no", or "" when not answered yet). It returns "" while the answers so far lead nowhere yet.
func recoverPath(phone, laptop string) (string, error) {
	for _, v := range []string{phone, laptop} {
		if v != "" && v != "yes" && v != "no" {
			return "", latchkey.Errorf(latchkey.EINVALID, "invalid_choice", "Choose Yes or No for each question.",
				"recover answers must be yes or no, got phone=%q laptop=%q", phone, laptop)
		}
	}
	switch {
	case phone == "yes":
		return recoverOldPhone, nil
	case phone == "no" && laptop == "yes":
		return recoverLaptop, nil
	case phone == "no" && laptop == "no":
		return recoverNothing, nil
	}
	return "", nil
}

func (s *Web) handleRecoverPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	phone, laptop := q.Get("phone"), q.Get("laptop")
	path, err := recoverPath(phone, laptop)
	v := View{Data: map[string]any{"Phone": phone, "Laptop": laptop, "Path": path}}
	if err != nil {
		v.Status, v.Error = http.StatusBadRequest, s.FormError(r, err)
		v.Data["Phone"], v.Data["Laptop"] = "", ""
	}
	s.Render(w, r, "recover", "Lost your phone?", v)
}
