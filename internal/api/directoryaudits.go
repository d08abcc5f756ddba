package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// maxAuditPage bounds $top on GET /api/v1/auditLogs/directoryAudits.
const maxAuditPage = 1000

// graphAudit is one directoryAudit as Microsoft Graph shapes it.
type graphAudit struct {
	ID                  string           `json:"id"`
	ActivityDateTime    time.Time        `json:"activityDateTime"`
	ActivityDisplayName string           `json:"activityDisplayName"`
	Category            string           `json:"category"`
	CorrelationID       string           `json:"correlationId"`
	LoggedByService     string           `json:"loggedByService"`
	OperationType       string           `json:"operationType"`
	Result              string           `json:"result"`
	InitiatedBy         map[string]any   `json:"initiatedBy"`
	TargetResources     []map[string]any `json:"targetResources"`
	AdditionalDetails   []map[string]any `json:"additionalDetails"`
	Seq                 *int64           `json:"sequenceNumber"`
}

// auditCategory is the Graph category of an action (its part before the dot).
func auditCategory(action string) string {
	switch kind, _, _ := strings.Cut(action, "."); kind {
	case "user", "passkey", "accessPass":
		return "UserManagement"
	case "group":
		return "GroupManagement"
	case "role", "unit":
		return "RoleManagement"
	case "application":
		return "ApplicationManagement"
	case "token", "signingKey":
		return "KeyManagement"
	}
	return "Policy"
}

// toGraphAudit shapes e for the API.
func toGraphAudit(e *latchkey.AuditEvent) graphAudit {
	g := graphAudit{ID: e.ID, ActivityDateTime: e.Time, ActivityDisplayName: e.Action, Category: auditCategory(e.Action),
		CorrelationID: e.CorrelationID, LoggedByService: "Latchkey", Result: "success", Seq: e.Seq,
		TargetResources:   []map[string]any{{"id": e.TargetID, "displayName": e.TargetName, "type": e.TargetKind}},
		AdditionalDetails: []map[string]any{}}
	_, verb, _ := strings.Cut(e.Action, ".")
	switch {
	case strings.HasPrefix(verb, "create"), verb == "register", verb == "issue", verb == "assign", strings.HasPrefix(verb, "add"):
		g.OperationType = "Add"
	case strings.HasPrefix(verb, "delete"), strings.HasPrefix(verb, "remove"), verb == "revoke":
		g.OperationType = "Delete"
	default:
		g.OperationType = "Update"
	}
	if e.ActorKind == latchkey.ActorPerson {
		g.InitiatedBy = map[string]any{"user": map[string]any{"id": e.ActorID, "userPrincipalName": e.ActorName}}
	} else {
		g.InitiatedBy = map[string]any{"app": map[string]any{"appId": e.ActorID, "displayName": e.ActorName}}
	}
	for k, v := range e.Summary {
		g.AdditionalDetails = append(g.AdditionalDetails, map[string]any{"key": k, "value": v})
	}
	return g
}

// handleAPIDirectoryAudits is GET /api/v1/auditLogs/directoryAudits: the audit log, oldest
// first, filtered by actor, action, target, since and until, $top events a page, the next page
// at @odata.nextLink.
func (s *API) handleAPIDirectoryAudits(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := latchkey.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), After: q.Get("$skiptoken")}
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			if *p.into, err = time.Parse(time.RFC3339, v); err != nil {
				s.WriteError(w, r, latchkey.Errorf(latchkey.EINVALID, "invalid_time", "Give the time like 2026-12-01T09:00:00Z.",
					"%s %q is not an RFC 3339 time", p.name, v))
				return
			}
		}
	}
	top := 100
	if v := q.Get("$top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 1 || top > maxAuditPage {
			s.WriteError(w, r, latchkey.Errorf(latchkey.EINVALID, "invalid_top", "Ask for between 1 and 1000 events a page.",
				"$top %q is not a number from 1 to %d", v, maxAuditPage))
			return
		}
	}
	f.Limit = top + 1
	events, err := s.dir.ListAuditEvents(r.Context(), a, f)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	out := map[string]any{}
	if len(events) > top {
		events = events[:top]
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$top", strconv.Itoa(top))
		next.Set("$skiptoken", events[top-1].ID)
		out["@odata.nextLink"] = requestOrigin(r) + r.URL.Path + "?" + next.Encode()
	}
	value := make([]graphAudit, len(events))
	for i, e := range events {
		value[i] = toGraphAudit(e)
	}
	out["value"] = value
	httpedge.WriteJSON(w, http.StatusOK, out)
}

// requestOrigin is the scheme and host the request was made to, for absolute links.
func requestOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
