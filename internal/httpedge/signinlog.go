package httpedge

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// The sign-in log's filter, as the API and the sign-in log page both read it from a query string.

// SignInQuery is a sign-in log filter as written in a query string, kept to show it back in the
// filter form and to carry it to the CSV download.
type SignInQuery struct {
	User, Result, Method, ErrorCode, App, PolicyResult, Since, Until, Top string
}

// ReadSignInQuery reads the sign-in log filter of the request's query string.
func ReadSignInQuery(r *http.Request) SignInQuery {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return SignInQuery{User: get("user"), Result: get("result"), Method: get("method"), ErrorCode: get("errorCode"),
		App: get("app"), PolicyResult: get("policyResult"), Since: get("since"), Until: get("until"), Top: get("top")}
}

// Encode is the query string of q, without the empty fields.
func (q SignInQuery) Encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"user": q.User, "result": q.Result, "method": q.Method, "errorCode": q.ErrorCode,
		"app": q.App, "policyResult": q.PolicyResult, "since": q.Since, "until": q.Until, "top": q.Top} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// SignInFilter turns q into a filter for signin.Service.SignInEvents. The user may be given by
// id or by UPN (the service resolves it; an unknown user matches no events). since and until
// are RFC 3339 times or, as the page's date inputs send, dates (YYYY-MM-DD, local time; until
// then includes the whole day).
func (s *Base) SignInFilter(r *http.Request, q SignInQuery) (latchkey.SignInFilter, error) {
	f := latchkey.SignInFilter{UserID: q.User, ErrorCode: q.ErrorCode, AppID: q.App}
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
	if q.PolicyResult != "" && !slices.Contains(PolicyResults, q.PolicyResult) {
		return f, latchkey.Errorf(latchkey.EINVALID, "invalid_filter",
			"The policy result must be one of "+strings.Join(PolicyResults, ", ")+".", "policyResult %q", q.PolicyResult)
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

// PolicyResults are the conditional access results an admin may filter by (DESIGN §5).
var PolicyResults = []string{policy.ResultSuccess, policy.ResultFailure, policy.ResultNotApplied, policy.ResultReportOnlySuccess,
	policy.ResultReportOnlyFailure, policy.ResultReportOnlyNotApplied, policy.ResultReportOnlyInterrupted}

// WithPolicyResult keeps the events in which some conditional access policy had result.
func WithPolicyResult(events []*latchkey.SignInEvent, result string) []*latchkey.SignInEvent {
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
