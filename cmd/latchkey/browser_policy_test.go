package main

// Real-browser tests of passkey profiles: what a person sees when the organisation's policy
// refuses their passkey, at registration and at sign-in. Policies are set through the service
// (s.Auth.SetMethodsPolicy) and groups through the store, as the admin page and CLI would. Run
// them with
//
//	go test -count=1 -run BrowserPolicy ./cmd/latchkey/

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/passkey/passkeytest"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// otherAAGUID is an authenticator model that is not Chromium's virtual authenticator.
const otherAAGUID = "6c61746b-6579-4000-8000-0000000000ff"

// adminsGroup creates the group Admins with the bootstrap admin in it and returns its id.
func adminsGroup(t *testing.T, s *testServer) string {
	t.Helper()
	ctx := context.Background()
	g := &latchkey.Group{DisplayName: "Admins"}
	if err := s.Store.CreateGroup(ctx, g); err != nil {
		t.Fatalf("create group Admins: %v", err)
	}
	if err := s.Store.AddGroupMember(ctx, g.ID, s.user(t, "admin").ID); err != nil {
		t.Fatalf("add admin to Admins: %v", err)
	}
	return g.ID
}

// setAdminsProfile stores the default policy plus one profile for group groupID.
func setAdminsProfile(t *testing.T, s *testServer, groupID string, pr policy.PasskeyProfile) {
	t.Helper()
	setAdminsProfileOverride(t, s, groupID, pr, 0)
}

// setAdminsProfileOverride is setAdminsProfile confirming that the change locks out override
// people (the lockout lint's override).
func setAdminsProfileOverride(t *testing.T, s *testServer, groupID string, pr policy.PasskeyProfile, override int) {
	t.Helper()
	pr.ID, pr.Name, pr.TargetGroupIDs = "admins", "Admins", []string{groupID}
	if pr.AttestationEnforcement == "" {
		pr.AttestationEnforcement = policy.AttestationEnforcementDisabled
	}
	p := policy.DefaultMethodsPolicy()
	p.Passkey.Profiles = append(p.Passkey.Profiles, pr)
	if _, err := s.Policies.ChangeMethodsPolicy(context.Background(), latchkey.SystemActor, override, func(cur *policy.MethodsPolicy) error {
		*cur = p
		return nil
	}); err != nil {
		t.Fatalf("set methods policy: %v", err)
	}
}

// registrationRefused clicks #add-passkey, waits for the page to show an error, checks that it
// contains want and no jargon, and returns it.
func (b *browser) registrationRefused(want string) string {
	b.t.Helper()
	b.waitVisible("#add-passkey")
	b.click("#add-passkey")
	b.waitVisible("#register-error")
	msg := b.text("#register-error")
	checkPlainSentence(b.t, msg, want)
	if !eval[bool](b, `!document.querySelector("#add-passkey").disabled`) {
		b.t.Error("the add button stays disabled after the refusal")
	}
	return msg
}

// checkPlainSentence checks a message shown to the person: it says want, in plain words.
func checkPlainSentence(t *testing.T, msg, want string) {
	t.Helper()
	if !strings.Contains(msg, want) {
		t.Errorf("message %q does not say %q", msg, want)
	}
	for _, jargon := range []string{"AAGUID", "attestation", "Attestation", "NotAllowedError", "profile", chromiumAAGUID} {
		if strings.Contains(msg, jargon) {
			t.Errorf("message %q contains jargon %q", msg, jargon)
		}
	}
	if !strings.Contains(msg, "Reference for IT: ") {
		t.Errorf("message %q has no reference for IT", msg)
	}
}

// lastFailure returns the newest sign-in log event of the admin, which must be a failure with
// code.
func lastFailure(t *testing.T, s *testServer, method, code string) *latchkey.SignInEvent {
	t.Helper()
	events, err := s.Store.ListSignIns(context.Background(), s.user(t, "admin").ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].Method != method || events[0].Result != latchkey.SignInFailure || events[0].ErrorCode != code {
		t.Fatalf("newest sign-in event = %+v, want a %s failure with %s", events, method, code)
	}
	return events[0]
}

// TestBrowserPolicyDeviceBoundOnly: Admins may use device-bound passkeys only. A synced passkey is
// refused with the plain kind_not_allowed sentence and nothing is stored; a device-bound one then
// registers.
func TestBrowserPolicyDeviceBoundOnly(t *testing.T) {
	s := startServer(t)
	setAdminsProfile(t, s, adminsGroup(t, s), policy.PasskeyProfile{PasskeyTypes: policy.PasskeyTypesDeviceBound})
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)

	id := b.addAuthenticator(synced())
	msg := b.registrationRefused("can't be used here because it is copied between your devices")
	if pks := s.passkeys(t, "admin"); len(pks) != 0 {
		t.Fatalf("store has %d passkeys after the refusal, want 0", len(pks))
	}
	ev := lastFailure(t, s, signin.MethodPasskeyRegistration, policy.CodeKindNotAllowed)
	if !strings.Contains(msg, ev.CorrelationID) || ev.PasskeyKind != latchkey.KindSynced || ev.AAGUID != chromiumAAGUID {
		t.Errorf("logged refusal %+v does not match the page's %q", ev, msg)
	}

	b.removeAuthenticator(id)
	b.addAuthenticator(deviceBound())
	b.addPasskey()
	pks := s.passkeys(t, "admin")
	if len(pks) != 1 || pks[0].Kind != latchkey.KindDeviceBound {
		t.Fatalf("store has %d passkeys after the device-bound registration, want 1 device-bound", len(pks))
	}
}

// TestBrowserPolicyBlockedModel: a block-list entry for Chromium's virtual authenticator refuses
// its registration with the aaguid_blocked sentence.
func TestBrowserPolicyBlockedModel(t *testing.T) {
	s := startServer(t)
	setAdminsProfile(t, s, adminsGroup(t, s), policy.PasskeyProfile{PasskeyTypes: policy.PasskeyTypesBoth,
		KeyRestrictions: policy.KeyRestrictions{IsEnforced: true, EnforcementType: policy.EnforcementBlock, AAGUIDs: []string{chromiumAAGUID}}})
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.addAuthenticator(securityKey())
	b.registrationRefused("has been blocked by your organisation")
	if pks := s.passkeys(t, "admin"); len(pks) != 0 {
		t.Fatalf("store has %d passkeys after the refusal, want 0", len(pks))
	}
	if ev := lastFailure(t, s, signin.MethodPasskeyRegistration, policy.CodeAAGUIDBlocked); !strings.Contains(ev.Detail, "block-list") {
		t.Errorf("logged detail %q does not mention the block-list", ev.Detail)
	}
}

// TestBrowserPolicyAttestationRequired: with test FIDO metadata imported and a profile enforcing
// attestation, Chromium's virtual authenticator (a self-signed batch certificate that chains to
// no metadata root) is refused with the attestation_required sentence.
func TestBrowserPolicyAttestationRequired(t *testing.T) {
	s := startServer(t)
	m := passkeytest.NewMDS(t)
	if _, err := passkey.ImportMDS(context.Background(), s.Store, m.BLOB, m.Root.Cert, time.Now()); err != nil {
		t.Fatalf("import MDS: %v", err)
	}
	setAdminsProfile(t, s, adminsGroup(t, s), policy.PasskeyProfile{PasskeyTypes: policy.PasskeyTypesBoth,
		AttestationEnforcement: policy.AttestationEnforcementRegistrationOnly})
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.addAuthenticator(securityKey())
	b.registrationRefused("Your organisation asks you to use an approved security key here.")
	if pks := s.passkeys(t, "admin"); len(pks) != 0 {
		t.Fatalf("store has %d passkeys after the refusal, want 0", len(pks))
	}
	ev := lastFailure(t, s, signin.MethodPasskeyRegistration, policy.CodeAttestationRequired)
	for _, want := range []string{"attestation untrusted", "not listed in metadata BLOB 7"} {
		if !strings.Contains(ev.Detail, want) {
			t.Errorf("logged detail %q does not say %q", ev.Detail, want)
		}
	}
}

// TestBrowserPolicyAllowListRemoval: a passkey registered under an allow-list stops working once
// its model is taken off the list: the next button sign-in (usernameless) shows the
// aaguid_not_allowed sentence on /signin and does not sign in.
func TestBrowserPolicyAllowListRemoval(t *testing.T) {
	s := startServer(t)
	group := adminsGroup(t, s)
	allow := func(aaguids ...string) policy.PasskeyProfile {
		return policy.PasskeyProfile{PasskeyTypes: policy.PasskeyTypesBoth,
			KeyRestrictions: policy.KeyRestrictions{IsEnforced: true, EnforcementType: policy.EnforcementAllow, AAGUIDs: aaguids}}
	}
	setAdminsProfile(t, s, group, allow(chromiumAAGUID, otherAAGUID))
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	platform := b.addAuthenticator(deviceBound())
	b.addPasskey()
	if pks := s.passkeys(t, "admin"); len(pks) != 1 {
		t.Fatalf("store has %d passkeys, want 1", len(pks))
	}

	// As in TestBrowserFirstDay: sign out without the authenticator, so that the sign-in page
	// starts no autofill request, then bring the passkey back and use the button.
	cred := b.credentials(platform)
	if len(cred) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(cred))
	}
	b.removeAuthenticator(platform)
	b.signOut()
	// The admin's only way in is this passkey: taking its model off the list locks them out.
	setAdminsProfileOverride(t, s, group, allow(otherAAGUID), 1)
	b.importCredential(b.addAuthenticator(deviceBound()), cred[0])
	b.click("#passkey-signin")
	b.waitVisible("#signin-error")
	checkPlainSentence(t, b.text("#signin-error"), "is not on your organisation's list of approved passkeys")
	if p := eval[string](b, `location.pathname`); p != "/signin" {
		t.Errorf("page is %s after the refusal, want /signin", p)
	}
	if sess := sessionOf(t, s, b); sess != nil {
		t.Errorf("a session exists after the refused sign-in: %+v", sess)
	}
	ev := lastFailure(t, s, latchkey.MethodPasskey, policy.CodeAAGUIDNotAllowed)
	if !strings.Contains(ev.Detail, chromiumAAGUID) || !strings.Contains(ev.Detail, "allow-list") {
		t.Errorf("logged detail %q does not name the AAGUID and the allow-list", ev.Detail)
	}
}

// TestBrowserPolicyUnionOfProfiles: a person in two groups is subject to both groups' profiles
// and a passkey is accepted when it meets either. Admins allows device-bound passkeys only;
// Travellers allows synced ones; the admin, in both, registers a synced passkey. Taken out of
// Travellers, the same synced passkey no longer signs in.
func TestBrowserPolicyUnionOfProfiles(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	admins := adminsGroup(t, s)
	travellers := &latchkey.Group{DisplayName: "Travellers"}
	if err := s.Store.CreateGroup(ctx, travellers); err != nil {
		t.Fatal(err)
	}
	admin := s.user(t, "admin")
	if err := s.Store.AddGroupMember(ctx, travellers.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	p := policy.DefaultMethodsPolicy()
	p.Passkey.Profiles = append(p.Passkey.Profiles,
		policy.PasskeyProfile{ID: "admins", Name: "Admins", TargetGroupIDs: []string{admins}, PasskeyTypes: policy.PasskeyTypesDeviceBound,
			AttestationEnforcement: policy.AttestationEnforcementDisabled},
		policy.PasskeyProfile{ID: "travellers", Name: "Travellers", TargetGroupIDs: []string{travellers.ID}, PasskeyTypes: policy.PasskeyTypesSynced,
			AttestationEnforcement: policy.AttestationEnforcementDisabled})
	if err := s.Policies.SetMethodsPolicy(ctx, latchkey.SystemActor, p); err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	auth := b.addAuthenticator(synced())
	b.addPasskey()
	pks := s.passkeys(t, "admin")
	if len(pks) != 1 || pks[0].Kind != latchkey.KindSynced {
		t.Fatalf("store has %+v, want one synced passkey accepted by the Travellers profile", pks)
	}
	if got := b.text(`li.passkey[data-kind="synced"] .badge`); !strings.Contains(got, "Synced") {
		t.Errorf("the page shows the passkey as %q, want Synced", got)
	}

	// Out of Travellers only the device-bound rule applies: the next sign-in is refused.
	cred := b.credentials(auth)
	if len(cred) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(cred))
	}
	b.removeAuthenticator(auth)
	b.signOut()
	if err := s.Store.RemoveGroupMember(ctx, travellers.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	b.importCredential(b.addAuthenticator(synced()), cred[0])
	b.click("#passkey-signin")
	b.waitVisible("#signin-error")
	checkPlainSentence(t, b.text("#signin-error"), "copied between your devices")
	if sess := sessionOf(t, s, b); sess != nil {
		t.Errorf("a session exists after the refused sign-in: %+v", sess)
	}
	lastFailure(t, s, latchkey.MethodPasskey, policy.CodeKindNotAllowed)
}
