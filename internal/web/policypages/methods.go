package policypages

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/web"
)

// policyGroup is a group as the policy page offers it: a checkbox per form.
type policyGroup struct {
	ID, Name string
}

// policyAAGUID is a key restriction's AAGUID with the provider it names, when known.
type policyAAGUID struct {
	AAGUID, Provider string
}

// policyProfile is a passkey profile as the policy page shows it.
type policyProfile struct {
	policy.PasskeyProfile
	Default     bool
	GroupNames  []string
	TypesWords  string
	AAGUIDs     []policyAAGUID
	AAGUIDLines string // the textarea's text
}

// passkeyTypesWords says which passkeys a profile accepts in plain words.
func passkeyTypesWords(t string) string {
	switch t {
	case policy.PasskeyTypesDeviceBound:
		return "Device-bound passkeys only (security keys and passkeys that stay on one device)"
	case policy.PasskeyTypesSynced:
		return "Synced passkeys only (passkeys that a password manager copies between devices)"
	case policy.PasskeyTypesBoth:
		return "Device-bound and synced passkeys"
	}
	return t
}

func (s *Pages) handleAdminPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	s.adminPolicy(w, r, a, nil, 0, nil, nil)
}

// formField is one field of a posted form, to post again.
type formField struct{ Name, Value string }

// policyLockout is a lockout lint refusal of a methods policy change, shown with the people and
// a form that posts the same change again with the number typed in.
type policyLockout struct {
	Findings []caFinding
	Affected int
	Action   string      // where the refused form posted
	Fields   []formField // everything it posted but the CSRF token and the override
}

// methodsFindingWords says a methods lint finding in plain words for the page.
func methodsFindingWords(code string) string {
	switch code {
	case policy.LintNoWayToSignIn:
		return "These people could sign in before this change and could not after it:"
	case policy.LintLastGlobalAdmin:
		return "No global admin could sign in after this change, so nobody could change it back here. Global admins it locks out:"
	case policy.LintBreakGlassLockedOut:
		return "The break-glass account could not sign in after this change:"
	}
	return ""
}

// policyLockoutOf returns the lockout panel for err, or nil when err is no lint refusal.
func policyLockoutOf(r *http.Request, err error) *policyLockout {
	var le *policyadmin.LockoutError
	if !errors.As(err, &le) {
		return nil
	}
	out := &policyLockout{Affected: le.Affected, Action: r.URL.Path}
	for _, pl := range le.Policies {
		for _, f := range pl.Findings {
			out.Findings = append(out.Findings, caFinding{Code: f.Code, Words: methodsFindingWords(f.Code), Detail: f.Message, PolicyName: pl.Name, People: f.UserPrincipalNames})
		}
	}
	names := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		if k != web.CSRFField && k != "lockoutOverride" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range r.PostForm[k] {
			out.Fields = append(out.Fields, formField{k, v})
		}
	}
	return out
}

// adminPolicy shows the stored authentication methods policy with its forms, and refusal above
// them when a change was refused. shown, when not nil, is the refused change: the forms show it
// (what the admin entered) while the facts show what is stored; lock is the lockout panel.
func (s *Pages) adminPolicy(w http.ResponseWriter, r *http.Request, a latchkey.Actor, refusal *httpedge.ErrorBody, status int, shown *policy.MethodsPolicy, lock *policyLockout) {
	ctx := r.Context()
	p, err := s.policies.MethodsPolicy(ctx, a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	f := p
	if shown != nil {
		f = *shown
	}
	groups, err := s.policies.PolicyGroups(ctx, a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	names := map[string]string{policy.AllUsers: "All users"}
	pgs := make([]policyGroup, len(groups))
	for i, g := range groups {
		names[g.ID] = g.Name
		pgs[i] = policyGroup{ID: g.ID, Name: g.Name}
	}
	nameOf := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id + " (deleted group)"
	}
	targetNames := func(ts []policy.Target) []string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = nameOf(t.ID)
		}
		return out
	}
	targetIDs := func(ts []policy.Target) map[string]bool {
		out := map[string]bool{}
		for _, t := range ts {
			out[t.ID] = true
		}
		return out
	}
	show := func(pr policy.PasskeyProfile) policyProfile {
		v := policyProfile{PasskeyProfile: pr, Default: pr.ID == p.Passkey.DefaultProfileID,
			TypesWords: passkeyTypesWords(pr.PasskeyTypes), AAGUIDLines: strings.Join(pr.KeyRestrictions.AAGUIDs, "\n")}
		for _, g := range pr.TargetGroupIDs {
			v.GroupNames = append(v.GroupNames, nameOf(g))
		}
		for _, a := range pr.KeyRestrictions.AAGUIDs {
			v.AAGUIDs = append(v.AAGUIDs, policyAAGUID{AAGUID: a, Provider: policyadmin.ProviderName(a)})
		}
		return v
	}
	// profiles are the stored ones (the table); editProfiles the same with the refused change's
	// version of each (the edit forms); newProfile the refused change's new one (the add form).
	profiles := make([]policyProfile, len(p.Passkey.Profiles))
	editProfiles := make([]policyProfile, len(p.Passkey.Profiles))
	for i, pr := range p.Passkey.Profiles {
		profiles[i], editProfiles[i] = show(pr), show(pr)
		if j := slices.IndexFunc(f.Passkey.Profiles, func(o policy.PasskeyProfile) bool { return o.ID == pr.ID }); j >= 0 {
			editProfiles[i] = show(f.Passkey.Profiles[j])
		}
	}
	var newProfile *policyProfile
	for _, pr := range f.Passkey.Profiles {
		if !slices.ContainsFunc(p.Passkey.Profiles, func(o policy.PasskeyProfile) bool { return o.ID == pr.ID }) {
			v := show(pr)
			newProfile = &v
			break
		}
	}
	newSel := map[string]bool{}
	if newProfile != nil {
		for _, g := range newProfile.TargetGroupIDs {
			newSel[g] = true
		}
	}
	s.Render(w, r, "admin-policy", "Authentication methods policy", web.View{Error: refusal, Status: status, Data: map[string]any{
		"Policy":          p,
		"Form":            f,
		"Lockout":         lock,
		"Groups":          pgs,
		"Profiles":        profiles,
		"EditProfiles":    editProfiles,
		"NewProfile":      newProfile,
		"NewProfileSel":   newSel,
		"NewDefault":      newProfile != nil && f.Passkey.DefaultProfileID == newProfile.ID,
		"PasskeyInclude":  targetNames(p.Passkey.IncludeTargets),
		"PasskeyExclude":  targetNames(p.Passkey.ExcludeTargets),
		"TAPInclude":      targetNames(p.TemporaryAccessPass.IncludeTargets),
		"TAPExclude":      targetNames(p.TemporaryAccessPass.ExcludeTargets),
		"PasskeyIncIDs":   targetIDs(f.Passkey.IncludeTargets),
		"PasskeyExcIDs":   targetIDs(f.Passkey.ExcludeTargets),
		"TAPIncIDs":       targetIDs(f.TemporaryAccessPass.IncludeTargets),
		"TAPExcIDs":       targetIDs(f.TemporaryAccessPass.ExcludeTargets),
		"PasswordInclude": targetNames(p.Password.IncludeTargets),
		"PasswordExclude": targetNames(p.Password.ExcludeTargets),
		"TOTPInclude":     targetNames(p.TOTP.IncludeTargets),
		"TOTPExclude":     targetNames(p.TOTP.ExcludeTargets),
		"PasswordIncIDs":  targetIDs(f.Password.IncludeTargets),
		"PasswordExcIDs":  targetIDs(f.Password.ExcludeTargets),
		"TOTPIncIDs":      targetIDs(f.TOTP.IncludeTargets),
		"TOTPExcIDs":      targetIDs(f.TOTP.ExcludeTargets),
		"AllUsers":        policy.AllUsers,
		"Notice":          r.URL.Query().Get("notice"),
		"CanChange":       authz.Can(a, authz.ActionWriteMethodsPolicy),
		"Zones":           onboardingZones,
		"OnboardingLife":  policy.MinutesWords(p.TemporaryAccessPass.Onboarding.LifetimeInMinutes),
		"RecoveryMax":     policy.RecoveryMaxLifetime,
		"MyStaffGroups":   idNames(p.TemporaryAccessPass.MyStaff.IncludeGroups, nameOf),
		"MyStaffGroupIDs": idSet(f.TemporaryAccessPass.MyStaff.IncludeGroups),
	}})
}

// changePolicy lets change edit the stored policy and stores the result (auth's
// ChangeMethodsPolicy, with the lockout override the form carries). A refusal (from change,
// Validate, an unknown group or the lockout lint) re-renders the page with it; nothing is
// stored. A lockout refusal shows the people and a form to send the same change again with
// their number, and the forms keep what the admin entered.
func (s *Pages) changePolicy(w http.ResponseWriter, r *http.Request, notice string, change func(*policy.MethodsPolicy) error) {
	ctx := r.Context()
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	override, err := formOverride(r)
	var attempted policy.MethodsPolicy
	if err == nil {
		attempted, err = s.policies.ChangeMethodsPolicy(ctx, a, override, change)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.ErrorPage(w, r, err)
		return
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		if lock := policyLockoutOf(r, err); lock != nil {
			s.adminPolicy(w, r, a, &body, status, &attempted, lock)
			return
		}
		s.adminPolicy(w, r, a, &body, status, nil, nil)
		return
	}
	http.Redirect(w, r, "/admin/policy?notice="+notice, http.StatusSeeOther)
}

// invalidForm is a refusal of a policy form field that Validate never sees.
func invalidForm(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The authentication methods policy is not valid: "+msg+".", "%s", msg)
}

// formTargets returns the targets checked in field: group ids, or all_users.
func formTargets(r *http.Request, field string) []policy.Target {
	ts := []policy.Target{}
	for _, id := range r.PostForm[field] {
		if id = strings.TrimSpace(id); id != "" {
			ts = append(ts, policy.Target{ID: id, TargetType: policy.TargetTypeGroup})
		}
	}
	return ts
}

// formInt reads a whole number of field, named what in a refusal.
func formInt(r *http.Request, field, what string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalidForm("enter the %s as a whole number, not %q", what, v)
	}
	return n, nil
}

func (s *Pages) handleAdminPolicyMethods(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "methods", func(p *policy.MethodsPolicy) error {
		if err := web.CheckOffered(r, web.Offered{Field: "passkeyState", Values: methodStates}, web.Offered{Field: "tapState", Values: methodStates},
			web.Offered{Field: "selfService", Values: web.Yes}, web.Offered{Field: "userVerification", Values: web.Yes},
			web.Offered{Field: "guestRegistration", Values: web.Yes}, web.Offered{Field: "tapOneTime", Values: web.Yes}); err != nil {
			return err
		}
		pm := &p.Passkey
		pm.State = r.PostFormValue("passkeyState")
		pm.IncludeTargets = formTargets(r, "passkeyInclude")
		pm.ExcludeTargets = formTargets(r, "passkeyExclude")
		pm.IsSelfServiceRegistrationAllowed = r.PostFormValue("selfService") == "yes"
		pm.IsUserVerificationRequired = r.PostFormValue("userVerification") == "yes"
		pm.IsGuestRegistrationAllowed = r.PostFormValue("guestRegistration") == "yes"
		tm := &p.TemporaryAccessPass
		tm.State = r.PostFormValue("tapState")
		tm.IncludeTargets = formTargets(r, "tapInclude")
		tm.ExcludeTargets = formTargets(r, "tapExclude")
		tm.IsUsableOnce = r.PostFormValue("tapOneTime") == "yes"
		var err error
		for _, f := range []struct {
			field, what string
			dst         *int
		}{
			{"tapDefaultLifetime", "default lifetime", &tm.DefaultLifetimeInMinutes},
			{"tapMinLifetime", "minimum lifetime", &tm.MinimumLifetimeInMinutes},
			{"tapMaxLifetime", "maximum lifetime", &tm.MaximumLifetimeInMinutes},
			{"tapLength", "length of a pass", &tm.DefaultLength},
		} {
			if *f.dst, err = formInt(r, f.field, f.what); err != nil {
				return err
			}
		}
		return nil
	})
}

// methodStates are the states the policy page offers for a method.
var methodStates = []string{policy.StateEnabled, policy.StateDisabled}

// profileChoices are the choices of the profile forms.
var profileChoices = []web.Offered{
	{Field: "passkeyTypes", Values: []string{policy.PasskeyTypesDeviceBound, policy.PasskeyTypesSynced, policy.PasskeyTypesBoth}},
	{Field: "attestation", Values: web.Yes}, {Field: "keyRestrictions", Values: web.Yes}, {Field: "default", Values: web.Yes},
	{Field: "enforcementType", Values: []string{policy.EnforcementAllow, policy.EnforcementBlock}},
}

// profileFromForm fills pr from a profile form.
func profileFromForm(r *http.Request, pr *policy.PasskeyProfile) {
	pr.Name = r.PostFormValue("name")
	pr.TargetGroupIDs = []string{}
	for _, g := range r.PostForm["groups"] {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(pr.TargetGroupIDs, g) {
			pr.TargetGroupIDs = append(pr.TargetGroupIDs, g)
		}
	}
	pr.PasskeyTypes = r.PostFormValue("passkeyTypes")
	pr.AttestationEnforcement = policy.AttestationEnforcementDisabled
	if r.PostFormValue("attestation") == "yes" {
		pr.AttestationEnforcement = policy.AttestationEnforcementRegistrationOnly
	}
	pr.KeyRestrictions.IsEnforced = r.PostFormValue("keyRestrictions") == "yes"
	pr.KeyRestrictions.EnforcementType = r.PostFormValue("enforcementType")
	pr.KeyRestrictions.AAGUIDs = []string{}
	for _, line := range strings.FieldsFunc(r.PostFormValue("aaguids"), func(c rune) bool { return c == '\n' || c == '\r' || c == ',' }) {
		if line = strings.TrimSpace(line); line != "" {
			pr.KeyRestrictions.AAGUIDs = append(pr.KeyRestrictions.AAGUIDs, line)
		}
	}
}

func (s *Pages) handleAdminPolicyAddProfile(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "added", func(p *policy.MethodsPolicy) error {
		if err := web.CheckOffered(r, profileChoices...); err != nil {
			return err
		}
		pr := policy.PasskeyProfile{ID: latchkey.NewID()}
		profileFromForm(r, &pr)
		p.Passkey.Profiles = append(p.Passkey.Profiles, pr)
		if r.PostFormValue("default") == "yes" {
			p.Passkey.DefaultProfileID = pr.ID
		}
		return nil
	})
}

// profileIndex returns the index of the profile the route names, or a not-found error.
func profileIndex(r *http.Request, p *policy.MethodsPolicy) (int, error) {
	id := r.PathValue("id")
	for i, pr := range p.Passkey.Profiles {
		if pr.ID == id {
			return i, nil
		}
	}
	return -1, latchkey.Errorf(latchkey.ENOTFOUND, "profile_not_found", "That passkey profile does not exist any more. Go back to the policy page and try again.",
		"no passkey profile with id %q", id)
}

func (s *Pages) handleAdminPolicyEditProfile(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "saved", func(p *policy.MethodsPolicy) error {
		i, err := profileIndex(r, p)
		if err != nil {
			return err
		}
		if err := web.CheckOffered(r, profileChoices...); err != nil {
			return err
		}
		profileFromForm(r, &p.Passkey.Profiles[i])
		return nil
	})
}

func (s *Pages) handleAdminPolicyDeleteProfile(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "deleted", func(p *policy.MethodsPolicy) error {
		i, err := profileIndex(r, p)
		if err != nil {
			return err
		}
		if pr := p.Passkey.Profiles[i]; pr.ID == p.Passkey.DefaultProfileID {
			return invalidForm("profile %q is the default passkey profile; choose another default before deleting it", pr.Name)
		}
		p.Passkey.Profiles = slices.Delete(p.Passkey.Profiles, i, i+1)
		return nil
	})
}

func (s *Pages) handleAdminPolicyDefault(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "default", func(p *policy.MethodsPolicy) error {
		p.Passkey.DefaultProfileID = r.PostFormValue("profile")
		return nil
	})
}

// handleAdminPolicyLegacy changes the password and TOTP methods and the registration campaign.
func (s *Pages) handleAdminPolicyLegacy(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "legacy", func(p *policy.MethodsPolicy) error {
		if err := web.CheckOffered(r, web.Offered{Field: "passwordState", Values: methodStates}, web.Offered{Field: "totpState", Values: methodStates},
			web.Offered{Field: "campaign", Values: web.Yes}, web.Offered{Field: "secondPasskey", Values: web.Yes}); err != nil {
			return err
		}
		pw := &p.Password
		pw.State = r.PostFormValue("passwordState")
		pw.IncludeTargets = formTargets(r, "passwordInclude")
		pw.ExcludeTargets = formTargets(r, "passwordExclude")
		var err error
		if pw.MinimumLength, err = formInt(r, "passwordMinLength", "minimum length of a password"); err != nil {
			return err
		}
		t := &p.TOTP
		t.State = r.PostFormValue("totpState")
		t.IncludeTargets = formTargets(r, "totpInclude")
		t.ExcludeTargets = formTargets(r, "totpExclude")
		c := &p.RegistrationCampaign
		c.State = policy.StateDisabled
		if r.PostFormValue("campaign") == "yes" {
			c.State = policy.StateEnabled
		}
		if c.SnoozesAllowed, err = formInt(r, "snoozesAllowed", "number of snoozes"); err != nil {
			return err
		}
		if _, sent := r.PostForm["unusedDays"]; sent { // a form without the reminder's fields keeps it
			c.SecondPasskey.State = policy.StateDisabled
			if r.PostFormValue("secondPasskey") == "yes" {
				c.SecondPasskey.State = policy.StateEnabled
			}
			if c.SecondPasskey.UnusedDays, err = formInt(r, "unusedDays", "number of days"); err != nil {
				return err
			}
		}
		return nil
	})
}
