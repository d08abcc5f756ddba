package api

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Graph's @odata.type of each authentication method.
const (
	odataFido2    = "#microsoft.graph.fido2AuthenticationMethod"
	odataTAP      = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
	odataPassword = "#microsoft.graph.passwordAuthenticationMethod"
	odataOath     = "#microsoft.graph.softwareOathAuthenticationMethod"
)

// Graph's fixed ids of the password and authenticator app methods: a person has at most one of
// each, so the id names the kind, not the credential.
const (
	passwordMethodID = "28c10230-6103-485e-b985-444c60001490"
	totpMethodID     = "b7c7cc8e-63f2-4a4a-8f5e-1a2bfc3d8f21"
)

// Fido2MethodJSON is Graph's fido2AuthenticationMethod: a passkey as an administrator's script
// sees it. Latchkey's own fields follow Graph's.
type Fido2MethodJSON struct {
	ODataType               string     `json:"@odata.type"`
	ID                      string     `json:"id"`
	DisplayName             string     `json:"displayName"`
	CreatedDateTime         time.Time  `json:"createdDateTime"`
	AAGUID                  string     `json:"aaGuid"`
	Model                   string     `json:"model"`
	AttestationCertificates []string   `json:"attestationCertificates"`
	AttestationLevel        string     `json:"attestationLevel"`
	Kind                    string     `json:"kind"`
	LastUsedDateTime        *time.Time `json:"lastUsedDateTime,omitempty"`
	PossibleClone           bool       `json:"possibleClone"`
}

func fido2View(p *latchkey.Passkey) Fido2MethodJSON {
	level := "notAttested"
	if p.AttestationTrust == latchkey.AttestationAttested {
		level = "attested"
	}
	return Fido2MethodJSON{ODataType: odataFido2, ID: p.ID, DisplayName: passkeyView(p).Description,
		CreatedDateTime: p.CreatedAt, AAGUID: p.AAGUID, Model: p.Provider, AttestationCertificates: []string{},
		AttestationLevel: level, Kind: p.Kind, LastUsedDateTime: p.LastUsedAt, PossibleClone: p.PossibleClone}
}

// tapView is a pass as Graph's temporaryAccessPassAuthenticationMethod; pass is the pass itself,
// "" except in the answer to its creation.
func (s *API) tapView(ap *latchkey.AccessPass, pass string) TAPJSON {
	state := ap.State(s.auth.Now())
	return TAPJSON{ODataType: odataTAP, AccessPass: ap, TemporaryAccessPass: pass, MethodUsabilityReason: state, IsUsable: state == latchkey.TAPUsable}
}

// PasswordMethodJSON is Graph's passwordAuthenticationMethod: the password itself is never
// returned (null, as in Graph).
type PasswordMethodJSON struct {
	ODataType       string     `json:"@odata.type"`
	ID              string     `json:"id"`
	Password        *string    `json:"password"`
	CreatedDateTime *time.Time `json:"createdDateTime"`
}

// OathMethodJSON is Graph's softwareOathAuthenticationMethod (an authenticator app); the secret
// is never returned (null, as in Graph).
type OathMethodJSON struct {
	ODataType string  `json:"@odata.type"`
	ID        string  `json:"id"`
	SecretKey *string `json:"secretKey"`
}

// methodsContext is Graph's @odata.context of a list under a user's authentication.
func (s *API) methodsContext(r *http.Request, userID, list string) string {
	return s.contextURL(r, "users('"+userID+"')/authentication/"+list)
}

// userMethods reads the methods of the user the path names, answering the refusal itself.
func (s *API) userMethods(w http.ResponseWriter, r *http.Request) (*directory.Methods, *latchkey.User, bool) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return nil, nil, false
	}
	m, err := s.dir.UserMethods(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return nil, nil, false
	}
	return m, m.User, true
}

func (s *API) handleAPIUserMethods(w http.ResponseWriter, r *http.Request) {
	m, u, ok := s.userMethods(w, r)
	if !ok {
		return
	}
	value := []any{}
	if m.Legacy != nil && m.Legacy.HasPassword() {
		value = append(value, PasswordMethodJSON{ODataType: odataPassword, ID: passwordMethodID, CreatedDateTime: m.Legacy.PasswordSetAt})
	}
	for _, p := range m.Passkeys {
		value = append(value, fido2View(p))
	}
	if m.AccessPass != nil {
		value = append(value, s.tapView(m.AccessPass, ""))
	}
	if m.Legacy != nil && m.Legacy.HasTOTP() {
		value = append(value, OathMethodJSON{ODataType: odataOath, ID: totpMethodID})
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": s.methodsContext(r, u.ID, "methods"), "value": value})
}

func (s *API) handleAPIUserPasskeys(w http.ResponseWriter, r *http.Request) {
	m, u, ok := s.userMethods(w, r)
	if !ok {
		return
	}
	value := make([]Fido2MethodJSON, len(m.Passkeys))
	for i, p := range m.Passkeys {
		value[i] = fido2View(p)
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": s.methodsContext(r, u.ID, "fido2Methods"), "value": value})
}

func (s *API) handleAPIUserTAPs(w http.ResponseWriter, r *http.Request) {
	m, u, ok := s.userMethods(w, r)
	if !ok {
		return
	}
	value := []TAPJSON{}
	if m.AccessPass != nil {
		value = append(value, s.tapView(m.AccessPass, ""))
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": s.methodsContext(r, u.ID, "temporaryAccessPassMethods"), "value": value})
}

func (s *API) handleAPIDeletePasskey(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if err := s.dir.RemovePasskeyFor(r.Context(), a, r.PathValue("id"), r.PathValue("methodId")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *API) handleAPIDeleteTAP(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if err := s.dir.RevokeAccessPassMethod(r.Context(), a, r.PathValue("id"), r.PathValue("methodId")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAPIRevokeSignInSessions is Graph's revokeSignInSessions: it ends every session and
// refresh token of the person and answers {"value": true}.
func (s *API) handleAPIRevokeSignInSessions(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if _, _, err := s.dir.SignOutEverywhere(r.Context(), a, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": s.contextURL(r, "Edm.Boolean"), "value": true})
}
