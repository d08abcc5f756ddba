package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Conditional access policy states, as in Graph.
const (
	CAStateEnabled    = "enabled"
	CAStateDisabled   = "disabled"
	CAStateReportOnly = "enabledForReportingButNotEnforced"
)

// All is the Graph keyword for every user, application, platform or location.
const All = "All"

// UserActionRegisterSecurityInfo is the user action of registering a passkey or other method.
const UserActionRegisterSecurityInfo = "registerSecurityInformation"

// Platforms (Graph's devicePlatform values, with linux and other).
const (
	PlatformWindows = "windows"
	PlatformMacOS   = "macOS"
	PlatformIOS     = "iOS"
	PlatformAndroid = "android"
	PlatformLinux   = "linux"
	PlatformOther   = "other"
)

var knownPlatforms = []string{PlatformWindows, PlatformMacOS, PlatformIOS, PlatformAndroid, PlatformLinux, PlatformOther, All}

// Client types (Graph's clientAppTypes).
const (
	ClientBrowser       = "browser"
	ClientMobileDesktop = "mobileAppsAndDesktopClients"
	ClientOther         = "other"
)

// Per-policy results recorded on each sign-in (DESIGN §5).
const (
	ResultSuccess               = "success"
	ResultFailure               = "failure"
	ResultNotApplied            = "notApplied"
	ResultReportOnlySuccess     = "reportOnlySuccess"
	ResultReportOnlyFailure     = "reportOnlyFailure"
	ResultReportOnlyNotApplied  = "reportOnlyNotApplied"
	ResultReportOnlyInterrupted = "reportOnlyInterrupted"
)

// Overall decisions.
const (
	DecisionAllow  = "allow"
	DecisionBlock  = "block"
	DecisionStepUp = "stepUp"
)

// Refusal codes of conditional access.
const (
	CodeBlockedByPolicy  = "blocked_by_policy"
	CodeStrengthRequired = "strength_required"
	CodeSignInTooOld     = "sign_in_frequency"
	CodeUnknownStrength  = "unknown_strength"
)

// ConditionalAccessPolicy is who, what, under which conditions, and the grant, shaped like
// Graph's conditionalAccessPolicy (conditions.users, conditions.applications, platforms,
// locations, clientAppTypes, grantControls, sessionControls.signInFrequency).
type ConditionalAccessPolicy struct {
	ID              string       `json:"id"`
	Name            string       `json:"displayName"`
	State           string       `json:"state"`
	Users           Users        `json:"users"`
	Applications    Applications `json:"applications"`
	Conditions      Conditions   `json:"conditions"`
	Grant           Grant        `json:"grantControls"`
	SignInFrequency *Duration    `json:"signInFrequency,omitempty"`
}

// Users says who a policy covers. Exclusions win over inclusions.
type Users struct {
	IncludeUsers  []string `json:"includeUsers"` // user ids, or All
	ExcludeUsers  []string `json:"excludeUsers"`
	IncludeGroups []string `json:"includeGroups"`
	ExcludeGroups []string `json:"excludeGroups"`
	IncludeRoles  []string `json:"includeRoles"`
	ExcludeRoles  []string `json:"excludeRoles"`
	IncludeGuests bool     `json:"includeGuestsOrExternalUsers"`
	ExcludeGuests bool     `json:"excludeGuestsOrExternalUsers"`
}

// Applications says what a policy covers: applications (client ids, or All) or user actions.
// A policy with user actions covers those actions only.
type Applications struct {
	IncludeApplications []string `json:"includeApplications"`
	ExcludeApplications []string `json:"excludeApplications"`
	IncludeUserActions  []string `json:"includeUserActions"`
}

// Conditions narrow a policy further; an empty condition matches everything.
type Conditions struct {
	Platforms   Platforms `json:"platforms"`
	Locations   Locations `json:"locations"`
	ClientTypes []string  `json:"clientAppTypes"` // empty or All: any
}

// Platforms matches the device platform from UA client hints. MinimumVersions narrows an
// included platform to devices at or above a version ("13", "10.0.22621"): a staging aid, so
// that a strong demand reaches only devices able to meet it (DESIGN §5 readiness). A request
// whose version is unknown does not reach a minimum.
type Platforms struct {
	IncludePlatforms []string          `json:"includePlatforms"`
	ExcludePlatforms []string          `json:"excludePlatforms"`
	MinimumVersions  map[string]string `json:"minimumVersions,omitempty"`
}

// Locations matches the client address against named locations (sets of CIDR prefixes).
type Locations struct {
	IncludeLocations []string `json:"includeLocations"` // names, or All
	ExcludeLocations []string `json:"excludeLocations"`
}

// Grant is what an applicable policy demands: block, or a strength.
type Grant struct {
	Block      bool   `json:"block"`
	StrengthID string `json:"authenticationStrengthId,omitempty"`
}

// Validate checks p's state, grant, platforms and sign-in frequency against strengths.
func (p *ConditionalAccessPolicy) Validate(strengths map[string]Strength) error {
	bad := func(format string, args ...any) error {
		s := fmt.Sprintf(format, args...)
		return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The conditional access policy is not valid: "+s+".", "%s", s)
	}
	p.ID, p.Name = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name)
	switch {
	case p.ID == "" || p.Name == "":
		return bad("a policy needs an id and a name")
	case p.State != CAStateEnabled && p.State != CAStateDisabled && p.State != CAStateReportOnly:
		return bad("policy %q: state must be enabled, disabled or enabledForReportingButNotEnforced, not %q", p.Name, p.State)
	case p.Grant.Block == (p.Grant.StrengthID != ""):
		return bad("policy %q: the grant must either block or require a strength", p.Name)
	case len(p.Applications.IncludeApplications) == 0 && len(p.Applications.IncludeUserActions) == 0:
		return bad("policy %q: choose applications (or All) or a user action", p.Name)
	case p.SignInFrequency != nil && p.SignInFrequency.Duration <= 0:
		return bad("policy %q: the sign-in frequency must be positive", p.Name)
	}
	if _, ok := strengths[p.Grant.StrengthID]; p.Grant.StrengthID != "" && !ok {
		return bad("policy %q: strength %q does not exist", p.Name, p.Grant.StrengthID)
	}
	for _, a := range p.Applications.IncludeUserActions {
		if a != UserActionRegisterSecurityInfo {
			return bad("policy %q: %q is not a user action (only %s)", p.Name, a, UserActionRegisterSecurityInfo)
		}
	}
	for _, pl := range slices.Concat(p.Conditions.Platforms.IncludePlatforms, p.Conditions.Platforms.ExcludePlatforms) {
		if !slices.Contains(knownPlatforms, pl) {
			return bad("policy %q: %q is not a platform (use %s)", p.Name, pl, strings.Join(knownPlatforms, ", "))
		}
	}
	return nil
}

// Principal is who is signing in, as conditional access sees them.
type Principal struct {
	ID       string   `json:"id"`
	GroupIDs []string `json:"groupIds"`
	Roles    []string `json:"roles"`
	IsGuest  bool     `json:"isGuest"`
}

// Request is one sign-in (or one user action) to evaluate.
type Request struct {
	User            Principal                 `json:"user"`
	App             string                    `json:"app,omitempty"`        // client id
	UserAction      string                    `json:"userAction,omitempty"` // instead of App
	Platform        string                    `json:"platform"`
	PlatformVersion string                    `json:"platformVersion"`
	IP              netip.Addr                `json:"ip"`
	NamedLocations  map[string][]netip.Prefix `json:"-"`
	ClientType      string                    `json:"clientType"`
	Presented       AuthenticationContext     `json:"presented"`
	// AuthAge is how long ago Presented was performed, for sign-in frequency.
	AuthAge time.Duration `json:"authAge"`
	// Registered are the methods the user could step up with; a report-only policy whose
	// strength one of them meets records reportOnlyInterrupted rather than reportOnlyFailure.
	Registered []AuthenticationContext `json:"-"`
}

// PolicyResult is one policy's result for one request.
type PolicyResult struct {
	PolicyID   string          `json:"policyId"`
	Name       string          `json:"displayName"`
	Result     string          `json:"result"`
	StrengthID string          `json:"authenticationStrengthId,omitempty"`
	Detail     string          `json:"detail"` // why, for the admin
	Refusal    *latchkey.Error `json:"-"`      // on failure only
}

// Evaluation is the outcome of EvaluateConditionalAccess.
type Evaluation struct {
	Decision string `json:"decision"`
	// StepUpTo are the strengths an enforced policy demands that the sign-in did not meet; one
	// new sign-in must meet all of them.
	StepUpTo []string          `json:"stepUpTo,omitempty"`
	Results  []PolicyResult    `json:"results"`
	Refusals []*latchkey.Error `json:"-"`
}

// EvaluateConditionalAccess evaluates every policy against req. A policy applies when its state
// is not disabled and the user, the application or user action, the platform, the location and
// the client type all match (each exclusion winning over its inclusion). An applicable policy
// that blocks fails; one that demands a strength succeeds when req.Presented meets it and the
// sign-in is no older than the policy's sign-in frequency. Report-only policies record their
// results and never change the decision. The decision is block when an enforced policy fails by
// blocking, step up when enforced strengths are unmet, and allow otherwise.
func EvaluateConditionalAccess(policies []ConditionalAccessPolicy, strengths map[string]Strength, req Request) Evaluation {
	ev := Evaluation{Decision: DecisionAllow, Results: make([]PolicyResult, 0, len(policies))}
	blocked := false
	memo := map[string]strengthVerdict{} // many policies share a few strengths
	for i := range policies {
		p := &policies[i]
		r := evaluateOne(p, strengths, req, memo)
		ev.Results = append(ev.Results, r)
		if r.Result != ResultFailure {
			continue
		}
		ev.Refusals = append(ev.Refusals, r.Refusal)
		if p.Grant.Block || r.Refusal.Code == CodeUnknownStrength {
			blocked = true
		} else if !slices.Contains(ev.StepUpTo, p.Grant.StrengthID) {
			ev.StepUpTo = append(ev.StepUpTo, p.Grant.StrengthID)
		}
	}
	switch {
	case blocked:
		ev.Decision, ev.StepUpTo = DecisionBlock, nil
	case len(ev.StepUpTo) > 0:
		ev.Decision = DecisionStepUp
	}
	return ev
}

// strengthVerdict is whether a request's presented context and registered methods meet one
// strength, computed once per evaluation.
type strengthVerdict struct {
	met, registered bool
	why             string
}

func evaluateOne(p *ConditionalAccessPolicy, strengths map[string]Strength, req Request, memo map[string]strengthVerdict) PolicyResult {
	r := PolicyResult{PolicyID: p.ID, Name: p.Name, StrengthID: p.Grant.StrengthID}
	report := p.State == CAStateReportOnly
	pick := func(enforced, reportOnly string) string {
		if report {
			return reportOnly
		}
		return enforced
	}
	if p.State == CAStateDisabled {
		r.Result, r.Detail = ResultNotApplied, "the policy is off"
		return r
	}
	if ok, why := applies(p, req); !ok {
		r.Result, r.Detail = pick(ResultNotApplied, ResultReportOnlyNotApplied), why
		return r
	}
	if p.Grant.Block {
		r.Result, r.Detail = pick(ResultFailure, ResultReportOnlyFailure), "the policy blocks access"
		r.Refusal = latchkey.Errorf(latchkey.EFORBIDDEN, CodeBlockedByPolicy,
			"Your organisation doesn't allow signing in to this from here. Ask IT if you need it.",
			"conditional access policy %q (%s) applies and blocks access", p.Name, p.ID)
		return r
	}
	s, ok := strengths[p.Grant.StrengthID]
	if !ok {
		r.Result, r.Detail = pick(ResultFailure, ResultReportOnlyFailure), "unknown strength"
		r.Refusal = latchkey.Errorf(latchkey.EFORBIDDEN, CodeUnknownStrength,
			"Sign-in is not set up correctly for this. Ask IT to check it.",
			"conditional access policy %q demands strength %q, which does not exist; failing closed", p.Name, p.Grant.StrengthID)
		return r
	}
	v, ok := memo[s.ID]
	if !ok {
		v.met, v.why = s.SatisfiedBy(req.Presented)
		v.registered = anySatisfies(s, req.Registered)
		memo[s.ID] = v
	}
	met, why := v.met, v.why
	r.Detail = why
	if met && p.SignInFrequency != nil && req.AuthAge > p.SignInFrequency.Duration {
		met = false
		r.Detail = fmt.Sprintf("the sign-in is %s old and the policy's sign-in frequency is %s", req.AuthAge.Round(time.Second), p.SignInFrequency)
		r.Refusal = latchkey.Errorf(latchkey.EFORBIDDEN, CodeSignInTooOld,
			"Please sign in again to continue.", "conditional access policy %q: %s", p.Name, r.Detail)
	}
	if met {
		r.Result = pick(ResultSuccess, ResultReportOnlySuccess)
		return r
	}
	if r.Refusal == nil {
		r.Refusal = latchkey.Errorf(latchkey.EFORBIDDEN, CodeStrengthRequired,
			StrengthMessage(s), "conditional access policy %q: %s", p.Name, why)
	}
	switch {
	case !report:
		r.Result = ResultFailure
	case r.Refusal.Code == CodeSignInTooOld || v.registered:
		r.Result = ResultReportOnlyInterrupted
	default:
		r.Result = ResultReportOnlyFailure
	}
	return r
}

// StrengthMessage tells the person, in plain words, what would meet s.
func StrengthMessage(s Strength) string {
	switch {
	case s.PasskeyConditions != nil && slices.Equal(s.PasskeyConditions.Kinds, []string{latchkey.KindDeviceBound}):
		return "This needs a passkey kept on a security key or on this device (not one synced between devices). Sign in with one, or ask IT for help."
	case !slices.Contains(s.AllowedCombinations, CombinationTAP) && !slices.Contains(s.AllowedCombinations, CombinationPasswordTOTP):
		return "This needs a passkey. Sign in with your passkey, or ask IT to help you add one."
	}
	return "This needs a stronger sign-in. Sign in with a passkey or a second step."
}

func anySatisfies(s Strength, ctxs []AuthenticationContext) bool {
	for _, c := range ctxs {
		if ok, _ := s.SatisfiedBy(c); ok {
			return true
		}
	}
	return false
}

// applies reports whether p covers req, and if not, why.
func applies(p *ConditionalAccessPolicy, req Request) (bool, string) {
	if ok, why := inUserScope(p.Users, req.User); !ok {
		return false, why
	}
	a := p.Applications
	if req.UserAction != "" {
		if !slices.Contains(a.IncludeUserActions, req.UserAction) {
			return false, "the policy does not cover user action " + req.UserAction
		}
	} else {
		switch {
		case len(a.IncludeUserActions) > 0 && len(a.IncludeApplications) == 0:
			return false, "the policy covers user actions only"
		case slices.Contains(a.ExcludeApplications, req.App):
			return false, "application " + req.App + " is excluded"
		case !slices.Contains(a.IncludeApplications, All) && !slices.Contains(a.IncludeApplications, req.App):
			return false, "application " + req.App + " is not included"
		}
	}
	if ok, why := platformMatches(p.Conditions.Platforms, req.Platform, req.PlatformVersion); !ok {
		return false, why
	}
	if ok, why := locationMatches(p.Conditions.Locations, req.IP, req.NamedLocations); !ok {
		return false, why
	}
	if ct := p.Conditions.ClientTypes; len(ct) > 0 && !slices.Contains(ct, All) && !slices.Contains(ct, req.ClientType) {
		return false, "client type " + orUnknown(req.ClientType) + " is not included"
	}
	return true, "all conditions match"
}

// inUserScope reports whether u is covered by us; exclusions win.
func inUserScope(us Users, u Principal) (bool, string) {
	switch {
	case slices.Contains(us.ExcludeUsers, u.ID):
		return false, "user " + u.ID + " is excluded"
	case intersects(us.ExcludeGroups, u.GroupIDs):
		return false, "a group of user " + u.ID + " is excluded"
	case intersects(us.ExcludeRoles, u.Roles):
		return false, "a role of user " + u.ID + " is excluded"
	case us.ExcludeGuests && u.IsGuest:
		return false, "guests are excluded"
	}
	if slices.Contains(us.IncludeUsers, All) || slices.Contains(us.IncludeUsers, u.ID) ||
		intersects(us.IncludeGroups, u.GroupIDs) || intersects(us.IncludeRoles, u.Roles) || us.IncludeGuests && u.IsGuest {
		return true, ""
	}
	return false, "user " + u.ID + " is not included"
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func platformMatches(pc Platforms, platform, version string) (bool, string) {
	if len(pc.IncludePlatforms) == 0 && len(pc.ExcludePlatforms) == 0 {
		return true, ""
	}
	if platform == "" {
		platform = PlatformOther
	}
	if slices.Contains(pc.ExcludePlatforms, platform) || slices.Contains(pc.ExcludePlatforms, All) {
		return false, "platform " + platform + " is excluded"
	}
	if len(pc.IncludePlatforms) > 0 && !slices.Contains(pc.IncludePlatforms, All) && !slices.Contains(pc.IncludePlatforms, platform) {
		return false, "platform " + platform + " is not included"
	}
	if min, ok := pc.MinimumVersions[platform]; ok {
		if version == "" {
			return false, "the version of " + platform + " is unknown, so it does not reach the minimum " + min
		}
		if compareVersions(version, min) < 0 {
			return false, platform + " " + version + " is below the minimum " + min
		}
	}
	return true, ""
}

// compareVersions compares dotted numeric versions ("10.0.22621" < "13"); a part that is not a
// number counts as 0.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.TrimSpace(pa[i]))
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(strings.TrimSpace(pb[i]))
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func locationMatches(lc Locations, ip netip.Addr, named map[string][]netip.Prefix) (bool, string) {
	if len(lc.IncludeLocations) == 0 && len(lc.ExcludeLocations) == 0 {
		return true, ""
	}
	in := func(name string) bool {
		for _, pf := range named[name] {
			if ip.IsValid() && pf.Contains(ip.Unmap()) {
				return true
			}
		}
		return false
	}
	for _, n := range lc.ExcludeLocations {
		if n == All || in(n) {
			return false, "address " + ip.String() + " is in excluded location " + n
		}
	}
	if len(lc.IncludeLocations) == 0 || slices.Contains(lc.IncludeLocations, All) {
		return true, ""
	}
	for _, n := range lc.IncludeLocations {
		if in(n) {
			return true, ""
		}
	}
	return false, "address " + ip.String() + " is in no included location"
}
