package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
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

func (s *Server) handleAdminPolicy(w http.ResponseWriter, r *http.Request) {
	s.adminPolicy(w, r, nil, 0)
}

// adminPolicy shows the stored authentication methods policy with its forms, and refusal above
// them when a change was refused.
func (s *Server) adminPolicy(w http.ResponseWriter, r *http.Request, refusal *ErrorBody, status int) {
	ctx := r.Context()
	p, err := s.auth.MethodsPolicy(ctx)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	groups, err := s.store.ListGroups(ctx)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	names := map[string]string{policy.AllUsers: "All users"}
	pgs := make([]policyGroup, len(groups))
	for i, g := range groups {
		names[g.ID] = g.DisplayName
		pgs[i] = policyGroup{ID: g.ID, Name: g.DisplayName}
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
	profiles := make([]policyProfile, len(p.Passkey.Profiles))
	for i, pr := range p.Passkey.Profiles {
		v := policyProfile{PasskeyProfile: pr, Default: pr.ID == p.Passkey.DefaultProfileID,
			TypesWords: passkeyTypesWords(pr.PasskeyTypes), AAGUIDLines: strings.Join(pr.KeyRestrictions.AAGUIDs, "\n")}
		for _, g := range pr.TargetGroupIDs {
			v.GroupNames = append(v.GroupNames, nameOf(g))
		}
		for _, a := range pr.KeyRestrictions.AAGUIDs {
			v.AAGUIDs = append(v.AAGUIDs, policyAAGUID{AAGUID: a, Provider: passkey.ProviderName(a)})
		}
		profiles[i] = v
	}
	s.render(w, r, "admin-policy", "Authentication methods policy", view{Error: refusal, Status: status, Data: map[string]any{
		"Policy":          p,
		"Groups":          pgs,
		"Profiles":        profiles,
		"PasskeyInclude":  targetNames(p.Passkey.IncludeTargets),
		"PasskeyExclude":  targetNames(p.Passkey.ExcludeTargets),
		"TAPInclude":      targetNames(p.TemporaryAccessPass.IncludeTargets),
		"TAPExclude":      targetNames(p.TemporaryAccessPass.ExcludeTargets),
		"PasskeyIncIDs":   targetIDs(p.Passkey.IncludeTargets),
		"PasskeyExcIDs":   targetIDs(p.Passkey.ExcludeTargets),
		"TAPIncIDs":       targetIDs(p.TemporaryAccessPass.IncludeTargets),
		"TAPExcIDs":       targetIDs(p.TemporaryAccessPass.ExcludeTargets),
		"PasswordInclude": targetNames(p.Password.IncludeTargets),
		"PasswordExclude": targetNames(p.Password.ExcludeTargets),
		"TOTPInclude":     targetNames(p.TOTP.IncludeTargets),
		"TOTPExclude":     targetNames(p.TOTP.ExcludeTargets),
		"PasswordIncIDs":  targetIDs(p.Password.IncludeTargets),
		"PasswordExcIDs":  targetIDs(p.Password.ExcludeTargets),
		"TOTPIncIDs":      targetIDs(p.TOTP.IncludeTargets),
		"TOTPExcIDs":      targetIDs(p.TOTP.ExcludeTargets),
		"AllUsers":        policy.AllUsers,
		"Notice":          r.URL.Query().Get("notice"),
	}})
}

// changePolicy loads the stored policy, lets change edit it and stores the result. A refusal
// (from change, Validate or an unknown group) re-renders the page with it; nothing is stored.
func (s *Server) changePolicy(w http.ResponseWriter, r *http.Request, notice string, change func(*policy.MethodsPolicy) error) {
	ctx := r.Context()
	p, err := s.auth.MethodsPolicy(ctx)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if err = change(&p); err == nil {
		err = s.auth.SetMethodsPolicy(ctx, p)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.errorPage(w, r, err)
		return
	}
	if err != nil {
		status, body := s.publicError(r, err)
		s.adminPolicy(w, r, &body, status)
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

func (s *Server) handleAdminPolicyMethods(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "methods", func(p *policy.MethodsPolicy) error {
		if err := checkOffered(r, offered{field: "passkeyState", values: methodStates}, offered{field: "tapState", values: methodStates},
			offered{field: "selfService", values: yes}, offered{field: "userVerification", values: yes},
			offered{field: "guestRegistration", values: yes}, offered{field: "tapOneTime", values: yes}); err != nil {
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
var profileChoices = []offered{
	{field: "passkeyTypes", values: []string{policy.PasskeyTypesDeviceBound, policy.PasskeyTypesSynced, policy.PasskeyTypesBoth}},
	{field: "attestation", values: yes}, {field: "keyRestrictions", values: yes}, {field: "default", values: yes},
	{field: "enforcementType", values: []string{policy.EnforcementAllow, policy.EnforcementBlock}},
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

func (s *Server) handleAdminPolicyAddProfile(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "added", func(p *policy.MethodsPolicy) error {
		if err := checkOffered(r, profileChoices...); err != nil {
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

func (s *Server) handleAdminPolicyEditProfile(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "saved", func(p *policy.MethodsPolicy) error {
		i, err := profileIndex(r, p)
		if err != nil {
			return err
		}
		if err := checkOffered(r, profileChoices...); err != nil {
			return err
		}
		profileFromForm(r, &p.Passkey.Profiles[i])
		return nil
	})
}

func (s *Server) handleAdminPolicyDeleteProfile(w http.ResponseWriter, r *http.Request) {
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

func (s *Server) handleAdminPolicyDefault(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "default", func(p *policy.MethodsPolicy) error {
		p.Passkey.DefaultProfileID = r.PostFormValue("profile")
		return nil
	})
}
