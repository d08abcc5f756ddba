// Package api is Latchkey's JSON API under /api/v1: signing in with a pass, the WebAuthn
// ceremonies, the person's own passkeys, and for administrators users, passes, the methods
// policy and conditional access. Handlers only translate between HTTP and the services;
// refusals go through httpedge's one mapping to status codes.
package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/provisioning"
	"github.com/latchkey/latchkey/internal/signin"
)

// API holds the JSON handlers' dependencies.
type API struct {
	*httpedge.Base
	auth     *signin.Service
	store    latchkey.Store
	policies *policyadmin.Service
	dir      *directory.Service
	// provisioning reads the provisioning log.
	provisioning *provisioning.Service
}

// New returns the JSON API over base's sign-in service, policy administration and directory.
func New(base *httpedge.Base, policies *policyadmin.Service, dir *directory.Service) *API {
	return &API{Base: base, auth: base.Auth, store: base.Auth.Store, policies: policies, dir: dir,
		provisioning: provisioning.NewService(base.Auth)}
}

// Mount registers the API's routes on m (the server adds the catch-all that answers 404 and
// 405 for the rest of /api/).
func (s *API) Mount(m *http.ServeMux) {
	m.HandleFunc("POST /api/v1/signin/tap", s.handleAPISignInTAP)
	m.HandleFunc("POST /api/v1/signout", s.handleAPISignOut)
	m.HandleFunc("POST /api/v1/webauthn/registration/options", s.APISession(s.handleRegistrationOptions))
	m.HandleFunc("POST /api/v1/webauthn/registration/verify", s.APISession(s.handleRegistrationVerify))
	m.HandleFunc("POST /api/v1/webauthn/authentication/options", s.handleAuthenticationOptions)
	m.HandleFunc("POST /api/v1/webauthn/authentication/verify", s.handleAuthenticationVerify)
	m.HandleFunc("GET /api/v1/me", s.APISession(s.handleMe))
	m.HandleFunc("GET /api/v1/me/passkeys", s.APISession(s.handleMyPasskeys))
	m.HandleFunc("PATCH /api/v1/me/passkeys/{id}", s.APISession(s.handleRenameMyPasskey))
	m.HandleFunc("DELETE /api/v1/me/passkeys/{id}", s.APISession(s.handleDeleteMyPasskey))
	m.HandleFunc("GET /api/v1/users", s.APIActor(s.handleAPIListUsers))
	m.HandleFunc("POST /api/v1/users", s.APIActor(s.handleAPICreateUser))
	m.HandleFunc("GET /api/v1/users/{id}", s.APIActor(s.handleAPIGetUser))
	m.HandleFunc("PATCH /api/v1/users/{id}", s.APIActor(s.handleAPIPatchUser))
	m.HandleFunc("DELETE /api/v1/users/{id}", s.APIActor(s.handleAPIDeleteUser))
	m.HandleFunc("POST /api/v1/users/{id}/revokeSignInSessions", s.APIActor(s.handleAPIRevokeSignInSessions))
	m.HandleFunc("GET /api/v1/users/{id}/authentication/methods", s.APIActor(s.handleAPIUserMethods))
	m.HandleFunc("GET /api/v1/users/{id}/authentication/fido2Methods", s.APIActor(s.handleAPIUserPasskeys))
	m.HandleFunc("DELETE /api/v1/users/{id}/authentication/fido2Methods/{methodId}", s.APIActor(s.handleAPIDeletePasskey))
	m.HandleFunc("GET /api/v1/users/{id}/authentication/temporaryAccessPassMethods", s.APIActor(s.handleAPIUserTAPs))
	m.HandleFunc("POST /api/v1/users/{id}/authentication/temporaryAccessPassMethods", s.APIActor(s.handleAPIIssueTAP))
	m.HandleFunc("DELETE /api/v1/users/{id}/authentication/temporaryAccessPassMethods/{methodId}", s.APIActor(s.handleAPIDeleteTAP))
	m.HandleFunc("GET /api/v1/policies/authenticationMethods", s.APIActor(s.handleGetMethodsPolicy))
	m.HandleFunc("PUT /api/v1/policies/authenticationMethods", s.APIActor(s.handlePutMethodsPolicy))
	m.HandleFunc("GET "+CAPath+"/policies", s.APIActor(s.handleAPIListCAPolicies))
	m.HandleFunc("POST "+CAPath+"/policies", s.APIActor(s.handleAPICreateCAPolicy))
	m.HandleFunc("GET "+CAPath+"/policies/{id}", s.APIActor(s.handleAPIGetCAPolicy))
	m.HandleFunc("PUT "+CAPath+"/policies/{id}", s.APIActor(s.handleAPIPutCAPolicy))
	m.HandleFunc("PATCH "+CAPath+"/policies/{id}", s.APIActor(s.handleAPIPatchCAPolicy))
	m.HandleFunc("DELETE "+CAPath+"/policies/{id}", s.APIActor(s.handleAPIDeleteCAPolicy))
	m.HandleFunc("GET "+CAPath+"/authenticationStrength/policies", s.APIActor(s.handleAPIListStrengths))
	m.HandleFunc("POST "+CAPath+"/authenticationStrength/policies", s.APIActor(s.handleAPICreateStrength))
	m.HandleFunc("PUT "+CAPath+"/authenticationStrength/policies/{id}", s.APIActor(s.handleAPIPutStrength))
	m.HandleFunc("DELETE "+CAPath+"/authenticationStrength/policies/{id}", s.APIActor(s.handleAPIDeleteStrength))
	m.HandleFunc("GET "+CAPath+"/namedLocations", s.APIActor(s.handleAPIListLocations))
	m.HandleFunc("POST "+CAPath+"/namedLocations", s.APIActor(s.handleAPICreateLocation))
	m.HandleFunc("PUT "+CAPath+"/namedLocations/{id}", s.APIActor(s.handleAPIPutLocation))
	m.HandleFunc("DELETE "+CAPath+"/namedLocations/{id}", s.APIActor(s.handleAPIDeleteLocation))
	m.HandleFunc("POST "+CAPath+"/evaluate", s.APIActor(s.handleAPIEvaluateCA))
	m.HandleFunc("GET "+CAPath+"/lint", s.APIActor(s.handleAPILintCA))
	m.HandleFunc("GET /api/v1/applications", s.APIActor(s.handleAPIListApps))
	m.HandleFunc("POST /api/v1/applications", s.APIActor(s.handleAPICreateApp))
	m.HandleFunc("DELETE /api/v1/applications/{id}", s.APIActor(s.handleAPIDeleteApp))
	m.HandleFunc("GET /api/v1/auditLogs/signIns", s.APIActor(s.handleAPISignIns))
	m.HandleFunc("GET /api/v1/auditLogs/directoryAudits", s.APIActor(s.handleAPIDirectoryAudits))
	m.HandleFunc("GET /api/v1/provisioning/requests", s.APIActor(s.handleAPIProvisioningRequests))
}
