package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// Refusal codes of the helpdesk path.
const (
	// CodeNoApprovalNeeded: the requester may issue this person's pass directly.
	CodeNoApprovalNeeded = "no_approval_needed"
	// CodeRequestInvalid: a field of the request is missing or too long.
	CodeRequestInvalid = "helpdesk_request_invalid"
	// CodeRequestExpired: the request's hour is over.
	CodeRequestExpired = "request_expired"
	// CodeRequestDecided: the request was already approved, rejected or executed.
	CodeRequestDecided = "request_decided"
	// CodeNotApproved: the request has not been approved (yet).
	CodeNotApproved = "request_not_approved"
	// CodeNotRequester: only the admin who asked creates the pass.
	CodeNotRequester = "not_requester"
)

// IdentityChecks are the ways a requester may have checked the person's identity, in the order
// the form offers them, with how the pages say them.
var IdentityChecks = []struct{ Value, Label string }{
	{latchkey.IdentityCheckVideoWithManager, "Video call with their manager present"},
	{latchkey.IdentityCheckInPersonWithID, "In person, with a photo ID"},
	{latchkey.IdentityCheckCallback, "Called them back on a number on record"},
	{latchkey.IdentityCheckOther, "Other (describe)"},
}

// IdentityCheckLabel returns how the pages say the identity check of r.
func IdentityCheckLabel(r *latchkey.HelpdeskRequest) string {
	if r.IdentityCheck == latchkey.IdentityCheckOther {
		return "Other: " + r.IdentityNote
	}
	for _, c := range IdentityChecks {
		if c.Value == r.IdentityCheck {
			return c.Label
		}
	}
	return r.IdentityCheck
}

// HelpdeskInput is what a requester fills in.
type HelpdeskInput struct {
	// UserRef names the person the pass is for (id or user principal name).
	UserRef       string
	Reason        string
	Ticket        string
	IdentityCheck string // one of the latchkey.IdentityCheck* constants
	IdentityNote  string // required for IdentityCheckOther
}

func invalid(message, detail string) error {
	return latchkey.Errorf(latchkey.EINVALID, CodeRequestInvalid, message, "helpdesk request: %s", detail)
}

// validate trims in and checks every field.
func (in *HelpdeskInput) validate() error {
	in.Reason, in.Ticket, in.IdentityNote = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Ticket), strings.TrimSpace(in.IdentityNote)
	switch {
	case in.Reason == "":
		return invalid("Say why the person needs a pass.", "reason is empty")
	case utf8.RuneCountInString(in.Reason) > 500:
		return invalid("Keep the reason under 500 characters.", "reason is too long")
	case in.Ticket == "":
		return invalid("Give the ticket number of this call.", "ticket is empty")
	case utf8.RuneCountInString(in.Ticket) > 100:
		return invalid("Keep the ticket number under 100 characters.", "ticket is too long")
	case utf8.RuneCountInString(in.IdentityNote) > 300:
		return invalid("Keep the description of the identity check under 300 characters.", "identity note is too long")
	}
	for _, c := range IdentityChecks {
		if c.Value != in.IdentityCheck {
			continue
		}
		if c.Value == latchkey.IdentityCheckOther && in.IdentityNote == "" {
			return invalid("Describe how you checked who the person is.", "identity check other without a description")
		}
		if c.Value != latchkey.IdentityCheckOther {
			in.IdentityNote = ""
		}
		return nil
	}
	return invalid("Choose how you checked who the person is.", fmt.Sprintf("unknown identity check %q", in.IdentityCheck))
}

// notForHelpdesk is the refusal of a helpdesk step to an actor who has no part in it: authz's
// when it has one, and otherwise (Latchkey itself, the CLI) that helpdesk requests are made and
// decided by people, on the admin pages.
func notForHelpdesk(a latchkey.Actor, action authz.Action, userRef string) error {
	if err := authz.Decide(a, action, authz.Target{Kind: authz.TargetUser, ID: userRef}); err != nil {
		return err
	}
	return latchkey.Errorf(latchkey.EFORBIDDEN, authz.CodeNotAllowed,
		"Helpdesk requests are made and approved by administrators on the admin pages.",
		"%s is not a person; helpdesk requests need a requester and an approver who are people", a.Name())
}

// userTarget returns the user id names and their authz target.
func (s *Service) userTarget(ctx context.Context, ref string) (*latchkey.User, authz.Target, error) {
	u, err := s.Store.FindUserByID(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.Store.FindUserByUPN(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, authz.Target{}, latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist.", "no user with id or UPN %q", ref)
	} else if err != nil {
		return nil, authz.Target{}, err
	}
	units, err := s.Store.ListUserUnits(ctx, u.ID)
	if err != nil {
		return nil, authz.Target{}, fmt.Errorf("list user units: %w", err)
	}
	return u, authz.UserTarget(u, units), nil
}

// RequestHelpdeskPass files a request for a recovery pass for a person to whom the actor may
// not issue one directly because they hold a role (authz's approval_required). A person the
// actor may issue a pass to directly is refused with CodeNoApprovalNeeded; any other refusal
// is authz's. The request waits an hour for a second administrator.
func (s *Service) RequestHelpdeskPass(ctx context.Context, a latchkey.Actor, in HelpdeskInput) (*latchkey.HelpdeskRequest, error) {
	if !authz.Can(a, authz.ActionIssueTAP) || a.Kind != latchkey.ActorPerson {
		return nil, notForHelpdesk(a, authz.ActionIssueTAP, in.UserRef)
	}
	u, t, err := s.userTarget(ctx, in.UserRef)
	if err != nil {
		return nil, err
	}
	switch err := authz.Decide(a, authz.ActionIssueTAP, t); {
	case err == nil:
		return nil, latchkey.Errorf(latchkey.EINVALID, CodeNoApprovalNeeded,
			"You can issue this person's pass yourself; no second approver is needed.",
			"%s may issue a pass to %s directly", a.Name(), u.UserPrincipalName)
	case latchkey.ErrorCode(err) != authz.CodeApprovalRequired:
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	r := &latchkey.HelpdeskRequest{ID: latchkey.NewTimeOrderedID(), TargetID: u.ID, RequesterID: a.UserID,
		Reason: in.Reason, Ticket: in.Ticket, IdentityCheck: in.IdentityCheck, IdentityNote: in.IdentityNote,
		CreatedAt: now, ExpiresAt: now.Add(latchkey.HelpdeskRequestLifetime), State: latchkey.HelpdeskPending}
	ctx = latchkey.Audit(ctx, a, "helpdesk.request", "user", u.ID, u.UserPrincipalName, map[string]any{
		"requestId": r.ID, "reason": r.Reason, "ticket": r.Ticket, "identityCheck": IdentityCheckLabel(r)})
	if err := s.Store.CreateHelpdeskRequest(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// request finds the request id, expiring it first when its hour is over.
func (s *Service) request(ctx context.Context, id string) (*latchkey.HelpdeskRequest, error) {
	r, err := s.Store.FindHelpdeskRequest(ctx, id)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "request_not_found", "That request does not exist.", "no helpdesk request %q", id)
	} else if err != nil {
		return nil, err
	}
	return r, s.expire(ctx, r)
}

// expire marks r expired (with its audit event) when it is still open and its hour is over.
func (s *Service) expire(ctx context.Context, r *latchkey.HelpdeskRequest) error {
	if r.State != latchkey.HelpdeskPending && r.State != latchkey.HelpdeskApproved || s.now().Before(r.ExpiresAt) {
		return nil
	}
	from, next := r.State, *r
	next.State = latchkey.HelpdeskExpired
	ctx = latchkey.Audit(ctx, latchkey.SystemActor, "helpdesk.expire", "user", r.TargetID, "", map[string]any{
		"requestId": r.ID, "ticket": r.Ticket, "was": string(from)})
	switch err := s.Store.UpdateHelpdeskRequest(ctx, &next, from, time.Time{}); {
	case err == nil:
		*r = next
		return nil
	case errors.Is(err, latchkey.ErrConflict):
		fresh, err := s.Store.FindHelpdeskRequest(ctx, r.ID)
		if err != nil {
			return err
		}
		*r = *fresh
		return nil
	default:
		return err
	}
}

// stateError explains why r cannot be acted on now.
func stateError(r *latchkey.HelpdeskRequest, want latchkey.HelpdeskState) error {
	switch r.State {
	case want:
		return nil
	case latchkey.HelpdeskExpired:
		return latchkey.Errorf(latchkey.ECONFLICT, CodeRequestExpired,
			"This request expired: requests last one hour. File a new one if the person still needs a pass.",
			"helpdesk request %s expired at %s", r.ID, r.ExpiresAt.Format("2006-01-02 15:04:05Z07:00"))
	case latchkey.HelpdeskPending:
		return latchkey.Errorf(latchkey.ECONFLICT, CodeNotApproved, "This request has not been approved yet.",
			"helpdesk request %s is pending", r.ID)
	case latchkey.HelpdeskRejected:
		return latchkey.Errorf(latchkey.ECONFLICT, CodeRequestDecided, "This request was rejected.",
			"helpdesk request %s is rejected", r.ID)
	case latchkey.HelpdeskExecuted:
		return latchkey.Errorf(latchkey.ECONFLICT, CodeRequestDecided, "The pass for this request was already created; it is shown only once.",
			"helpdesk request %s was executed at %s", r.ID, r.ExecutedAt.Format("2006-01-02 15:04:05Z07:00"))
	}
	return latchkey.Errorf(latchkey.ECONFLICT, CodeRequestDecided, "This request was already decided.",
		"helpdesk request %s is %s", r.ID, r.State)
}

// decideApproval asks authz whether a may approve or reject r, about the person u.
func (s *Service) decideApproval(ctx context.Context, a latchkey.Actor, r *latchkey.HelpdeskRequest) (*latchkey.User, error) {
	if !authz.Can(a, authz.ActionApproveHelpdeskRequest) || a.Kind != latchkey.ActorPerson {
		return nil, notForHelpdesk(a, authz.ActionApproveHelpdeskRequest, r.TargetID)
	}
	u, t, err := s.userTarget(ctx, r.TargetID)
	if err != nil {
		return nil, err
	}
	t.RequesterID, t.Now = r.RequesterID, s.now()
	return u, authz.Decide(a, authz.ActionApproveHelpdeskRequest, t)
}

// ApproveHelpdeskRequest approves the pending request id: the actor must be allowed to approve
// it (authz ActionApproveHelpdeskRequest: a second admin who could issue the pass directly,
// neither requester nor person, after a passkey sign-in in the last 5 minutes). Of racing
// decisions exactly one wins.
func (s *Service) ApproveHelpdeskRequest(ctx context.Context, a latchkey.Actor, id string) error {
	return s.decide(ctx, a, id, latchkey.HelpdeskApproved, "helpdesk.approve")
}

// RejectHelpdeskRequest rejects the pending request id, under the rule of
// ApproveHelpdeskRequest.
func (s *Service) RejectHelpdeskRequest(ctx context.Context, a latchkey.Actor, id string) error {
	return s.decide(ctx, a, id, latchkey.HelpdeskRejected, "helpdesk.reject")
}

func (s *Service) decide(ctx context.Context, a latchkey.Actor, id string, to latchkey.HelpdeskState, action string) error {
	r, err := s.request(ctx, id)
	if err != nil {
		return err
	}
	u, err := s.decideApproval(ctx, a, r)
	if err != nil {
		return err
	}
	if err := stateError(r, latchkey.HelpdeskPending); err != nil {
		return err
	}
	now := s.now()
	next := *r
	next.State, next.ApproverID, next.DecidedAt = to, a.UserID, now
	ctx = latchkey.Audit(ctx, a, action, "user", u.ID, u.UserPrincipalName, map[string]any{
		"requestId": r.ID, "requester": r.RequesterID, "ticket": r.Ticket})
	err = s.Store.UpdateHelpdeskRequest(ctx, &next, latchkey.HelpdeskPending, now)
	if errors.Is(err, latchkey.ErrConflict) {
		if r, err = s.request(ctx, id); err != nil {
			return err
		}
		return stateError(r, latchkey.HelpdeskPending)
	}
	return err
}

// ExecuteHelpdeskRequest creates the pass of the approved request id, once, within its hour:
// only the requester may, and only while they may still ask for it. The pass is a recovery
// pass (one-time, 15 minutes), issued through the directory as Latchkey (the approval is the
// authority), with the request's audit event and the recovery mail to the person in its
// transaction. It returns the pass, to be shown once.
func (s *Service) ExecuteHelpdeskRequest(ctx context.Context, a latchkey.Actor, id string) (string, *latchkey.AccessPass, error) {
	r, err := s.request(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if a.Kind != latchkey.ActorPerson || a.UserID != r.RequesterID {
		return "", nil, latchkey.Errorf(latchkey.EFORBIDDEN, CodeNotRequester,
			"Only the administrator who asked for this pass can create it.",
			"%s is not the requester %s of helpdesk request %s", a.Name(), r.RequesterID, r.ID)
	}
	u, t, err := s.userTarget(ctx, r.TargetID)
	if err != nil {
		return "", nil, err
	}
	if err := authz.Decide(a, authz.ActionIssueTAP, t); err != nil && latchkey.ErrorCode(err) != authz.CodeApprovalRequired {
		return "", nil, err
	}
	if err := stateError(r, latchkey.HelpdeskApproved); err != nil {
		return "", nil, err
	}
	now := s.now()
	claim := *r
	claim.State, claim.ExecutedAt = latchkey.HelpdeskExecuted, now
	if err := s.Store.UpdateHelpdeskRequest(ctx, &claim, latchkey.HelpdeskApproved, now); errors.Is(err, latchkey.ErrConflict) {
		if r, err = s.request(ctx, id); err != nil {
			return "", nil, err
		}
		return "", nil, stateError(r, latchkey.HelpdeskApproved)
	} else if err != nil {
		return "", nil, err
	}
	by := fmt.Sprintf("Helpdesk: %s, approved by %s", s.personName(ctx, r.RequesterID), s.personName(ctx, r.ApproverID))
	issueCtx := Notify(ctx, Notice{UserID: u.ID, Path: PathHelpdesk, By: by, At: now})
	issueCtx = latchkey.Audit(issueCtx, a, "helpdesk.execute", "user", u.ID, u.UserPrincipalName, map[string]any{
		"requestId": r.ID, "approver": r.ApproverID, "ticket": r.Ticket})
	pass, ap, err := s.Dir.IssueAccessPass(issueCtx, latchkey.SystemActor, u.ID, signin.IssueOptions{Recovery: true})
	if err != nil {
		// Give the approval back, so that the requester may try again within the hour.
		if rerr := s.Store.UpdateHelpdeskRequest(ctx, r, latchkey.HelpdeskExecuted, time.Time{}); rerr != nil {
			err = errors.Join(err, fmt.Errorf("reopen helpdesk request: %w", rerr))
		}
		return "", nil, err
	}
	done := claim
	done.PassID = ap.ID
	if err := s.Store.UpdateHelpdeskRequest(ctx, &done, latchkey.HelpdeskExecuted, time.Time{}); err != nil {
		return "", nil, fmt.Errorf("record helpdesk pass: %w", err)
	}
	return pass, ap, nil
}

// personName returns how the pages and mails name the user id: their display name, else their
// user principal name, else the id.
func (s *Service) personName(ctx context.Context, id string) string {
	u, err := s.Store.FindUserByID(ctx, id)
	if err != nil {
		return id
	}
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.UserPrincipalName
}
