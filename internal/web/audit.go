package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// auditPageLimit is the number of events the audit log page shows.
const auditPageLimit = 200

// auditForm is the audit log page's filter as the person typed it.
type auditForm struct {
	Actor, Action, Target, Since, Until string
}

// handleAdminAudit is the audit log page: newest first, filtered by actor, action, target and
// dates.
func (s *Web) handleAdminAudit(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	q := r.URL.Query()
	form := auditForm{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Target: strings.TrimSpace(q.Get("target")), Since: q.Get("since"), Until: q.Get("until")}
	f := latchkey.AuditFilter{Actor: form.Actor, Action: form.Action, Target: form.Target, Limit: auditPageLimit, Newest: true}
	data := map[string]any{"Form": form, "Limit": auditPageLimit}
	if f.Since, err = pageDate("since", form.Since, false); err == nil {
		f.Until, err = pageDate("until", form.Until, true)
	}
	if err == nil {
		var events []*latchkey.AuditEvent
		events, err = s.dir.ListAuditEvents(r.Context(), a, f)
		if latchkey.IsKind(err, latchkey.EFORBIDDEN) {
			s.errorPage(w, r, err)
			return
		}
		data["Events"] = events
	}
	v := View{Data: data}
	if err != nil {
		status, body := s.PublicError(r, err)
		v.Error, v.Status = &body, status
	}
	s.Render(w, r, "admin-audit", "Audit log", v)
}

// pageDate reads a date field (2026-12-01, local time); endOfDay gives the next midnight, so
// that "until" includes the day named.
func pageDate(field, v string, endOfDay bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, time.Local)
	if err != nil {
		return time.Time{}, latchkey.Errorf(latchkey.EINVALID, "invalid_date", "Give the date like 2026-12-01.", "%s %q is not a date", field, v)
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
