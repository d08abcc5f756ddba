package policypages

import (
	"net/http"
	"slices"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/web"
)

// handleAdminPolicyRecovery changes the recovery settings of the pass section: My Staff (on or
// off, which groups of managers, the pass's lifetime) and the kiosk pass's lifetime.
func (s *Pages) handleAdminPolicyRecovery(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "recovery", func(p *policy.MethodsPolicy) error {
		if err := web.CheckOffered(r, web.Offered{Field: "myStaffOn", Values: web.Yes}); err != nil {
			return err
		}
		m := &p.TemporaryAccessPass.MyStaff
		m.State = policy.StateDisabled
		if r.PostFormValue("myStaffOn") == "yes" {
			m.State = policy.StateEnabled
		}
		m.IncludeGroups = slices.DeleteFunc(slices.Clone(r.PostForm["myStaffGroups"]), func(g string) bool { return g == "" })
		if m.IncludeGroups == nil {
			m.IncludeGroups = []string{}
		}
		var err error
		if m.LifetimeInMinutes, err = formInt(r, "myStaffLifetime", "lifetime of a manager's pass"); err != nil {
			return err
		}
		if p.TemporaryAccessPass.Kiosk.LifetimeInMinutes, err = formInt(r, "kioskLifetime", "lifetime of a pass for a new phone"); err != nil {
			return err
		}
		if m.LifetimeInMinutes < 1 || m.LifetimeInMinutes > policy.RecoveryMaxLifetime {
			return invalidForm("a manager's pass must work between 1 and %d minutes, not %d", policy.RecoveryMaxLifetime, m.LifetimeInMinutes)
		}
		if k := p.TemporaryAccessPass.Kiosk.LifetimeInMinutes; k < 1 || k > policy.RecoveryMaxLifetime {
			return invalidForm("a pass for a new phone must work between 1 and %d minutes, not %d", policy.RecoveryMaxLifetime, k)
		}
		return s.knownGroups(r, m.IncludeGroups)
	})
}

// knownGroups refuses group ids that name no group the admin can choose.
func (s *Pages) knownGroups(r *http.Request, ids []string) error {
	a, err := s.Actor(r)
	if err != nil {
		return err
	}
	groups, err := s.policies.PolicyGroups(r.Context(), a)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(groups, func(g policyadmin.Named) bool { return g.ID == id }) {
			return invalidForm("the group %q does not exist; reload the page and choose again", id)
		}
	}
	return nil
}

// idNames returns the names of the group ids.
func idNames(ids []string, nameOf func(string) string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = nameOf(id)
	}
	return out
}

// idSet returns ids as a set, for the form's checkboxes.
func idSet(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}
