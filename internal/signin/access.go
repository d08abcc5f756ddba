package signin

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Target is what a person is getting at: an application (its client id) or a user action.
type Target struct {
	App        string
	UserAction string
	// ClientType is policy.ClientBrowser for everything that comes through Latchkey's pages.
	ClientType string
}

// name is how the target appears in the sign-in log.
func (t Target) name() string {
	if t.UserAction != "" {
		return t.UserAction
	}
	return t.App
}

// Access is conditional access's answer for one session and target.
type Access struct {
	Evaluation policy.Evaluation
	// Context is what the session's sign-in presented; Passkey the passkey it used, if any.
	Context policy.AuthenticationContext
	Passkey *latchkey.Passkey
	ACR     string
	AMR     []string
	// Met are the strengths enforced policies demanded that the sign-in met.
	Met []string
	// Refusal is set when the decision is block or step up: a plain sentence for the person, the
	// precise reason for the admin.
	Refusal *latchkey.Error
	// StepUpPossible reports, for a step-up, whether one of the person's registered methods
	// meets every strength demanded, so that signing in again with it would let them in.
	StepUpPossible bool

	session *latchkey.Session
	user    *latchkey.User
	target  Target
}

// SessionContext returns what the session's sign-in presented, and the passkey it used.
func (s *Service) SessionContext(ctx context.Context, sess *latchkey.Session) (policy.AuthenticationContext, *latchkey.Passkey, error) {
	ac := policy.AuthenticationContext{Methods: slices.Clone(sess.Methods)}
	if sess.PasskeyID == "" {
		return ac, nil, nil
	}
	pk, err := s.Store.FindPasskeyByID(ctx, sess.PasskeyID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return ac, nil, nil // removed since: the sign-in still happened, but counts for nothing now
	} else if err != nil {
		return ac, nil, err
	}
	// Every passkey sign-in requires user verification (BeginSignIn asks for it and
	// go-webauthn refuses an assertion without the UV flag), so a passkey session was verified.
	ac.Passkey = &policy.PresentedPasskey{Kind: pk.Kind, AAGUID: pk.AAGUID, Attestation: pk.AttestationTrust, UserVerified: true}
	return ac, pk, nil
}

// EvaluateAccess evaluates every conditional access policy for the session's person reaching t
// from c: the evaluation, with acr and amr, the strengths met, and a refusal when an enforced
// policy blocks or demands more than the sign-in gave. It does not record anything; call
// RecordAccess with the outcome.
func (s *Service) EvaluateAccess(ctx context.Context, sess *latchkey.Session, user *latchkey.User, t Target, c Client) (*Access, error) {
	cfg, err := s.ConditionalAccess(ctx)
	if err != nil {
		return nil, err
	}
	ac, pk, err := s.SessionContext(ctx, sess)
	if err != nil {
		return nil, err
	}
	a := &Access{Context: ac, Passkey: pk, session: sess, user: user, target: t}
	a.ACR, a.AMR = policy.AssuranceOf(ac)
	if len(cfg.Policies) == 0 {
		a.Evaluation = policy.Evaluation{Decision: policy.DecisionAllow, Results: []policy.PolicyResult{}}
		return a, nil
	}
	pr, err := s.Principal(ctx, user)
	if err != nil {
		return nil, err
	}
	ip, _ := netip.ParseAddr(c.IP)
	clientType := t.ClientType
	if clientType == "" {
		clientType = policy.ClientBrowser
	}
	req := policy.Request{User: pr, App: t.App, UserAction: t.UserAction, Platform: c.Platform,
		PlatformVersion: c.PlatformVersion, IP: ip.Unmap(), ClientType: clientType, Presented: ac,
		AuthAge: s.now().Sub(sess.AuthenticatedAt)}
	// What the person could step up with: needed to tell reportOnlyInterrupted from
	// reportOnlyFailure, and whether a step-up can succeed.
	var registered []policy.AuthenticationContext
	needRegistered := slices.ContainsFunc(cfg.Policies, func(p policy.ConditionalAccessPolicy) bool {
		return p.State == policy.CAStateReportOnly
	})
	loadRegistered := func() error {
		mp, err := s.MethodsPolicy(ctx)
		if err != nil {
			return err
		}
		ms, err := s.RegisteredMethods(ctx, user, policy.User{ID: user.ID, GroupIDs: pr.GroupIDs, IsGuest: pr.IsGuest}, mp)
		registered = Contexts(ms)
		return err
	}
	if needRegistered {
		if err := loadRegistered(); err != nil {
			return nil, err
		}
		req.Registered = registered
	}
	a.Evaluation = cfg.Evaluate(req)
	strengths := cfg.StrengthMap()
	for i, r := range a.Evaluation.Results {
		p := cfg.Policies[i]
		if r.Result == policy.ResultSuccess && !p.Grant.Block && !slices.Contains(a.Met, p.Grant.StrengthID) {
			a.Met = append(a.Met, p.Grant.StrengthID)
		}
	}
	switch a.Evaluation.Decision {
	case policy.DecisionBlock:
		a.Refusal = a.Evaluation.Refusals[0]
	case policy.DecisionStepUp:
		a.Refusal = firstStepUpRefusal(a.Evaluation)
		if !needRegistered {
			if err := loadRegistered(); err != nil {
				return nil, err
			}
		}
		for _, rc := range registered {
			all := true
			for _, id := range a.Evaluation.StepUpTo {
				if ok, _ := strengths[id].SatisfiedBy(rc); !ok {
					all = false
					break
				}
			}
			if all {
				a.StepUpPossible = true
				break
			}
		}
	}
	return a, nil
}

// firstStepUpRefusal returns the refusal of the first enforced policy that demands a strength.
func firstStepUpRefusal(ev policy.Evaluation) *latchkey.Error {
	for _, r := range ev.Refusals {
		if r.Code != policy.CodeBlockedByPolicy && r.Code != policy.CodeUnknownStrength {
			return r
		}
	}
	return ev.Refusals[0]
}

// RecordAccess writes the sign-in event of an evaluated access: success when err is nil, and a
// failure with err's code and detail otherwise (the conditional access refusal, or a refusal
// that came after it, such as the application's acr_values).
func (s *Service) RecordAccess(ctx context.Context, a *Access, err error, c Client) {
	e := &latchkey.SignInEvent{UserID: a.user.ID, UPN: a.user.UserPrincipalName, Method: strings.Join(a.session.Methods, "+"),
		AppID: a.target.name(), ACR: a.ACR, AMR: a.AMR, Strength: strings.Join(a.Met, ","), Result: latchkey.SignInSuccess}
	if a.Passkey != nil {
		e.PasskeyID, e.PasskeyKind, e.AAGUID = a.Passkey.ID, a.Passkey.Kind, a.Passkey.AAGUID
	}
	for _, r := range a.Evaluation.Results {
		e.ConditionalAccess = append(e.ConditionalAccess, latchkey.PolicyResult{PolicyID: r.PolicyID, Name: r.Name, Result: r.Result, Detail: r.Detail})
		s.Metrics.ConditionalAccess(r.Result)
	}
	if err != nil {
		e.Result, e.ErrorCode = latchkey.SignInFailure, latchkey.ErrorCode(err)
		if le, ok := err.(*latchkey.Error); ok {
			e.Detail = le.Detail
		} else {
			e.Detail = err.Error()
		}
	}
	s.recordSignIn(ctx, e, c)
}

// StepUpMessage tells the person what a step-up to strength id needs, in plain words.
func (s *Service) StepUpMessage(ctx context.Context, id string) (string, bool) {
	cfg, err := s.ConditionalAccess(ctx)
	if err != nil {
		return "", false
	}
	st, ok := cfg.StrengthMap()[id]
	if !ok {
		return "", false
	}
	return policy.StrengthMessage(st), true
}

// CheckRegisterSecurityInfo evaluates the policies that cover the user action
// registerSecurityInformation for the session's person, before they register a passkey or
// another method. It returns the refusal of an enforced policy, if any. The attempt is recorded
// in the sign-in log whenever a policy applied (enforced or report-only), so that report-only
// policies on the action show who they would stop.
func (s *Service) CheckRegisterSecurityInfo(ctx context.Context, sess *latchkey.Session, user *latchkey.User, c Client) error {
	a, err := s.EvaluateAccess(ctx, sess, user, Target{UserAction: policy.UserActionRegisterSecurityInfo}, c)
	if err != nil {
		return err
	}
	applied := slices.ContainsFunc(a.Evaluation.Results, func(r policy.PolicyResult) bool {
		return r.Result != policy.ResultNotApplied && r.Result != policy.ResultReportOnlyNotApplied
	})
	if a.Refusal != nil {
		s.RecordAccess(ctx, a, a.Refusal, c)
		return a.Refusal
	}
	if applied {
		s.RecordAccess(ctx, a, nil, c)
	}
	return nil
}
