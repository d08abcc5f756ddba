package provisioning

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

const (
	// NewcomerDays is how far back the provisioning page lists the people created.
	NewcomerDays = 14
	// maxNewcomers bounds the people the page lists (newest first).
	maxNewcomers = 200
	// maxErrors bounds the recent errors the page lists.
	maxErrors = 50
)

// Token states on the provisioning page.
const (
	TokenActive  = "active"
	TokenRevoked = "revoked"
	TokenExpired = "expired"
)

// Service reads the provisioning log and the onboarding state of new people for the
// provisioning page and API; it asks authz (ActionReadProvisioning) before it shows anything.
type Service struct {
	auth *signin.Service
}

// NewService returns the service over svc's store and clock.
func NewService(svc *signin.Service) *Service { return &Service{auth: svc} }

// TokenUse is an API token with what the provisioning log knows of it.
type TokenUse struct {
	Token *latchkey.APIToken
	// State is TokenActive, TokenRevoked or TokenExpired.
	State string
	// Last is the token's latest request the log keeps; nil when there is none.
	Last *latchkey.ProvisioningRequest
	// Requests and Failed count the token's requests the log keeps, and those refused.
	Requests, Failed int
}

// Newcomer is a person created lately, with where they came from and their onboarding.
type Newcomer struct {
	User *latchkey.User
	// Source says in plain words how the person was created ("SCIM, token HR sync").
	Source     string
	Onboarding Onboarding
}

// Overview is what the provisioning page shows.
type Overview struct {
	// Tokens are the working tokens that may provision (users or groups, read and write) and
	// those the log has requests of, the most recently used first.
	Tokens []TokenUse
	// Errors are the latest refused requests, newest first.
	Errors []*latchkey.ProvisioningRequest
	// TokenNames names the tokens by id, for the errors.
	TokenNames map[string]string
	// People are the people created since Since, newest first, at most maxNewcomers.
	People []Newcomer
	Since  time.Time
}

// decide asks authz whether a may read the provisioning log.
func decide(a latchkey.Actor) error {
	return authz.Decide(a, authz.ActionReadProvisioning, authz.Target{Kind: authz.TargetLog})
}

// ListRequests returns the requests of the provisioning log f selects, newest first.
func (s *Service) ListRequests(ctx context.Context, a latchkey.Actor, f latchkey.ProvisioningFilter) ([]*latchkey.ProvisioningRequest, error) {
	if err := decide(a); err != nil {
		return nil, err
	}
	return s.auth.Store.ListProvisioningRequests(ctx, f)
}

// Overview returns what the provisioning page shows.
func (s *Service) Overview(ctx context.Context, a latchkey.Actor) (*Overview, error) {
	if err := decide(a); err != nil {
		return nil, err
	}
	now := s.auth.Now().UTC()
	st := s.auth.Store
	log, err := st.ListProvisioningRequests(ctx, latchkey.ProvisioningFilter{}) // bounded by retention
	if err != nil {
		return nil, err
	}
	tokens, err := st.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	o := &Overview{TokenNames: map[string]string{}, Since: now.AddDate(0, 0, -NewcomerDays)}
	o.Tokens = tokenUses(tokens, log, now)
	for _, t := range tokens {
		o.TokenNames[t.ID] = t.Name
	}
	for _, r := range log {
		if r.Failed() && len(o.Errors) < maxErrors {
			o.Errors = append(o.Errors, r)
		}
	}
	if o.People, err = s.newcomers(ctx, o.Since, log, now); err != nil {
		return nil, err
	}
	return o, nil
}

// tokenUses joins the tokens with their requests in log (newest first): the working tokens
// that may provision and those that made a request the log keeps, the most recently used first.
func tokenUses(tokens []*latchkey.APIToken, log []*latchkey.ProvisioningRequest, now time.Time) []TokenUse {
	byID := map[string]*TokenUse{}
	var out []TokenUse
	for _, t := range tokens {
		u := TokenUse{Token: t, State: TokenActive}
		switch {
		case t.RevokedAt != nil:
			u.State = TokenRevoked
		case !t.Usable(now):
			u.State = TokenExpired
		}
		byID[t.ID] = &u
	}
	for _, r := range log {
		u := byID[r.TokenID]
		if u == nil {
			continue
		}
		if u.Last == nil {
			u.Last = r
		}
		u.Requests++
		if r.Failed() {
			u.Failed++
		}
	}
	for _, t := range tokens {
		if u := byID[t.ID]; u.State == TokenActive && canProvision(t) || u.Requests > 0 {
			out = append(out, *u)
		}
	}
	slices.SortStableFunc(out, func(x, y TokenUse) int {
		return cmp.Compare(lastUse(y).UnixMicro(), lastUse(x).UnixMicro())
	})
	return out
}

// canProvision reports whether t has a scope that SCIM takes (users or groups, read and write).
func canProvision(t *latchkey.APIToken) bool {
	return slices.Contains(t.Scopes, latchkey.ScopeUserReadWriteAll) || slices.Contains(t.Scopes, latchkey.ScopeGroupReadWriteAll)
}

// lastUse is when the token was last used: its last request in the log or its LastUsedAt.
func lastUse(u TokenUse) time.Time {
	var t time.Time
	if u.Token.LastUsedAt != nil {
		t = *u.Token.LastUsedAt
	}
	if u.Last != nil && u.Last.Time.After(t) {
		t = u.Last.Time
	}
	return t
}

// newcomers returns the people created since since, newest first, with their source and
// onboarding state.
func (s *Service) newcomers(ctx context.Context, since time.Time, log []*latchkey.ProvisioningRequest, now time.Time) ([]Newcomer, error) {
	users, err := s.auth.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var recent []*latchkey.User
	for _, u := range users {
		if !u.CreatedAt.Before(since) {
			recent = append(recent, u)
		}
	}
	slices.SortFunc(recent, func(x, y *latchkey.User) int { return y.CreatedAt.Compare(x.CreatedAt) })
	if len(recent) > maxNewcomers {
		recent = recent[:maxNewcomers]
	}
	if len(recent) == 0 {
		return nil, nil
	}
	// Slightly earlier than since: an event is written a moment before its user's CreatedAt.
	events, err := s.auth.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: "user.create", Since: since.Add(-time.Hour)})
	if err != nil {
		return nil, err
	}
	created := map[string]*latchkey.AuditEvent{}
	for _, e := range events {
		created[e.TargetID] = e
	}
	scim := map[string]bool{}
	for _, r := range log {
		if r.CorrelationID != "" {
			scim[r.CorrelationID] = true
		}
	}
	out := make([]Newcomer, 0, len(recent))
	for _, u := range recent {
		ob, err := s.onboarding(ctx, u, now)
		if err != nil {
			return nil, err
		}
		out = append(out, Newcomer{User: u, Source: sourceOf(created[u.ID], scim), Onboarding: ob})
	}
	return out, nil
}

// sourceOf says how a person was created, from the audit event of their creation (nil when the
// log has none) and the correlation ids of SCIM requests.
func sourceOf(e *latchkey.AuditEvent, scim map[string]bool) string {
	switch {
	case e == nil:
		return "Not in the audit log"
	case e.CorrelationID != "" && scim[e.CorrelationID]:
		return "SCIM, token " + strings.TrimPrefix(e.ActorName, "token:")
	case e.ActorKind == latchkey.ActorToken:
		return "API, token " + strings.TrimPrefix(e.ActorName, "token:")
	case e.ActorKind == latchkey.ActorPerson:
		return "By " + e.ActorName
	case e.ActorName == "cli":
		return "Command line"
	}
	return "Latchkey itself"
}
