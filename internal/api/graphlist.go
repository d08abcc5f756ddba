package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Paging of Graph-shaped lists: a page holds $top items (at most maxTop, defaultTop when not
// given) and, when more follow, an @odata.nextLink whose $skiptoken is an opaque cursor. The
// cursor is the last key of the page with a MAC under the shared form-token key, bound to the
// list and its filter, so that an altered or transplanted cursor is refused with 400.
const (
	defaultTop = 100
	maxTop     = 999
)

// contextURL is Graph's @odata.context for what, under this server's API.
func (s *API) contextURL(r *http.Request, what string) string {
	return s.apiBase(r) + "/$metadata#" + what
}

// apiBase is the absolute address of /api/v1 on this server: under its public URL (the
// WebAuthn origin), or as the request reached it when there is none.
func (s *API) apiBase(r *http.Request) string {
	if wa := s.auth.WebAuthn; wa != nil && len(wa.Config.RPOrigins) > 0 {
		return wa.Config.RPOrigins[0] + "/api/v1"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/api/v1"
}

// userFilter is a parsed Graph $filter on users: userPrincipalName eq '...' or
// startswith(userPrincipalName,'...'); the zero value keeps everyone.
type userFilter struct {
	eq, prefix string
}

var (
	filterEq         = regexp.MustCompile(`^\s*userPrincipalName\s+eq\s+'((?:[^']|'')*)'\s*$`)
	filterStartsWith = regexp.MustCompile(`^\s*startswith\(\s*userPrincipalName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$`)
)

func errBadQuery(param, value, why string) error {
	return latchkey.Errorf(latchkey.EINVALID, "invalid_query", "The address has a query this list does not understand.",
		"%s=%q: %s", param, value, why)
}

// parseUserFilter parses $filter; Latchkey supports the two forms scripts use to find a person.
func parseUserFilter(f string) (userFilter, error) {
	if f == "" {
		return userFilter{}, nil
	}
	if m := filterEq.FindStringSubmatch(f); m != nil {
		return userFilter{eq: strings.ReplaceAll(m[1], "''", "'")}, nil
	}
	if m := filterStartsWith.FindStringSubmatch(f); m != nil {
		return userFilter{prefix: strings.ReplaceAll(m[1], "''", "'")}, nil
	}
	return userFilter{}, errBadQuery("$filter", f, "supported: userPrincipalName eq '...' and startswith(userPrincipalName,'...')")
}

// keeps reports whether u passes the filter; UPNs compare without regard to case, as in Graph.
func (f userFilter) keeps(u *latchkey.User) bool {
	upn := strings.ToLower(u.UserPrincipalName)
	switch {
	case f.eq != "":
		return upn == strings.ToLower(f.eq)
	case f.prefix != "":
		return strings.HasPrefix(upn, strings.ToLower(f.prefix))
	}
	return true
}

// parseTop parses $top: 1 to maxTop, defaultTop when absent.
func parseTop(v string) (int, error) {
	if v == "" {
		return defaultTop, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxTop {
		return 0, errBadQuery("$top", v, "want a whole number from 1 to "+strconv.Itoa(maxTop))
	}
	return n, nil
}

// cursorBinding is what a cursor's MAC covers: the list, its filter and the last key, each
// quoted so that no two triples make the same binding.
func cursorBinding(list, filter, after string) string {
	return "graph-cursor\x00" + strconv.Quote(list) + strconv.Quote(filter) + strconv.Quote(after)
}

// makeCursor returns the opaque cursor that continues list (with filter) after the key after.
func (s *API) makeCursor(r *http.Request, list, filter, after string) (string, error) {
	mac, err := s.auth.FormToken(r.Context(), cursorBinding(list, filter, after))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString([]byte(after)) + "." + mac, nil
}

// readCursor returns the key a cursor continues after; a cursor that is malformed, altered or
// made for another list or filter is refused with invalid_query.
func (s *API) readCursor(r *http.Request, list, filter, cursor string) (string, error) {
	bad := errBadQuery("$skiptoken", cursor, "not a cursor this list issued for this filter")
	enc, mac, ok := strings.Cut(cursor, ".")
	if !ok {
		return "", bad
	}
	after, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", bad
	}
	valid, err := s.auth.CheckFormToken(r.Context(), cursorBinding(list, filter, string(after)), mac)
	if err != nil {
		return "", err
	}
	if !valid {
		return "", bad
	}
	return string(after), nil
}

func (s *API) handleAPIListUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := q.Get("$filter")
	f, err := parseUserFilter(filter)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	top, err := parseTop(q.Get("$top"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	after := ""
	if tok := q.Get("$skiptoken"); tok != "" {
		if after, err = s.readCursor(r, "users", filter, tok); err != nil {
			s.WriteError(w, r, err)
			return
		}
	}
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	users, err := s.dir.ListUsers(r.Context(), a)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	sort.Slice(users, func(i, j int) bool { return users[i].UserPrincipalName < users[j].UserPrincipalName })
	page := []*latchkey.User{}
	more := false
	for _, u := range users {
		if !f.keeps(u) || (after != "" && u.UserPrincipalName <= after) {
			continue
		}
		if len(page) == top {
			more = true
			break
		}
		page = append(page, u)
	}
	body := map[string]any{"@odata.context": s.contextURL(r, "users"), "value": page}
	if more {
		cursor, err := s.makeCursor(r, "users", filter, page[len(page)-1].UserPrincipalName)
		if err != nil {
			s.WriteError(w, r, err)
			return
		}
		next := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {cursor}}
		if filter != "" {
			next.Set("$filter", filter)
		}
		body["@odata.nextLink"] = s.apiBase(r) + "/users?" + next.Encode()
	}
	httpedge.WriteJSON(w, http.StatusOK, body)
}
