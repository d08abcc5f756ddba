package web

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// signInPageLimit is the number of events the sign-in log page shows.
const signInPageLimit = 200

// handleAdminSignIns is the sign-in log page.
func (s *Web) handleAdminSignIns(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	q := httpedge.ReadSignInQuery(r)
	data := map[string]any{"Form": q, "CSVURL": "/admin/signins.csv"}
	if enc := q.Encode(); enc != "" {
		data["CSVURL"] = "/admin/signins.csv?" + enc
	}
	f, err := s.SignInFilter(r, q)
	if err == nil {
		if f.Limit == 0 {
			f.Limit = signInPageLimit
		}
		var events []*latchkey.SignInEvent
		events, err = s.auth.SignInEvents(r.Context(), a, f)
		if latchkey.IsKind(err, latchkey.EFORBIDDEN) {
			// Not the viewer's log to read: the refusal alone, without the filter form.
			s.errorPage(w, r, err)
			return
		}
		events = httpedge.WithPolicyResult(events, q.PolicyResult)
		if id := r.URL.Query().Get("policy"); id != "" {
			events, data["Policy"] = withPolicy(events, id, q.PolicyResult), id
		}
		data["SignIns"], data["Limit"] = events, f.Limit
	}
	v := View{Data: data}
	if err != nil {
		status, body := s.PublicError(r, err)
		v.Error, v.Status = &body, status
	}
	s.Render(w, r, "admin-signins", "Sign-ins", v)
}

// withPolicy keeps the events in which the conditional access policy id had result (any result
// when result is empty): the home page's link to what one report-only policy would block.
func withPolicy(events []*latchkey.SignInEvent, id, result string) []*latchkey.SignInEvent {
	out := events[:0:0]
	for _, e := range events {
		if slices.ContainsFunc(e.ConditionalAccess, func(r latchkey.PolicyResult) bool {
			return r.PolicyID == id && (result == "" || r.Result == result)
		}) {
			out = append(out, e)
		}
	}
	return out
}

// SignInCSVHeader names the columns of the CSV download.
var SignInCSVHeader = []string{"createdDateTime", "userId", "userPrincipalName", "appId", "method", "passkeyKind", "passkeyId",
	"aaguid", "result", "errorCode", "detail", "authenticationStrength", "acr", "amr", "conditionalAccess", "ipAddress",
	"platform", "platformVersion", "userAgent", "correlationId"}

// handleAdminSignInsCSV is the sign-in log as a CSV download, with the page's filter.
func (s *Web) handleAdminSignInsCSV(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	q := httpedge.ReadSignInQuery(r)
	f, err := s.SignInFilter(r, q)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	events, err := s.auth.SignInEvents(r.Context(), a, f)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	events = httpedge.WithPolicyResult(events, q.PolicyResult)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="signins-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(SignInCSVHeader)
	for _, e := range events {
		_ = cw.Write([]string{e.CreatedAt.UTC().Format(time.RFC3339), csvCell(e.UserID), csvCell(e.UPN), csvCell(e.AppID),
			csvCell(e.Method), csvCell(e.PasskeyKind), csvCell(e.PasskeyID), csvCell(e.AAGUID), csvCell(e.Result),
			csvCell(e.ErrorCode), csvCell(e.Detail), csvCell(e.Strength), csvCell(e.ACR), csvCell(e.AMRText()),
			csvCell(policySummary(e.ConditionalAccess)), csvCell(e.IP), csvCell(e.Platform), csvCell(e.PlatformVersion),
			csvCell(e.UserAgent), csvCell(e.CorrelationID)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.logger.Debug("write sign-ins csv", "err", err)
	}
}

// policySummary writes each policy's result as "name: result", separated by "; ".
func policySummary(rs []latchkey.PolicyResult) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Name + ": " + r.Result
	}
	return strings.Join(parts, "; ")
}

// csvCell neutralises a value that a spreadsheet would run as a formula (CSV injection) by
// prefixing it with a single quote.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
