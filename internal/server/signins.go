package server

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// signInPageLimit is the number of events the sign-in log page shows.
const signInPageLimit = 200

// signInQuery is a sign-in log filter as written in a query string, kept to show it back in the
// filter form and to carry it to the CSV download.
type signInQuery struct {
	User, Result, Method, ErrorCode, App, PolicyResult, Since, Until, Top string
}

func readSignInQuery(r *http.Request) signInQuery {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return signInQuery{User: get("user"), Result: get("result"), Method: get("method"), ErrorCode: get("errorCode"),
		App: get("app"), PolicyResult: get("policyResult"), Since: get("since"), Until: get("until"), Top: get("top")}
}

// encode is the query string of q, without the empty fields.
func (q signInQuery) encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"user": q.User, "result": q.Result, "method": q.Method, "errorCode": q.ErrorCode,
		"app": q.App, "policyResult": q.PolicyResult, "since": q.Since, "until": q.Until, "top": q.Top} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// filter turns q into a store filter. The user may be given by id or by UPN; an unknown user
// matches no events. since and until are RFC 3339 times or, as the page's date inputs send,
// dates (YYYY-MM-DD, local time; until then includes the whole day).
func (s *Server) signInFilter(r *http.Request, q signInQuery) (latchkey.SignInFilter, error) {
	f := latchkey.SignInFilter{UserID: q.User, ErrorCode: q.ErrorCode, AppID: q.App}
	if q.User != "" {
		if u, err := s.store.FindUserByUPN(r.Context(), q.User); err == nil {
			f.UserID = u.ID
		} else if !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return f, err
		}
	}
	switch q.Result {
	case "", latchkey.SignInSuccess, latchkey.SignInFailure:
		f.Result = q.Result
	default:
		return f, latchkey.Errorf(latchkey.EINVALID, "invalid_filter", "The result must be success or failure.", "result %q", q.Result)
	}
	if !methodFilter.MatchString(q.Method) {
		return f, latchkey.Errorf(latchkey.EINVALID, "invalid_filter",
			"The method must be a method name such as passkey, tap, password+totp or passkeyRegistration.", "method %q", q.Method)
	}
	f.Method = q.Method
	if q.PolicyResult != "" && !slices.Contains(policyResults, q.PolicyResult) {
		return f, latchkey.Errorf(latchkey.EINVALID, "invalid_filter",
			"The policy result must be one of "+strings.Join(policyResults, ", ")+".", "policyResult %q", q.PolicyResult)
	}
	var err error
	if f.Since, err = parseFilterTime("since", q.Since, false); err != nil {
		return f, err
	}
	if f.Until, err = parseFilterTime("until", q.Until, true); err != nil {
		return f, err
	}
	if q.Top != "" {
		n, err := strconv.Atoi(q.Top)
		if err != nil || n <= 0 || n > latchkey.MaxSignInFilterLimit {
			return f, latchkey.Errorf(latchkey.EINVALID, "invalid_filter",
				"top must be a whole number from 1 to "+strconv.Itoa(latchkey.MaxSignInFilterLimit)+".", "top %q", q.Top)
		}
		f.Limit = n
	}
	return f, nil
}

// methodFilter matches what the sign-in log records as a method: a name, or names joined by +.
var methodFilter = regexp.MustCompile(`^([A-Za-z]{1,40}(\+[A-Za-z]{1,40}){0,3})?$`)

// policyResults are the conditional access results an admin may filter by (DESIGN §5).
var policyResults = []string{policy.ResultSuccess, policy.ResultFailure, policy.ResultNotApplied, policy.ResultReportOnlySuccess,
	policy.ResultReportOnlyFailure, policy.ResultReportOnlyNotApplied, policy.ResultReportOnlyInterrupted}

// withPolicyResult keeps the events in which some conditional access policy had result.
func withPolicyResult(events []*latchkey.SignInEvent, result string) []*latchkey.SignInEvent {
	if result == "" {
		return events
	}
	out := events[:0:0]
	for _, e := range events {
		if slices.ContainsFunc(e.ConditionalAccess, func(r latchkey.PolicyResult) bool { return r.Result == result }) {
			out = append(out, e)
		}
	}
	return out
}

func parseFilterTime(name, v string, endOfDay bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.Local); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, latchkey.Errorf(latchkey.EINVALID, "invalid_filter",
		"Enter "+name+" as a date and time such as 2025-03-14T09:00:00Z.", "%s %q is not RFC 3339", name, v)
}

// handleAPISignIns is GET /api/v1/auditLogs/signIns.
func (s *Server) handleAPISignIns(w http.ResponseWriter, r *http.Request) {
	f, err := s.signInFilter(r, readSignInQuery(r))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	q := readSignInQuery(r)
	events, err := s.store.ListSignInsFiltered(r.Context(), f)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": withPolicyResult(events, q.PolicyResult)})
}

// handleAdminSignIns is the sign-in log page.
func (s *Server) handleAdminSignIns(w http.ResponseWriter, r *http.Request) {
	q := readSignInQuery(r)
	data := map[string]any{"Form": q, "CSVURL": "/admin/signins.csv"}
	if enc := q.encode(); enc != "" {
		data["CSVURL"] = "/admin/signins.csv?" + enc
	}
	f, err := s.signInFilter(r, q)
	if err == nil {
		if f.Limit == 0 {
			f.Limit = signInPageLimit
		}
		var events []*latchkey.SignInEvent
		events, err = s.store.ListSignInsFiltered(r.Context(), f)
		data["SignIns"], data["Limit"] = withPolicyResult(events, q.PolicyResult), f.Limit
	}
	v := view{Data: data}
	if err != nil {
		status, body := s.PublicError(r, err)
		v.Error, v.Status = &body, status
	}
	s.render(w, r, "admin-signins", "Sign-ins", v)
}

// signInCSVHeader names the columns of the CSV download.
var signInCSVHeader = []string{"createdDateTime", "userId", "userPrincipalName", "appId", "method", "passkeyKind", "passkeyId",
	"aaguid", "result", "errorCode", "detail", "authenticationStrength", "acr", "amr", "conditionalAccess", "ipAddress",
	"platform", "platformVersion", "userAgent", "correlationId"}

// handleAdminSignInsCSV is the sign-in log as a CSV download, with the page's filter.
func (s *Server) handleAdminSignInsCSV(w http.ResponseWriter, r *http.Request) {
	q := readSignInQuery(r)
	f, err := s.signInFilter(r, q)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	events, err := s.store.ListSignInsFiltered(r.Context(), f)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	events = withPolicyResult(events, q.PolicyResult)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="signins-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(signInCSVHeader)
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
