package web

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// navLink is one link of the admin navigation.
type navLink struct {
	// ID is the link's element id (nav-users, nav-signins, ...).
	ID    string
	Href  string
	Label string
	// Current reports whether the page shown is under Href.
	Current bool
}

// adminPageLinks lists every admin page in navigation order, with the action and target of the
// page's main read: the link is shown only to a viewer that read is allowed for. A page marked
// anyScope shows what falls within the viewer's scope (the users list: a unit's members for a
// role scoped to the unit), so any assignment that grants its action shows the link.
var adminPageLinks = []struct {
	link     navLink
	action   authz.Action
	target   authz.Target
	anyScope bool
}{
	{navLink{ID: "nav-users", Href: "/admin/users", Label: "Users"}, authz.ActionReadUsers, authz.Target{Kind: authz.TargetUser}, true},
	{navLink{ID: "nav-helpdesk", Href: "/admin/helpdesk", Label: "Helpdesk"}, authz.ActionIssueTAP, authz.Target{Kind: authz.TargetUser}, true},
	{navLink{ID: "nav-roles", Href: "/admin/roles", Label: "Roles"}, authz.ActionManageRoles, authz.Target{Kind: authz.TargetRole}, false},
	{navLink{ID: "nav-units", Href: "/admin/units", Label: "Units"}, authz.ActionManageUnits, authz.Target{Kind: authz.TargetUnit}, false},
	{navLink{ID: "nav-policy", Href: "/admin/policy", Label: "Policy"}, authz.ActionReadMethodsPolicy, authz.Target{Kind: authz.TargetPolicy}, false},
	{navLink{ID: "nav-recovery", Href: "/admin/recovery", Label: "Recovery"}, authz.ActionReadMethodsPolicy, authz.Target{Kind: authz.TargetPolicy}, false},
	{navLink{ID: "nav-ca", Href: "/admin/ca", Label: "Conditional access"}, authz.ActionReadConditionalAccess, authz.Target{Kind: authz.TargetPolicy}, false},
	{navLink{ID: "nav-inspect", Href: "/admin/inspect", Label: "Inspect"}, authz.ActionReadMethodsPolicy, authz.Target{Kind: authz.TargetPolicy}, false},
	{navLink{ID: "nav-apps", Href: "/admin/apps", Label: "Apps"}, authz.ActionManageApplications, authz.Target{Kind: authz.TargetApplication}, false},
	{navLink{ID: "nav-signins", Href: "/admin/signins", Label: "Sign-ins"}, authz.ActionReadSignInLog, authz.Target{Kind: authz.TargetLog}, false},
	{navLink{ID: "nav-tokens", Href: "/admin/tokens", Label: "Tokens"}, authz.ActionManageTokens, authz.Target{Kind: authz.TargetToken}, false},
	{navLink{ID: "nav-audit", Href: "/admin/audit", Label: "Audit log"}, authz.ActionReadAuditLog, authz.Target{Kind: authz.TargetLog}, false},
	{navLink{ID: "nav-provisioning", Href: "/admin/provisioning", Label: "Provisioning"}, authz.ActionReadProvisioning, authz.Target{Kind: authz.TargetLog}, false},
}

// caPages are the pages reached from Conditional access, which its link stands for.
var caPages = []string{"/admin/strengths", "/admin/locations", "/admin/whatif"}

// peoplePages are shown with Users marked as current: groups are reached from the users page.
var peoplePages = []string{"/admin/groups"}

// adminNav returns the admin pages a may see, in navigation order: those whose main read authz
// allows a. It only decides what to show; each page's service still decides on the request.
// path is the page being shown, to mark its link as current.
func adminNav(a latchkey.Actor, path string) []navLink {
	var out []navLink
	for _, p := range adminPageLinks {
		if p.anyScope && !authz.Can(a, p.action) || !p.anyScope && authz.Decide(a, p.action, p.target) != nil {
			continue
		}
		l := p.link
		l.Current = path == l.Href || strings.HasPrefix(path, l.Href+"/") ||
			(l.ID == "nav-ca" && underAny(caPages, path)) || (l.ID == "nav-users" && underAny(peoplePages, path))
		out = append(out, l)
	}
	return out
}

// underAny reports whether path is one of pages or below one.
func underAny(pages []string, path string) bool {
	for _, p := range pages {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// viewerNav returns the admin links for the person the page is shown to (see adminNav); none
// when nobody is signed in or their roles cannot be read (the page itself still shows).
func (s *Web) viewerNav(r *http.Request, sess *latchkey.Session, u *latchkey.User) []navLink {
	if u == nil {
		return nil
	}
	a, err := s.auth.PersonActor(r.Context(), sess, u)
	if err != nil {
		s.logger.Warn("admin navigation: read the viewer's roles", "err", err)
		return nil
	}
	return adminNav(a, r.URL.Path)
}

// errNoAdminPage is the refusal of /admin to a person whose roles allow no admin page.
func errNoAdminPage(a latchkey.Actor) error {
	return latchkey.Errorf(latchkey.EFORBIDDEN, authz.CodeNotAllowed,
		"The admin pages are for administrators. To manage your own passkeys, go to My security info.",
		"%s holds no role that allows any admin page", a.Name())
}
