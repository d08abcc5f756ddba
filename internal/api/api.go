package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// UserJSON is the public shape of a user in API answers.
type UserJSON struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	Roles             []string `json:"roles"`
}

func userView(u *latchkey.User) UserJSON {
	return UserJSON{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName, Roles: u.Roles}
}

// SessionJSON is the public shape of a session in API answers.
type SessionJSON struct {
	Methods   []string  `json:"methods"`
	ExpiresAt time.Time `json:"expiresDateTime"`
}

// PasskeyJSON describes a stored passkey, Graph fido2AuthenticationMethod fields included.
type PasskeyJSON struct {
	*latchkey.Passkey
	CredentialID string `json:"credentialId"` // base64url, as in WebAuthn JSON
	Model        string `json:"model"`
	Description  string `json:"description"`
}

func passkeyView(p *latchkey.Passkey) PasskeyJSON {
	return PasskeyJSON{Passkey: p, CredentialID: base64.RawURLEncoding.EncodeToString(p.CredentialID),
		Model: p.Provider, Description: p.Description()}
}

func (s *API) handleAPISignInTAP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		TAP      string `json:"tap"`
	}
	if err := httpedge.DecodeJSON(w, r, &req); err != nil {
		s.WriteError(w, r, err)
		return
	}
	si, err := s.auth.SignInWithTAP(r.Context(), req.Username, req.TAP, httpedge.ClientOf(r))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.SetSessionCookie(w, si)
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"user": userView(si.User),
		"session": SessionJSON{Methods: si.Session.Methods, ExpiresAt: si.Session.ExpiresAt}})
}

func (s *API) handleAPISignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(httpedge.SessionCookie); err == nil {
		if err := s.auth.SignOut(r.Context(), c.Value); err != nil {
			s.WriteError(w, r, err)
			return
		}
	}
	httpedge.ClearSessionCookie(w)
	httpedge.WriteJSON(w, http.StatusOK, map[string]string{"status": "signed out"})
}

func (s *API) handleRegistrationOptions(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		// The body is optional; when present it must still be JSON.
		if _, err := httpedge.ReadJSONBody(w, r); err != nil {
			s.WriteError(w, r, err)
			return
		}
	}
	sess, user := httpedge.CurrentUser(r)
	if err := s.auth.CheckRegisterSecurityInfo(r.Context(), sess, user, httpedge.ClientOf(r)); err != nil {
		s.WriteError(w, r, err)
		return
	}
	creation, err := s.auth.BeginRegistration(r.Context(), sess, user)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"publicKey": creation.Response})
}

func (s *API) handleRegistrationVerify(w http.ResponseWriter, r *http.Request) {
	body, err := httpedge.ReadJSONBody(w, r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	sess, user := httpedge.CurrentUser(r)
	pk, err := s.auth.FinishRegistration(r.Context(), sess, user, body, httpedge.ClientOf(r))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if !signin.FromAnotherDevice(pk, attachmentOf(body)) {
		httpedge.SetDeviceCookie(w, r) // the passkey is on this device: no offer to create one here
	}
	httpedge.WriteJSON(w, http.StatusOK, passkeyView(pk))
}

func (s *API) handleAuthenticationOptions(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
	}
	if r.ContentLength != 0 {
		if err := httpedge.DecodeJSON(w, r, &req); err != nil {
			s.WriteError(w, r, err)
			return
		}
	}
	assertion, err := s.auth.BeginSignIn(r.Context(), req.Username)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"publicKey": assertion.Response})
}

func (s *API) handleAuthenticationVerify(w http.ResponseWriter, r *http.Request) {
	body, err := httpedge.ReadJSONBody(w, r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	si, err := s.auth.FinishSignIn(r.Context(), body, httpedge.ClientOf(r))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.SetSessionCookie(w, si)
	attachment, known := attachmentOf(body), httpedge.KnownDevice(r)
	if !signin.FromAnotherDevice(si.Passkey, attachment) {
		httpedge.SetDeviceCookie(w, r)
		known = true
	}
	offer, err := s.auth.OfferPasskeyHere(r.Context(), si.Session, si.User, known, attachment)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"user": userView(si.User), "passkey": passkeyView(si.Passkey),
		"session": SessionJSON{Methods: si.Session.Methods, ExpiresAt: si.Session.ExpiresAt}, "offerPasskeyHere": offer})
}

func (s *API) handleMe(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"user": userView(user),
		"session": SessionJSON{Methods: sess.Methods, ExpiresAt: sess.ExpiresAt}})
}

func (s *API) handleMyPasskeys(w http.ResponseWriter, r *http.Request) {
	_, user := httpedge.CurrentUser(r)
	s.writePasskeys(w, r, user.ID)
}

func (s *API) writePasskeys(w http.ResponseWriter, r *http.Request, userID string) {
	pks, err := s.store.ListPasskeysByUser(r.Context(), userID)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	writePasskeyList(w, pks)
}

// writePasskeyList answers with pks as Graph fido2AuthenticationMethod values.
func writePasskeyList(w http.ResponseWriter, pks []*latchkey.Passkey) {
	views := make([]PasskeyJSON, len(pks))
	for i, p := range pks {
		views[i] = passkeyView(p)
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": views})
}

func (s *API) handleRenameMyPasskey(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DisplayName string `json:"displayName"`
	}
	if err := httpedge.DecodeJSON(w, r, &req); err != nil {
		s.WriteError(w, r, err)
		return
	}
	_, user := httpedge.CurrentUser(r)
	if err := s.auth.RenamePasskey(r.Context(), user, r.PathValue("id"), req.DisplayName); err != nil {
		s.WriteError(w, r, err)
		return
	}
	pk, err := s.store.FindPasskeyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, passkeyView(pk))
}

func (s *API) handleDeleteMyPasskey(w http.ResponseWriter, r *http.Request) {
	_, user := httpedge.CurrentUser(r)
	confirm := r.URL.Query().Get("confirmLast") == "true"
	if err := s.auth.RemovePasskey(r.Context(), user, r.PathValue("id"), confirm); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// attachmentOf returns the authenticatorAttachment a WebAuthn response body reports, "" when none.
func attachmentOf(body []byte) string {
	var b struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return b.AuthenticatorAttachment
}
