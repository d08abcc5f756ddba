package policyadmin

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// WhatIfInput is a sign-in to imagine: who, to what, from where.
type WhatIfInput struct {
	User            string `json:"user"`                 // id or UPN
	App             string `json:"app,omitempty"`        // client id
	UserAction      string `json:"userAction,omitempty"` // instead of App
	Platform        string `json:"platform,omitempty"`
	PlatformVersion string `json:"platformVersion,omitempty"`
	IP              string `json:"ip,omitempty"`
	ClientType      string `json:"clientType,omitempty"`
}

// WhatIfPolicy is one applicable policy's result, with what it demands in words.
type WhatIfPolicy struct {
	policy.PolicyResult
	State        string `json:"state"`
	Grant        string `json:"grant"` // "block", or the strength's name
	StrengthName string `json:"authenticationStrengthName,omitempty"`
}

// WhatIfMethod is one of the user's registered methods and whether it meets what is demanded.
type WhatIfMethod struct {
	Description string `json:"description"`
	// MeetsEnforced: it meets every strength enforced policies demand; MeetsAll: also those of
	// report-only policies.
	MeetsEnforced bool `json:"meetsEnforced"`
	MeetsAll      bool `json:"meetsAll"`
}

// WhatIfReport is everything a page needs to say which policies apply, what they demand and
// whether this person can meet it.
type WhatIfReport struct {
	UserID            string              `json:"userId"`
	UserPrincipalName string              `json:"userPrincipalName"`
	Target            string              `json:"target"` // the application's name, or the user action in words
	Result            policy.WhatIfResult `json:"result"`
	Policies          []WhatIfPolicy      `json:"policies"`
	// Strengths are the names of the strengths Result.Demanded and Result.ReportOnlyDemanded name.
	Strengths map[string]string `json:"strengthNames"`
	Methods   []WhatIfMethod    `json:"methods"`
	// CanMeetReportOnly reports whether the person could also meet what the report-only
	// policies demand, once enforced.
	CanMeetReportOnly bool   `json:"canMeetReportOnly"`
	Verdict           string `json:"verdict"`
}

func badWhatIf(format string, args ...any) error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_request", "The what-if question is not complete: "+s+".", "%s", s)
}

// whatIfRequest turns in into a conditional access request for u, and names its target.
func (s *Service) whatIfRequest(ctx context.Context, in WhatIfInput, u *latchkey.User) (policy.Request, string, error) {
	req := policy.Request{PlatformVersion: strings.TrimSpace(in.PlatformVersion)}
	target := ""
	switch app, action := strings.TrimSpace(in.App), strings.TrimSpace(in.UserAction); {
	case app != "" && action != "":
		return req, "", badWhatIf("choose an application or a user action, not both")
	case action != "":
		if action != policy.UserActionRegisterSecurityInfo {
			return req, "", badWhatIf("%q is not a user action (only %s)", action, policy.UserActionRegisterSecurityInfo)
		}
		req.UserAction, target = action, "registering security info"
	case app != "":
		cl, err := s.Store.FindClient(ctx, app)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return req, "", latchkey.Errorf(latchkey.EINVALID, "unknown_application", "That application does not exist. Choose an existing application.",
				"no application (OpenID Connect client) with client id %q", app)
		} else if err != nil {
			return req, "", err
		}
		req.App, target = cl.ID, "application "+cl.Name
	default:
		return req, "", badWhatIf("choose an application or the user action %s", policy.UserActionRegisterSecurityInfo)
	}
	if p := strings.TrimSpace(in.Platform); p != "" {
		i := slices.IndexFunc(Platforms, func(k string) bool { return strings.EqualFold(k, p) })
		if i < 0 {
			return req, "", badWhatIf("%q is not a platform (use %s)", p, strings.Join(Platforms, ", "))
		}
		req.Platform = Platforms[i]
	}
	if ip := strings.TrimSpace(in.IP); ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return req, "", badWhatIf("%q is not an IP address", ip)
		}
		req.IP = a
	}
	if ct := strings.TrimSpace(in.ClientType); ct != "" {
		if !slices.Contains(ClientTypes, ct) {
			return req, "", badWhatIf("%q is not a client type (use %s)", ct, strings.Join(ClientTypes, ", "))
		}
		req.ClientType = ct
	} else {
		req.ClientType = policy.ClientBrowser
	}
	pr, err := s.Principal(ctx, u)
	if err != nil {
		return req, "", err
	}
	req.User = pr
	return req, target, nil
}

// WhatIf says what conditional access would do for in: which policies apply (enforced and
// report-only), what they demand, and which of the person's registered methods meet it.
func (s *Service) WhatIf(ctx context.Context, a latchkey.Actor, in WhatIfInput) (*WhatIfReport, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.User) == "" {
		return nil, badWhatIf("enter the user (user name or id)")
	}
	u, err := s.Store.FindUserByUPN(ctx, strings.TrimSpace(in.User))
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.Store.FindUserByID(ctx, strings.TrimSpace(in.User))
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "unknown_user", "That user does not exist. Check the user name.", "no user with UPN or id %q", in.User)
	} else if err != nil {
		return nil, err
	}
	req, target, err := s.whatIfRequest(ctx, in, u)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return nil, err
	}
	mp, err := s.Service.MethodsPolicy(ctx)
	if err != nil {
		return nil, err
	}
	pu, err := s.PolicyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	methods, err := s.RegisteredMethods(ctx, u, pu, mp)
	if err != nil {
		return nil, err
	}
	req.NamedLocations = cfg.LocationMap()
	strengths := cfg.StrengthMap()
	res := policy.WhatIf(cfg.Policies, strengths, req, signin.Contexts(methods))
	rep := &WhatIfReport{UserID: u.ID, UserPrincipalName: u.UserPrincipalName, Target: target, Result: res,
		Policies: []WhatIfPolicy{}, Strengths: map[string]string{}, Methods: []WhatIfMethod{}}
	for _, r := range res.Applied {
		wp := WhatIfPolicy{PolicyResult: r, Grant: "block"}
		if p := findIn(cfg, r.PolicyID); p.ID != "" {
			wp.State = p.State
			if !p.Grant.Block {
				wp.StrengthName = strengths[p.Grant.StrengthID].Name
				wp.Grant = wp.StrengthName
			}
		}
		rep.Policies = append(rep.Policies, wp)
	}
	all := slices.Concat(res.Demanded, res.ReportOnlyDemanded)
	for _, id := range all {
		rep.Strengths[id] = strengths[id].Name
	}
	for i, m := range methods {
		wm := WhatIfMethod{Description: m.Description, MeetsEnforced: slices.Contains(res.Meeting, i), MeetsAll: true}
		for _, id := range all {
			if ok, _ := strengths[id].SatisfiedBy(m.Context); !ok {
				wm.MeetsAll = false
			}
		}
		rep.CanMeetReportOnly = rep.CanMeetReportOnly || wm.MeetsAll
		rep.Methods = append(rep.Methods, wm)
	}
	if len(all) == 0 {
		rep.CanMeetReportOnly = len(methods) > 0
	}
	rep.Verdict = whatIfVerdict(rep, u.UserPrincipalName, methods)
	return rep, nil
}

// whatIfVerdict sums the report up in one or two sentences.
func whatIfVerdict(rep *WhatIfReport, upn string, methods []signin.RegisteredMethod) string {
	res := rep.Result
	names := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = rep.Strengths[id]
		}
		return strings.Join(out, " and ")
	}
	var v string
	switch {
	case res.Blocked:
		var by []string
		for _, p := range rep.Policies {
			if p.Grant == "block" && p.State == policy.CAStateEnabled {
				by = append(by, fmt.Sprintf("%q", p.Name))
			}
		}
		v = fmt.Sprintf("%s would be blocked from %s by %s.", upn, rep.Target, strings.Join(by, ", "))
	case len(res.Demanded) == 0 && len(methods) == 0:
		v = fmt.Sprintf("No enforced policy demands anything for %s, but %s has no way to sign in yet: issue a temporary access pass.", rep.Target, upn)
	case len(res.Demanded) == 0:
		v = fmt.Sprintf("No enforced policy demands anything more for %s: %s can get in with any registered method.", rep.Target, upn)
	case res.CanMeet:
		var with []string
		for _, m := range rep.Methods {
			if m.MeetsEnforced {
				with = append(with, m.Description)
			}
		}
		v = fmt.Sprintf("%s can meet what %s demands (%s) with %s.", upn, rep.Target, names(res.Demanded), strings.Join(with, "; "))
	default:
		v = fmt.Sprintf("%s cannot meet what %s demands (%s): none of their registered methods does, so they would be locked out.", upn, rep.Target, names(res.Demanded))
	}
	if len(res.ReportOnlyDemanded) > 0 && !res.Blocked {
		if rep.CanMeetReportOnly {
			v += fmt.Sprintf(" Once the report-only policies are enforced, they would also need %s, which they can meet.", names(res.ReportOnlyDemanded))
		} else {
			v += fmt.Sprintf(" Once the report-only policies are enforced, they would also need %s, which none of their methods meets.", names(res.ReportOnlyDemanded))
		}
	}
	for _, p := range rep.Policies {
		if p.Grant == "block" && p.State == policy.CAStateReportOnly {
			v += fmt.Sprintf(" Report-only policy %q would block them once enforced.", p.Name)
		}
	}
	return v
}
