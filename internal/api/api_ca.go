package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
)

// Conditional access for global admins, at Graph's paths under /api/v1/identity/conditionalAccess:
// policies, authentication strengths, named locations, the lockout lint and what-if.

// CAPath is where the conditional access API lives, as in Microsoft Graph.
const CAPath = "/api/v1/identity/conditionalAccess"

// LockoutBody is the error JSON of a lint refusal, with each finding and the people it names.
type LockoutBody struct {
	httpedge.ErrorBody
	AffectedUsers int                      `json:"affectedUsers"`
	Findings      []LockoutFinding         `json:"findings"`
	Policies      []policyadmin.PolicyLint `json:"policies"`
}

// LockoutFinding is one finding of a lint refusal, with the people it locks out.
type LockoutFinding struct {
	PolicyID   string `json:"policyId"`
	PolicyName string `json:"policyName"`
	policyadmin.LintFinding
}

// writeCAError answers err, adding the findings when it is a lint refusal.
func (s *API) writeCAError(w http.ResponseWriter, r *http.Request, err error) {
	var le *policyadmin.LockoutError
	if !errors.As(err, &le) {
		s.WriteError(w, r, err)
		return
	}
	status, body := s.PublicError(r, err)
	httpedge.WriteJSON(w, status, lockoutBodyOf(body, le))
}

func lockoutBodyOf(body httpedge.ErrorBody, le *policyadmin.LockoutError) LockoutBody {
	out := LockoutBody{ErrorBody: body, AffectedUsers: le.Affected, Findings: []LockoutFinding{}, Policies: le.Policies}
	for _, p := range le.Policies {
		for _, f := range p.Findings {
			out.Findings = append(out.Findings, LockoutFinding{PolicyID: p.PolicyID, PolicyName: p.Name, LintFinding: f})
		}
	}
	return out
}

// decodeCA reads a JSON body into v like httpedge.DecodeJSON; a field v does not have is refused as
// invalid_policy, so that a misspelt condition is not silently dropped.
func decodeCA(w http.ResponseWriter, r *http.Request, v any) error {
	err := httpedge.DecodeJSON(w, r, v)
	var le *latchkey.Error
	if errors.As(err, &le) && le.Code == "unknown_field" {
		return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The request could not be read: "+strings.TrimPrefix(le.Detail, "decode: ")+".", "%s", le.Detail)
	}
	return err
}

// caPolicyJSON is a policy as the API answers a change: the policy and the lint's warnings.
type caPolicyJSON struct {
	policy.ConditionalAccessPolicy
	LintWarnings []policyadmin.PolicyLint `json:"lintWarnings,omitempty"`
}

func (s *API) handleAPIListCAPolicies(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": cfg.Policies})
}

func (s *API) handleAPIGetCAPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	p, err := s.policies.FindCAPolicy(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, p)
}

func (s *API) handleAPICreateCAPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	s.saveCAPolicy(w, r, http.StatusCreated, func(p policy.ConditionalAccessPolicy, override int) (policy.ConditionalAccessPolicy, *policyadmin.CAChange, error) {
		return s.policies.CreateCAPolicy(r.Context(), a, p, override)
	})
}

func (s *API) handleAPIPutCAPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	s.saveCAPolicy(w, r, http.StatusOK, func(p policy.ConditionalAccessPolicy, override int) (policy.ConditionalAccessPolicy, *policyadmin.CAChange, error) {
		if p.ID != "" && p.ID != r.PathValue("id") {
			return p, nil, latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The policy's id cannot be changed.",
				"the body's id %q differs from the path's %q", p.ID, r.PathValue("id"))
		}
		return s.policies.UpdateCAPolicy(r.Context(), a, r.PathValue("id"), p, override)
	})
}

func (s *API) saveCAPolicy(w http.ResponseWriter, r *http.Request, status int,
	save func(policy.ConditionalAccessPolicy, int) (policy.ConditionalAccessPolicy, *policyadmin.CAChange, error)) {
	override, err := httpedge.LockoutOverride(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	var p policy.ConditionalAccessPolicy
	if err := decodeCA(w, r, &p); err != nil {
		s.WriteError(w, r, err)
		return
	}
	got, ch, err := save(p, override)
	if err != nil {
		s.writeCAError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, status, caPolicyJSON{ConditionalAccessPolicy: got, LintWarnings: ch.Warnings})
}

// handleAPIPatchCAPolicy changes a policy's state only: {"state": "enabled"}.
func (s *API) handleAPIPatchCAPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	override, err := httpedge.LockoutOverride(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	var req struct {
		State string `json:"state"`
	}
	if err := decodeCA(w, r, &req); err != nil {
		s.WriteError(w, r, err)
		return
	}
	got, ch, err := s.policies.SetCAPolicyState(r.Context(), a, r.PathValue("id"), req.State, override)
	if err != nil {
		s.writeCAError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, caPolicyJSON{ConditionalAccessPolicy: got, LintWarnings: ch.Warnings})
}

func (s *API) handleAPIDeleteCAPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.DeleteCAPolicy(r.Context(), a, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *API) handleAPIListStrengths(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	sts, err := s.policies.Strengths(r.Context(), a)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": sts})
}

func (s *API) handleAPICreateStrength(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	var st policy.Strength
	if err := decodeCA(w, r, &st); err != nil {
		s.WriteError(w, r, err)
		return
	}
	got, err := s.policies.CreateStrength(r.Context(), a, st)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, got)
}

func (s *API) handleAPIPutStrength(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	override, err := httpedge.LockoutOverride(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	var st policy.Strength
	if err := decodeCA(w, r, &st); err != nil {
		s.WriteError(w, r, err)
		return
	}
	got, ch, err := s.policies.UpdateStrength(r.Context(), a, r.PathValue("id"), st, override)
	if err != nil {
		s.writeCAError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"strength": got, "lintWarnings": ch.Warnings})
}

func (s *API) handleAPIDeleteStrength(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.DeleteStrength(r.Context(), a, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *API) handleAPIListLocations(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": cfg.NamedLocations})
}

func (s *API) handleAPICreateLocation(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	var l policy.NamedLocation
	if err := decodeCA(w, r, &l); err != nil {
		s.WriteError(w, r, err)
		return
	}
	got, err := s.policies.CreateNamedLocation(r.Context(), a, l)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, got)
}

func (s *API) handleAPIPutLocation(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	var l policy.NamedLocation
	if err := decodeCA(w, r, &l); err != nil {
		s.WriteError(w, r, err)
		return
	}
	got, err := s.policies.UpdateNamedLocation(r.Context(), a, r.PathValue("id"), l)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, got)
}

func (s *API) handleAPIDeleteLocation(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	if err := s.policies.DeleteNamedLocation(r.Context(), a, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *API) handleAPIEvaluateCA(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	var in policyadmin.WhatIfInput
	if err := decodeCA(w, r, &in); err != nil {
		s.WriteError(w, r, err)
		return
	}
	rep, err := s.policies.WhatIf(r.Context(), a, in)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, rep)
}

func (s *API) handleAPILintCA(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	lints, err := s.policies.LintAll(r.Context(), a)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": lints})
}
