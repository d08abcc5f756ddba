package policypages

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/web"
)

// Authentication strengths, named locations and what-if pages (see pages_ca.go).

// combinationWords says what a method combination is, in plain words.
var combinationWords = []policyGroup{
	{policy.CombinationPasskey, "Passkey (any kind, with PIN or biometric)"},
	{policy.CombinationFederatedPhishingResistant, "Partner sign-in that the partner says is phishing-resistant (when trusted)"},
	{policy.CombinationTAP, "Temporary access pass"},
	{policy.CombinationPasswordTOTP, "Password and authenticator-app code"},
	{policy.CombinationFederatedMFA, "Partner sign-in with MFA (when trusted)"},
	{policy.CombinationPassword, "Password alone"},
	{policy.CombinationTOTP, "Authenticator-app code alone"},
}

func combinationWord(c string) string {
	for _, w := range combinationWords {
		if w.ID == c {
			return w.Name
		}
	}
	return c
}

// strengthRow is a strength as the strengths page shows it.
type strengthRow struct {
	policy.Strength
	Combinations []string
	Conditions   []string
	UsedBy       []string
}

func (s *Pages) handleAdminStrengths(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	s.adminStrengths(w, r, a, nil, 0, nil)
}

func (s *Pages) adminStrengths(w http.ResponseWriter, r *http.Request, a latchkey.Actor, refusal *httpedge.ErrorBody, status int, form map[string]any) {
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	var rows []strengthRow
	for _, st := range policyadmin.AllStrengths(cfg) {
		row := strengthRow{Strength: st, UsedBy: cfg.StrengthUsedBy(st.ID)}
		for _, c := range st.AllowedCombinations {
			row.Combinations = append(row.Combinations, combinationWord(c))
		}
		if pc := st.PasskeyConditions; pc != nil {
			if len(pc.Kinds) > 0 {
				row.Conditions = append(row.Conditions, "passkeys of kind "+strings.Join(pc.Kinds, " or ")+" only")
			}
			if pc.AttestationRequired {
				row.Conditions = append(row.Conditions, "attested passkeys only (verified against imported FIDO metadata)")
			}
			for _, a := range pc.AllowedAAGUIDs {
				w := "allowed: " + a
				if name := policyadmin.ProviderName(a); name != "" {
					w += " (" + name + ")"
				}
				row.Conditions = append(row.Conditions, w)
			}
		}
		rows = append(rows, row)
	}
	if form == nil {
		form = map[string]any{"Combos": map[string]bool{policy.CombinationPasskey: true}, "Kinds": map[string]bool{}}
	}
	s.Render(w, r, "admin-strengths", "Authentication strengths", web.View{Error: refusal, Status: status, Data: map[string]any{
		"Rows": rows, "Combinations": combinationWords, "Form": form, "Notice": r.URL.Query().Get("notice"),
		"CanChange": authz.Can(a, authz.ActionWriteConditionalAccess),
		"Kinds":     []policyGroup{{latchkey.KindDeviceBound, "Device-bound (security keys, passkeys that stay on one device)"}, {latchkey.KindSynced, "Synced (copied between devices by a password manager)"}},
	}})
}

func (s *Pages) handleAdminStrengthCreate(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	st := policy.Strength{Name: r.PostFormValue("name"), Description: strings.TrimSpace(r.PostFormValue("description")),
		AllowedCombinations: r.PostForm["combinations"]}
	kinds, aaguids := r.PostForm["kinds"], web.Lines(r.PostFormValue("aaguids"))
	attest := r.PostFormValue("attestationRequired") == "yes"
	if len(kinds) > 0 || len(aaguids) > 0 || attest {
		st.PasskeyConditions = &policy.PasskeyConditions{Kinds: kinds, AllowedAAGUIDs: aaguids, AttestationRequired: attest}
	}
	err := web.CheckOffered(r, web.Offered{Field: "attestationRequired", Values: web.Yes})
	if err == nil {
		_, err = s.policies.CreateStrength(r.Context(), a, st)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminStrengths(w, r, a, &body, status, map[string]any{"Name": st.Name, "Description": st.Description,
			"Combos": toSet(st.AllowedCombinations), "Kinds": toSet(kinds), "AAGUIDs": strings.Join(aaguids, "\n"), "Attest": attest})
		return
	}
	http.Redirect(w, r, "/admin/strengths?notice=saved", http.StatusSeeOther)
}

func (s *Pages) handleAdminStrengthDelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.DeleteStrength(r.Context(), a, r.PathValue("id")); err != nil {
		status, body := s.PublicError(r, err)
		s.adminStrengths(w, r, a, &body, status, nil)
		return
	}
	http.Redirect(w, r, "/admin/strengths?notice=deleted", http.StatusSeeOther)
}

// locationRow is a named location as its page shows it.
type locationRow struct {
	policy.NamedLocation
	Ranges string // one per line, for the edit form
	UsedBy []string
}

func (s *Pages) handleAdminLocations(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	s.adminLocations(w, r, a, nil, 0, nil)
}

func (s *Pages) adminLocations(w http.ResponseWriter, r *http.Request, a latchkey.Actor, refusal *httpedge.ErrorBody, status int, form map[string]any) {
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	rows := make([]locationRow, len(cfg.NamedLocations))
	for i, l := range cfg.NamedLocations {
		rows[i] = locationRow{NamedLocation: l, Ranges: strings.Join(l.CIDRs, "\n"), UsedBy: cfg.LocationUsedBy(l.ID)}
	}
	s.Render(w, r, "admin-locations", "Named locations", web.View{Error: refusal, Status: status, Data: map[string]any{
		"Rows": rows, "Form": form, "Notice": r.URL.Query().Get("notice"), "CanChange": authz.Can(a, authz.ActionWriteConditionalAccess)}})
}

func locationFromForm(r *http.Request) policy.NamedLocation {
	return policy.NamedLocation{Name: r.PostFormValue("name"), CIDRs: web.Lines(strings.ReplaceAll(r.PostFormValue("ranges"), ",", "\n")),
		IsTrusted: r.PostFormValue("trusted") == "yes"}
}

func (s *Pages) handleAdminLocationCreate(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	l := locationFromForm(r)
	err := web.CheckOffered(r, web.Offered{Field: "trusted", Values: web.Yes})
	if err == nil {
		_, err = s.policies.CreateNamedLocation(r.Context(), a, l)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminLocations(w, r, a, &body, status, map[string]any{"Name": l.Name, "Ranges": r.PostFormValue("ranges"), "Trusted": l.IsTrusted})
		return
	}
	http.Redirect(w, r, "/admin/locations?notice=saved", http.StatusSeeOther)
}

func (s *Pages) handleAdminLocationUpdate(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	err := web.CheckOffered(r, web.Offered{Field: "trusted", Values: web.Yes})
	if err == nil {
		_, err = s.policies.UpdateNamedLocation(r.Context(), a, r.PathValue("id"), locationFromForm(r))
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminLocations(w, r, a, &body, status, nil)
		return
	}
	http.Redirect(w, r, "/admin/locations?notice=saved", http.StatusSeeOther)
}

func (s *Pages) handleAdminLocationDelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.DeleteNamedLocation(r.Context(), a, r.PathValue("id")); err != nil {
		status, body := s.PublicError(r, err)
		s.adminLocations(w, r, a, &body, status, nil)
		return
	}
	http.Redirect(w, r, "/admin/locations?notice=deleted", http.StatusSeeOther)
}

func (s *Pages) handleAdminWhatIf(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	s.adminWhatIf(w, r, a, policyadmin.WhatIfInput{ClientType: policy.ClientBrowser}, nil, nil, 0)
}

func (s *Pages) handleAdminWhatIfForm(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	in := policyadmin.WhatIfInput{User: r.PostFormValue("user"), Platform: r.PostFormValue("platform"),
		PlatformVersion: r.PostFormValue("platformVersion"), IP: r.PostFormValue("ip"), ClientType: r.PostFormValue("clientType")}
	if t := r.PostFormValue("target"); t == "action:"+policy.UserActionRegisterSecurityInfo {
		in.UserAction = policy.UserActionRegisterSecurityInfo
	} else {
		in.App = strings.TrimPrefix(t, "app:")
	}
	rep, err := s.policies.WhatIf(r.Context(), a, in)
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminWhatIf(w, r, a, in, nil, &body, status)
		return
	}
	s.adminWhatIf(w, r, a, in, rep, nil, http.StatusOK)
}

func (s *Pages) adminWhatIf(w http.ResponseWriter, r *http.Request, a latchkey.Actor, in policyadmin.WhatIfInput, rep *policyadmin.WhatIfReport, refusal *httpedge.ErrorBody, status int) {
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	n, err := s.caNames(r.Context(), a, cfg)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	target := "app:" + in.App
	if in.UserAction != "" {
		target = "action:" + in.UserAction
	}
	data := map[string]any{"In": in, "Target": target, "Names": n, "Report": rep, "Platforms": policyadmin.Platforms,
		"ClientTypes": []policyGroup{{policy.ClientBrowser, "Browser"}, {policy.ClientMobileDesktop, "Mobile apps and desktop clients"}, {policy.ClientOther, "Other clients"}}}
	if rep != nil {
		var demanded, reportOnly []string
		for _, id := range rep.Result.Demanded {
			demanded = append(demanded, rep.Strengths[id])
		}
		for _, id := range rep.Result.ReportOnlyDemanded {
			reportOnly = append(reportOnly, rep.Strengths[id])
		}
		data["Demanded"], data["ReportOnlyDemanded"] = demanded, reportOnly
		states := map[string]string{}
		for _, p := range rep.Policies {
			states[p.PolicyID] = stateWords(p.State)
		}
		data["States"] = states
	}
	s.Render(w, r, "admin-whatif", "What if", web.View{Error: refusal, Status: status, Data: data})
}
