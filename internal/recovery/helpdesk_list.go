package recovery

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// helpdeskListWindow is how far back the helpdesk page lists requests.
const helpdeskListWindow = 24 * time.Hour

// HelpdeskItem is a helpdesk request as the actor sees it on the helpdesk page.
type HelpdeskItem struct {
	Request *latchkey.HelpdeskRequest
	// Target is the person the pass is for; Requester and Approver name the admins ("" when
	// there is no approver yet).
	Target        *latchkey.User
	Requester     string
	Approver      string
	IdentityCheck string
	// Mine reports whether the actor asked for it; CanCreate whether they may create the pass
	// now (approved, within the hour).
	Mine      bool
	CanCreate bool
	// CanDecide reports whether the actor may approve or reject it now; when they could but
	// for their sign-in's age or method, NeedsFreshSignIn is set instead.
	CanDecide        bool
	NeedsFreshSignIn bool
}

// MayUseHelpdesk reports whether the actor has any part in helpdesk requests: asking for a
// pass (ActionIssueTAP) or approving one.
func MayUseHelpdesk(a latchkey.Actor) bool {
	return a.Kind == latchkey.ActorPerson &&
		(authz.Can(a, authz.ActionIssueTAP) || authz.Can(a, authz.ActionApproveHelpdeskRequest))
}

// HelpdeskRequests returns the requests of the last day that concern the actor, newest first:
// those they asked for, and those they could approve. Requests whose hour is over are
// expired on the way (each with its audit event).
func (s *Service) HelpdeskRequests(ctx context.Context, a latchkey.Actor) ([]*HelpdeskItem, error) {
	if !MayUseHelpdesk(a) {
		return nil, notForHelpdesk(a, authz.ActionApproveHelpdeskRequest, "any")
	}
	now := s.now()
	reqs, err := s.Store.ListHelpdeskRequests(ctx, now.Add(-helpdeskListWindow))
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	name := func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		names[id] = s.personName(ctx, id)
		return names[id]
	}
	items := []*HelpdeskItem{}
	for _, r := range reqs {
		if err := s.expire(ctx, r); err != nil {
			return nil, err
		}
		u, t, err := s.userTarget(ctx, r.TargetID)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			continue
		} else if err != nil {
			return nil, err
		}
		it := &HelpdeskItem{Request: r, Target: u, Requester: name(r.RequesterID), Approver: name(r.ApproverID),
			IdentityCheck: IdentityCheckLabel(r), Mine: r.RequesterID == a.UserID}
		it.CanCreate = it.Mine && r.State == latchkey.HelpdeskApproved
		if !it.Mine {
			t.RequesterID, t.Now = r.RequesterID, now
			switch err := authz.Decide(a, authz.ActionApproveHelpdeskRequest, t); {
			case err == nil:
				it.CanDecide = r.State == latchkey.HelpdeskPending
			case latchkey.ErrorCode(err) == authz.CodeFreshSignInRequired:
				it.NeedsFreshSignIn = r.State == latchkey.HelpdeskPending
			default:
				continue
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// HelpdeskRequest returns the request id as the actor sees it on the helpdesk page, for the
// approval's confirmation; ENOTFOUND when it does not concern them.
func (s *Service) HelpdeskRequest(ctx context.Context, a latchkey.Actor, id string) (*HelpdeskItem, error) {
	items, err := s.HelpdeskRequests(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Request.ID == id {
			return it, nil
		}
	}
	return nil, latchkey.Errorf(latchkey.ENOTFOUND, "request_not_found", "That request does not exist.",
		"no helpdesk request %q that concerns %s", id, a.Name())
}
