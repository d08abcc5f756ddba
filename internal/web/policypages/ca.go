package policypages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/web"
)

// Conditional access pages for global admins: the policies with their lint (/admin/ca), a form
// to create or edit one (/admin/ca/new, /admin/ca/{id}), authentication strengths
// (/admin/strengths), named locations (/admin/locations) and what-if (/admin/whatif).

// caFinding is a lint finding in plain words with the people it names.
type caFinding struct {
	Code, Words, Detail, PolicyName string
	People                          []string
}

func findingWords(f policyadmin.LintFinding, strengthName string) string {
	switch f.Code {
	case policy.LintUsersCannotSatisfy:
		return fmt.Sprintf("These people have no sign-in method that meets %q, so they would be locked out:", strengthName)
	case policy.LintRegisterInfoParadox:
		return "Registering security info would need more than a temporary access pass, so nobody without a passkey could ever register one. Affected:"
	case policy.LintNoBreakGlass:
		return "The policy covers all users and leaves out no break-glass account (a global admin excluded by name). Global admins it covers:"
	case policy.LintBlocksEveryone:
		return "The policy blocks everybody, everywhere:"
	}
	return f.Message
}

func caFindings(pls []policyadmin.PolicyLint) []caFinding {
	var out []caFinding
	for _, pl := range pls {
		for _, f := range pl.Findings {
			out = append(out, caFinding{Code: f.Code, Words: findingWords(f, pl.StrengthName), Detail: f.Message, PolicyName: pl.Name, People: f.UserPrincipalNames})
		}
	}
	return out
}

// caRow is one policy on the list page.
type caRow struct {
	ID, Name, State, StateWords, Who, What, Grant string
	Findings                                      []caFinding
	Affected                                      int
}

// caLockout is a lint refusal shown on a page, with what is needed to confirm it.
type caLockout struct {
	Findings []caFinding
	Affected int
	Action   string            // where the confirming form posts
	Fields   map[string]string // hidden fields that repeat the change (state switch)
}

func (s *Pages) handleAdminCA(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	s.adminCA(w, r, a, nil, 0, nil)
}

func (s *Pages) adminCA(w http.ResponseWriter, r *http.Request, a latchkey.Actor, refusal *httpedge.ErrorBody, status int, lock *caLockout) {
	ctx := r.Context()
	cfg, err := s.policies.ConditionalAccess(ctx, a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	n, err := s.caNames(ctx, a, cfg)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	lints, err := s.policies.LintAll(ctx, a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	rows := make([]caRow, len(cfg.Policies))
	for i, p := range cfg.Policies {
		rows[i] = caRow{ID: p.ID, Name: p.Name, State: p.State, StateWords: stateWords(p.State), Who: n.who(p), What: n.what(p), Grant: n.grant(p)}
		for _, pl := range lints {
			if pl.PolicyID == p.ID {
				rows[i].Findings, rows[i].Affected = caFindings([]policyadmin.PolicyLint{pl}), pl.Affected
			}
		}
	}
	s.Render(w, r, "admin-ca", "Conditional access", web.View{Error: refusal, Status: status, Data: map[string]any{
		"Rows": rows, "Lockout": lock, "Notice": r.URL.Query().Get("notice"), "CanChange": authz.Can(a, authz.ActionWriteConditionalAccess),
		"States": []policyGroup{{policy.CAStateEnabled, "On"}, {policy.CAStateReportOnly, "Report-only"}, {policy.CAStateDisabled, "Off"}},
	}})
}

// formOverride reads the lockout override a page form carries (0 when empty).
func formOverride(r *http.Request) (int, error) {
	v := strings.TrimSpace(r.PostFormValue("lockoutOverride"))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, latchkey.Errorf(latchkey.EINVALID, "invalid_request", "Type the number of people affected as a whole number.", "lockoutOverride %q is not a whole number ≥ 0", v)
	}
	return n, nil
}

// lockoutOf returns the page's lockout panel for err, or nil when err is no lint refusal.
func (s *Pages) lockoutOf(r *http.Request, err error, action string, fields map[string]string) *caLockout {
	var le *policyadmin.LockoutError
	if !errors.As(err, &le) {
		return nil
	}
	return &caLockout{Findings: caFindings(le.Policies), Affected: le.Affected, Action: action, Fields: fields}
}

// caStates are the states the pages offer for a policy.
var caStates = web.Offered{Field: "state", Values: []string{policy.CAStateEnabled, policy.CAStateReportOnly, policy.CAStateDisabled}}

func (s *Pages) handleAdminCAState(w http.ResponseWriter, r *http.Request) {
	id, state := r.PathValue("id"), r.PostFormValue("state")
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	err := web.CheckOffered(r, caStates)
	var override int
	if err == nil {
		override, err = formOverride(r)
	}
	if err == nil {
		_, _, err = s.policies.SetCAPolicyState(r.Context(), a, id, state, override)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminCA(w, r, a, &body, status, s.lockoutOf(r, err, "/admin/ca/"+url.PathEscape(id)+"/state", map[string]string{"state": state}))
		return
	}
	http.Redirect(w, r, "/admin/ca?notice=state", http.StatusSeeOther)
}

func (s *Pages) handleAdminCADelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.DeleteCAPolicy(r.Context(), a, r.PathValue("id")); err != nil {
		status, body := s.PublicError(r, err)
		s.adminCA(w, r, a, &body, status, nil)
		return
	}
	http.Redirect(w, r, "/admin/ca?notice=deleted", http.StatusSeeOther)
}

// caForm is a policy as the edit form shows it.
type caForm struct {
	New                        bool
	P                          policy.ConditionalAccessPolicy
	UsersAll                   bool
	IncludeUPNs, ExcludeUPNs   string // one per line
	IncGroups, ExcGroups       map[string]bool
	IncAdmins, ExcAdmins       bool
	Target                     string // all, apps or register
	IncApps, ExcApps           map[string]bool
	IncPlat, ExcPlat           map[string]bool
	MinVersions                map[string]string
	LocAll                     bool
	IncLoc, ExcLoc, Clients    map[string]bool
	Grant, StrengthID, FreqHrs string
}

func toSet(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func (n *caNames) form(p policy.ConditionalAccessPolicy, isNew bool) caForm {
	u := p.Users
	f := caForm{New: isNew, P: p, UsersAll: slices.Contains(u.IncludeUsers, policy.All),
		IncGroups: toSet(u.IncludeGroups), ExcGroups: toSet(u.ExcludeGroups),
		IncAdmins: slices.Contains(u.IncludeRoles, latchkey.RoleGlobalAdmin), ExcAdmins: slices.Contains(u.ExcludeRoles, latchkey.RoleGlobalAdmin),
		IncApps: toSet(p.Applications.IncludeApplications), ExcApps: toSet(p.Applications.ExcludeApplications),
		IncPlat: toSet(p.Conditions.Platforms.IncludePlatforms), ExcPlat: toSet(p.Conditions.Platforms.ExcludePlatforms),
		MinVersions: p.Conditions.Platforms.MinimumVersions,
		LocAll:      slices.Contains(p.Conditions.Locations.IncludeLocations, policy.All),
		IncLoc:      toSet(p.Conditions.Locations.IncludeLocations), ExcLoc: toSet(p.Conditions.Locations.ExcludeLocations),
		Clients: toSet(p.Conditions.ClientTypes), Grant: "strength", StrengthID: p.Grant.StrengthID}
	if f.MinVersions == nil {
		f.MinVersions = map[string]string{}
	}
	upns := func(ids []string) string {
		var out []string
		for _, id := range ids {
			switch _, known := n.users[id]; {
			case id == policy.All:
			case !known && strings.Contains(id, "@"):
				out = append(out, id) // as typed in a refused form
			default:
				out = append(out, nameOr(n.users, id, "deleted user"))
			}
		}
		return strings.Join(out, "\n")
	}
	f.IncludeUPNs, f.ExcludeUPNs = upns(u.IncludeUsers), upns(u.ExcludeUsers)
	switch {
	case slices.Contains(p.Applications.IncludeUserActions, policy.UserActionRegisterSecurityInfo):
		f.Target = "register"
	case len(p.Applications.IncludeApplications) == 0 || slices.Contains(p.Applications.IncludeApplications, policy.All):
		f.Target = "all"
	default:
		f.Target = "apps"
	}
	if p.Grant.Block {
		f.Grant = "block"
	}
	if p.SignInFrequency != nil {
		f.FreqHrs = strconv.FormatFloat(p.SignInFrequency.Hours(), 'f', -1, 64)
	}
	return f
}

// policyFromForm reads the edit form. What the form cannot check (users, groups and apps that
// exist, the strength) the service checks.
func policyFromForm(r *http.Request) (policy.ConditionalAccessPolicy, error) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	p := policy.ConditionalAccessPolicy{Name: r.PostFormValue("name"), State: v("state")}
	if err := web.CheckOffered(r, caStates,
		web.Offered{Field: "users", Values: []string{"all", "selected"}}, web.Offered{Field: "target", Values: []string{"all", "apps", "register"}},
		web.Offered{Field: "grant", Values: []string{"block", "strength"}},
		web.Offered{Field: "includeAdmins", Values: web.Yes}, web.Offered{Field: "includeGuests", Values: web.Yes},
		web.Offered{Field: "excludeAdmins", Values: web.Yes}, web.Offered{Field: "excludeGuests", Values: web.Yes},
		web.Offered{Field: "includePlatforms", Values: policyadmin.Platforms, Many: true}, web.Offered{Field: "excludePlatforms", Values: policyadmin.Platforms, Many: true},
		web.Offered{Field: "clientTypes", Values: policyadmin.ClientTypes, Many: true}); err != nil {
		return p, err
	}
	u := &p.Users
	if v("users") == "all" {
		u.IncludeUsers = []string{policy.All}
	} else {
		u.IncludeUsers = web.Lines(r.PostFormValue("includeUsers"))
		u.IncludeGroups = r.PostForm["includeGroups"]
		if v("includeAdmins") == "yes" {
			u.IncludeRoles = []string{latchkey.RoleGlobalAdmin}
		}
		u.IncludeGuests = v("includeGuests") == "yes"
	}
	u.ExcludeUsers = web.Lines(r.PostFormValue("excludeUsers"))
	u.ExcludeGroups = r.PostForm["excludeGroups"]
	if v("excludeAdmins") == "yes" {
		u.ExcludeRoles = []string{latchkey.RoleGlobalAdmin}
	}
	u.ExcludeGuests = v("excludeGuests") == "yes"
	a := &p.Applications
	switch v("target") {
	case "register":
		a.IncludeUserActions = []string{policy.UserActionRegisterSecurityInfo}
	case "apps":
		a.IncludeApplications = r.PostForm["includeApps"]
		a.ExcludeApplications = r.PostForm["excludeApps"]
	default:
		a.IncludeApplications = []string{policy.All}
		a.ExcludeApplications = r.PostForm["excludeApps"]
	}
	pl := &p.Conditions.Platforms
	pl.IncludePlatforms, pl.ExcludePlatforms = r.PostForm["includePlatforms"], r.PostForm["excludePlatforms"]
	for _, name := range policyadmin.Platforms {
		if mv := v("minVersion_" + name); mv != "" {
			if pl.MinimumVersions == nil {
				pl.MinimumVersions = map[string]string{}
			}
			pl.MinimumVersions[name] = mv
		}
	}
	loc := &p.Conditions.Locations
	loc.IncludeLocations, loc.ExcludeLocations = r.PostForm["includeLocations"], r.PostForm["excludeLocations"]
	if len(loc.ExcludeLocations) > 0 && len(loc.IncludeLocations) == 0 {
		loc.IncludeLocations = []string{policy.All}
	}
	p.Conditions.ClientTypes = r.PostForm["clientTypes"]
	if v("grant") == "block" {
		p.Grant.Block = true
	} else {
		p.Grant.StrengthID = v("strength")
		if p.Grant.StrengthID == "" {
			return p, invalidCAForm("choose the authentication strength the policy requires, or Block access")
		}
	}
	if h := v("signInFrequencyHours"); h != "" {
		n, err := strconv.ParseFloat(h, 64)
		if err != nil || n <= 0 || n > 24*365 {
			return p, invalidCAForm("enter the sign-in frequency as a number of hours between 1 and 8760, or leave it empty")
		}
		p.SignInFrequency = &policy.Duration{Duration: time.Duration(n * float64(time.Hour)).Round(time.Minute)}
	}
	return p, nil
}

func invalidCAForm(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The conditional access policy is not valid: "+msg+".", "%s", msg)
}

// adminCAEdit renders the edit form for p.
func (s *Pages) adminCAEdit(w http.ResponseWriter, r *http.Request, a latchkey.Actor, p policy.ConditionalAccessPolicy, isNew bool, refusal *httpedge.ErrorBody, status int, lock *caLockout) {
	ctx := r.Context()
	cfg, err := s.policies.ConditionalAccess(ctx, a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	n, err := s.caNames(ctx, a, cfg)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	title := "Edit conditional access policy"
	if isNew {
		title = "New conditional access policy"
	}
	s.Render(w, r, "admin-ca-edit", title, web.View{Error: refusal, Status: status, Data: map[string]any{
		"Form": n.form(p, isNew), "Names": n, "Lockout": lock, "Platforms": policyadmin.Platforms,
		"CanChange":   authz.Can(a, authz.ActionWriteConditionalAccess),
		"ClientTypes": []policyGroup{{policy.ClientBrowser, "Browser"}, {policy.ClientMobileDesktop, "Mobile apps and desktop clients"}, {policy.ClientOther, "Other clients"}},
	}})
}

func (s *Pages) handleAdminCANew(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	p := policy.ConditionalAccessPolicy{State: policy.CAStateReportOnly,
		Users:        policy.Users{IncludeUsers: []string{policy.All}},
		Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant:        policy.Grant{StrengthID: policy.StrengthPhishingResistantMFA}}
	s.adminCAEdit(w, r, a, p, true, nil, 0, nil)
}

func (s *Pages) handleAdminCAEdit(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	p, err := s.policies.FindCAPolicy(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	s.adminCAEdit(w, r, a, p, false, nil, 0, nil)
}

func (s *Pages) handleAdminCACreate(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	s.saveCAForm(w, r, a, true, func(p policy.ConditionalAccessPolicy, override int) error {
		_, _, err := s.policies.CreateCAPolicy(r.Context(), a, p, override)
		return err
	})
}

func (s *Pages) handleAdminCAUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	if _, err := s.policies.FindCAPolicy(r.Context(), a, id); err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	s.saveCAForm(w, r, a, false, func(p policy.ConditionalAccessPolicy, override int) error {
		_, _, err := s.policies.UpdateCAPolicy(r.Context(), a, id, p, override)
		return err
	})
}

// saveCAForm reads the form and saves it; a refusal shows the form again as it was posted, with
// the lint's findings and the override field when the lint refused.
func (s *Pages) saveCAForm(w http.ResponseWriter, r *http.Request, a latchkey.Actor, isNew bool, save func(policy.ConditionalAccessPolicy, int) error) {
	p, err := policyFromForm(r)
	if err == nil {
		var override int
		if override, err = formOverride(r); err == nil {
			err = save(p, override)
		}
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		p.ID = r.PathValue("id")
		s.adminCAEdit(w, r, a, p, isNew, &body, status, s.lockoutOf(r, err, "", nil))
		return
	}
	http.Redirect(w, r, "/admin/ca?notice=saved", http.StatusSeeOther)
}
