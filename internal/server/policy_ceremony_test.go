package server

// End-to-end tests of the authentication methods policy and passkey profiles over HTTP: real
// SQLite store, software authenticators, and (for attestation) a test FIDO metadata BLOB
// imported the way `latchkey mds import` stores it. Policies are set through the service and
// groups through the store, as the admin page and CLI would.

import (
	"context"
	"crypto/x509"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/passkey/passkeytest"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// newGroup stores a group named name with the given members.
func (h *harness) newGroup(name string, members ...*latchkey.User) *latchkey.Group {
	h.t.Helper()
	ctx := context.Background()
	g := &latchkey.Group{DisplayName: name}
	if err := g.Validate(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateGroup(ctx, g); err != nil {
		h.t.Fatalf("create group %s: %v", name, err)
	}
	for _, u := range members {
		if err := h.store.AddGroupMember(ctx, g.ID, u.ID); err != nil {
			h.t.Fatalf("add %s to %s: %v", u.UserPrincipalName, name, err)
		}
	}
	return g
}

// setPolicy stores p through the service, as the policy page and CLI do.
func (h *harness) setPolicy(p policy.MethodsPolicy) {
	h.t.Helper()
	if err := h.policies.SetMethodsPolicy(context.Background(), latchkey.SystemActor, p); err != nil {
		h.t.Fatalf("set methods policy: %v", err)
	}
}

// withProfiles returns the default policy with profiles added after the default one.
func withProfiles(profiles ...policy.PasskeyProfile) policy.MethodsPolicy {
	p := policy.DefaultMethodsPolicy()
	p.Passkey.Profiles = append(p.Passkey.Profiles, profiles...)
	return p
}

// signInLog returns the user's sign-in log, newest first.
func (h *harness) signInLog(userID string) []*latchkey.SignInEvent {
	h.t.Helper()
	events, err := h.store.ListSignIns(context.Background(), userID, 50)
	if err != nil {
		h.t.Fatalf("list sign-ins: %v", err)
	}
	return events
}

// findEvent returns the newest event with method and code, or nil.
func findEvent(events []*latchkey.SignInEvent, method, code string) *latchkey.SignInEvent {
	for _, e := range events {
		if e.Method == method && e.ErrorCode == code {
			return e
		}
	}
	return nil
}

// checkPlain fails when a message meant for the person uses jargon.
func checkPlain(t *testing.T, msg string) {
	t.Helper()
	for _, jargon := range []string{"attestation", "aaguid", "profile", "passkeytypes", "keyrestrictions"} {
		if strings.Contains(strings.ToLower(msg), jargon) {
			t.Errorf("message %q contains jargon %q", msg, jargon)
		}
	}
}

// TestPolicyAttestationWithMDS: with a test metadata BLOB imported, a profile that enforces
// attestation accepts a key whose packed attestation chains to the BLOB's attestation root,
// refuses a self-attested one, and refuses the revoked model; refusals store nothing and show
// in the admin's view of the user and in the sign-in log.
func TestPolicyAttestationWithMDS(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	m := passkeytest.NewMDS(t)
	if _, err := passkey.ImportMDS(ctx, h.store, m.BLOB, m.Root.Cert, h.clock.Now()); err != nil {
		t.Fatalf("import MDS: %v", err)
	}
	admin, _ := h.signedInClient("root@example.com", true)
	c, u := h.signedInClient("ada@example.com", false)
	g := h.newGroup("Admins", u)
	const profileName = "Admins hardware keys"
	h.setPolicy(withProfiles(policy.PasskeyProfile{ID: "admins", Name: profileName, TargetGroupIDs: []string{g.ID},
		PasskeyTypes: policy.PasskeyTypesDeviceBound, AttestationEnforcement: policy.AttestationEnforcementRegistrationOnly}))
	attested := m.AttestedAAGUID.String()

	// Self attestation from the listed model: its AAGUID is only a claim.
	self := h.newDevice()
	self.auth.Aaguid = m.AttestedAAGUID
	r := c.register(self)
	e := errorBody(t, r, http.StatusForbidden, policy.CodeAttestationRequired)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Message, "approved security key") {
		t.Errorf("message %q does not ask for an approved security key", e.Message)
	}
	for _, want := range []string{`profile "` + profileName + `"`, attested, passkeytest.AttestedDescription, "attestation self"} {
		if !strings.Contains(e.Detail, want) {
			t.Errorf("detail %q does not name %q", e.Detail, want)
		}
	}
	selfDetail, selfCID := e.Detail, e.CorrelationID

	// The revoked model is refused whatever the profile says.
	revoked := h.newDevice()
	revoked.auth.Aaguid = m.RevokedAAGUID
	r = c.register(revoked)
	e = errorBody(t, r, http.StatusForbidden, policy.CodeAuthenticatorRevoked)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Detail, m.RevokedAAGUID.String()) || !strings.Contains(e.Detail, "revoked") {
		t.Errorf("revoked detail %q does not name the AAGUID and the status", e.Detail)
	}
	revokedDetail := e.Detail
	if pks := h.passkeys(u.ID); len(pks) != 0 {
		t.Fatalf("refused registrations stored %d passkeys", len(pks))
	}

	// Packed full attestation with a leaf of the listed attestation root.
	good := h.newDevice()
	good.auth.Aaguid = m.AttestedAAGUID
	resp, err := passkeytest.ResignPacked([]byte(good.attest(t, c.registrationOptions())), m.AttestationRoot.NewAttestationLeaf(t, m.AttestedAAGUID))
	if err != nil {
		t.Fatal(err)
	}
	r = c.post("/api/v1/webauthn/registration/verify", resp)
	if r.status != http.StatusOK {
		t.Fatalf("attested registration: %d %s", r.status, r.body)
	}
	var pk api.PasskeyJSON
	r.decode(t, &pk)
	if pk.AttestationTrust != latchkey.AttestationAttested || pk.AAGUID != attested || pk.Provider != passkeytest.AttestedDescription {
		t.Errorf("registered passkey attestation %q AAGUID %q provider %q, want attested, %s, %s", pk.AttestationTrust, pk.AAGUID, pk.Provider, attested, passkeytest.AttestedDescription)
	}
	pks := h.passkeys(u.ID)
	if len(pks) != 1 || pks[0].AttestationTrust != latchkey.AttestationAttested {
		t.Fatalf("store holds %d passkeys (want only the attested one)", len(pks))
	}
	// Attestation is checked at registration only: the attested key signs in.
	if r := h.newClient().signIn(good, ""); r.status != http.StatusOK {
		t.Errorf("sign-in with the attested key: %d %s", r.status, r.body)
	}

	// A newer BLOB reports the model revoked: its passkeys stop signing in.
	newer := passkeytest.BLOB{Number: 8, Entries: []passkeytest.Entry{{AAGUID: m.AttestedAAGUID, Description: passkeytest.AttestedDescription,
		Roots: []*x509.Certificate{m.AttestationRoot.Cert}, Statuses: []metadata.AuthenticatorStatus{metadata.FidoCertified, metadata.Revoked}}}}
	if _, err := passkey.ImportMDS(ctx, h.store, newer.Sign(t, m.Signer, m.Intermediate.Cert), m.Root.Cert, h.clock.Now()); err != nil {
		t.Fatalf("import newer MDS: %v", err)
	}
	rc := h.newClient()
	e = errorBody(t, rc.signIn(good, ""), http.StatusForbidden, policy.CodeAuthenticatorRevoked)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Detail, attested) || rc.sessionCookie() != nil {
		t.Errorf("revoked sign-in detail %q (session cookie %v)", e.Detail, rc.sessionCookie())
	}

	// The sign-in log has both refusals with their details, under the caller's correlation id.
	events := h.signInLog(u.ID)
	ev := findEvent(events, signin.MethodPasskeyRegistration, policy.CodeAttestationRequired)
	if ev == nil || ev.Result != latchkey.SignInFailure || ev.Detail != selfDetail || ev.AAGUID != attested {
		t.Errorf("sign-in log has no attestation_required registration with the response's detail: %+v", ev)
	} else if ev.CorrelationID != selfCID {
		t.Errorf("logged correlation id %q, response had %q", ev.CorrelationID, selfCID)
	}
	if ev := findEvent(events, signin.MethodPasskeyRegistration, policy.CodeAuthenticatorRevoked); ev == nil || ev.Detail != revokedDetail {
		t.Errorf("sign-in log has no authenticator_revoked registration with the response's detail: %+v", ev)
	}

	// The admin's view of the user shows the codes and details.
	page := admin.get("/admin/users/" + u.ID)
	if page.status != http.StatusOK {
		t.Fatalf("admin user page: %d", page.status)
	}
	text := html.UnescapeString(string(page.body))
	for _, want := range []string{policy.CodeAttestationRequired, selfDetail, policy.CodeAuthenticatorRevoked, revokedDetail} {
		if !strings.Contains(text, want) {
			t.Errorf("admin's view of the user does not show %q", want)
		}
	}
}

// TestPolicyKeyRestrictions: an allow-list accepts a listed authenticator; removing it from the
// list stops the next sign-in (no session); a block-list refuses registration.
func TestPolicyKeyRestrictions(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("ben@example.com", false)
	g := h.newGroup("Contractors", u)
	allowed, other := uuid.New(), uuid.New()
	allowList := func(aaguids ...string) policy.MethodsPolicy {
		return withProfiles(policy.PasskeyProfile{ID: "contractors", Name: "Contractor keys", TargetGroupIDs: []string{g.ID},
			PasskeyTypes: policy.PasskeyTypesBoth, AttestationEnforcement: policy.AttestationEnforcementDisabled,
			KeyRestrictions: policy.KeyRestrictions{IsEnforced: true, EnforcementType: policy.EnforcementAllow, AAGUIDs: aaguids}})
	}
	h.setPolicy(allowList(strings.ToUpper(allowed.String()), other.String()))

	d := h.newDevice()
	d.auth.Aaguid = allowed
	c.mustRegister(d)
	sc := h.newClient()
	if r := sc.signIn(d, ""); r.status != http.StatusOK || sc.sessionCookie() == nil {
		t.Fatalf("sign-in with an allowed key: %d %s", r.status, r.body)
	}

	// The admin takes the AAGUID off the list: the next sign-in is refused.
	h.setPolicy(allowList(other.String()))
	nc := h.newClient()
	r := nc.signIn(d, "")
	e := errorBody(t, r, http.StatusForbidden, policy.CodeAAGUIDNotAllowed)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Message, "list of approved passkeys") {
		t.Errorf("message %q", e.Message)
	}
	if !strings.Contains(e.Detail, allowed.String()) || !strings.Contains(e.Detail, "Contractor keys") || !strings.Contains(e.Detail, "signIn") {
		t.Errorf("detail %q does not name the AAGUID, the profile and the ceremony", e.Detail)
	}
	if nc.sessionCookie() != nil {
		t.Error("a refused sign-in left a session cookie")
	}
	if ev := findEvent(h.signInLog(u.ID), latchkey.MethodPasskey, policy.CodeAAGUIDNotAllowed); ev == nil || ev.Detail != e.Detail {
		t.Errorf("sign-in log has no aaguid_not_allowed sign-in with the response's detail: %+v", ev)
	}
	// Also username-first.
	if r := h.newClient().signIn(d, u.UserPrincipalName); r.status != http.StatusForbidden {
		t.Errorf("username-first sign-in after removal: %d %s", r.status, r.body)
	}

	// A block-list refuses registration of the listed model.
	h.setPolicy(withProfiles(policy.PasskeyProfile{ID: "contractors", Name: "Contractor keys", TargetGroupIDs: []string{g.ID},
		PasskeyTypes: policy.PasskeyTypesBoth, AttestationEnforcement: policy.AttestationEnforcementDisabled,
		KeyRestrictions: policy.KeyRestrictions{IsEnforced: true, EnforcementType: policy.EnforcementBlock, AAGUIDs: []string{other.String()}}}))
	blocked := h.newDevice()
	blocked.auth.Aaguid = other
	e = errorBody(t, c.register(blocked), http.StatusForbidden, policy.CodeAAGUIDBlocked)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Message, "blocked by your organisation") || !strings.Contains(e.Detail, other.String()) {
		t.Errorf("block refusal message %q detail %q", e.Message, e.Detail)
	}
	if pks := h.passkeys(u.ID); len(pks) != 1 {
		t.Errorf("store holds %d passkeys after the blocked registration, want 1", len(pks))
	}
	// A model not on the block-list still registers.
	c.mustRegister(h.newDevice())
}

// TestPolicyProfileUnion: a user in two groups is subject to both profiles and a passkey passes
// when either accepts it; a user in only the strict group is refused.
func TestPolicyProfileUnion(t *testing.T) {
	h := newHarness(t)
	both, bu := h.signedInClient("both@example.com", false)
	strict, su := h.signedInClient("strict@example.com", false)
	devOnly := h.newGroup("Device only", bu, su)
	syncOK := h.newGroup("Sync allowed", bu)
	h.setPolicy(withProfiles(
		policy.PasskeyProfile{ID: "device", Name: "Device-bound only", TargetGroupIDs: []string{devOnly.ID},
			PasskeyTypes: policy.PasskeyTypesDeviceBound, AttestationEnforcement: policy.AttestationEnforcementDisabled},
		policy.PasskeyProfile{ID: "synced", Name: "Synced allowed", TargetGroupIDs: []string{syncOK.ID},
			PasskeyTypes: policy.PasskeyTypesSynced, AttestationEnforcement: policy.AttestationEnforcementDisabled},
	))

	pk := both.mustRegister(h.newSyncedDevice())
	if pk.Kind != latchkey.KindSynced {
		t.Errorf("registered kind %q, want synced", pk.Kind)
	}
	e := errorBody(t, strict.register(h.newSyncedDevice()), http.StatusForbidden, policy.CodeKindNotAllowed)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Message, "copied between your devices") {
		t.Errorf("message %q does not say why a synced passkey is refused", e.Message)
	}
	if !strings.Contains(e.Detail, "Device-bound only") || strings.Contains(e.Detail, "Synced allowed") {
		t.Errorf("detail %q should name only the strict user's profile", e.Detail)
	}
	if pks := h.passkeys(su.ID); len(pks) != 0 {
		t.Errorf("refused registration stored %d passkeys", len(pks))
	}
	strict.mustRegister(h.newDevice())
}

// TestPolicyMethodExclusion: a group excluded from passkeys cannot start a registration or sign
// in with a passkey it already has; a group excluded from temporary access passes cannot sign in
// with a right pass (a wrong pass is still just wrong).
func TestPolicyMethodExclusion(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("eve@example.com", false)
	d := h.newDevice()
	c.mustRegister(d)
	g := h.newGroup("Kiosks", u)

	p := policy.DefaultMethodsPolicy()
	p.Passkey.ExcludeTargets = []policy.Target{{ID: g.ID}}
	h.setPolicy(p)
	e := errorBody(t, c.post("/api/v1/webauthn/registration/options", nil), http.StatusForbidden, policy.CodeMethodDisabled)
	checkPlain(t, e.Message)
	if !strings.Contains(e.Message, "Passkeys are not turned on") || !strings.Contains(e.Detail, g.ID) {
		t.Errorf("registration options refusal message %q detail %q", e.Message, e.Detail)
	}
	sc := h.newClient()
	e = errorBody(t, sc.signIn(d, ""), http.StatusForbidden, policy.CodeMethodDisabled)
	if !strings.Contains(e.Detail, "excludes group "+g.ID) {
		t.Errorf("sign-in refusal detail %q", e.Detail)
	}
	if sc.sessionCookie() != nil {
		t.Error("a refused sign-in left a session cookie")
	}
	// Someone outside the group is unaffected.
	oc, _ := h.signedInClient("fay@example.com", false)
	od := h.newDevice()
	oc.mustRegister(od)
	if r := h.newClient().signIn(od, ""); r.status != http.StatusOK {
		t.Errorf("sign-in of a user outside the excluded group: %d %s", r.status, r.body)
	}

	// Passes: excluded for the group; the refusal comes only after the right pass.
	pass := h.issueTAP(u.ID, signin.IssueOptions{})
	p = policy.DefaultMethodsPolicy()
	p.TemporaryAccessPass.ExcludeTargets = []policy.Target{{ID: g.ID}}
	h.setPolicy(p)
	tc := h.newClient()
	errorBody(t, tc.signInTAP(u.UserPrincipalName, "Wrong2345"), http.StatusUnauthorized, "tap_invalid")
	e = errorBody(t, tc.signInTAP(u.UserPrincipalName, pass), http.StatusForbidden, policy.CodeMethodDisabled)
	if !strings.Contains(e.Message, "Temporary access passes are not turned on") || !strings.Contains(e.Detail, "method tap excludes group "+g.ID) {
		t.Errorf("TAP refusal message %q detail %q", e.Message, e.Detail)
	}
	if tc.sessionCookie() != nil {
		t.Error("a refused TAP sign-in left a session cookie")
	}
	if ev := findEvent(h.signInLog(u.ID), latchkey.MethodTAP, policy.CodeMethodDisabled); ev == nil {
		t.Error("sign-in log has no method_disabled_for_user TAP refusal")
	}
	// Passkeys are on again for the group in this policy: the passkey signs in.
	if r := h.newClient().signIn(d, ""); r.status != http.StatusOK {
		t.Errorf("passkey sign-in with only TAP excluded: %d %s", r.status, r.body)
	}
}
