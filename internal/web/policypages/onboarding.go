package policypages

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/web"
)

// onboardingZones are the time zones the onboarding form suggests; any IANA name is accepted.
var onboardingZones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Madrid", "Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Helsinki", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto", "America/Sao_Paulo", "Asia/Tokyo",
	"Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg"}

// handleAdminPolicyOnboarding changes the onboarding settings of the pass section.
func (s *Pages) handleAdminPolicyOnboarding(w http.ResponseWriter, r *http.Request) {
	s.changePolicy(w, r, "onboarding", func(p *policy.MethodsPolicy) error {
		if err := web.CheckOffered(r, web.Offered{Field: "onboardingOn", Values: web.Yes},
			web.Offered{Field: "recipient", Values: []string{policy.RecipientManager, policy.RecipientPersonalMail}}); err != nil {
			return err
		}
		o := &p.TemporaryAccessPass.Onboarding
		o.State = policy.StateDisabled
		if r.PostFormValue("onboardingOn") == "yes" {
			o.State = policy.StateEnabled
		}
		o.TimeOfDay = strings.TrimSpace(r.PostFormValue("timeOfDay"))
		o.TimeZone = strings.TrimSpace(r.PostFormValue("timeZone"))
		o.Recipient = r.PostFormValue("recipient")
		o.OrganizationName = strings.TrimSpace(r.PostFormValue("organizationName"))
		o.HelpdeskContact = strings.TrimSpace(r.PostFormValue("helpdeskContact"))
		var err error
		if o.LifetimeInMinutes, err = formInt(r, "onboardingLifetime", "lifetime of a new person's pass"); err != nil {
			return err
		}
		return nil
	})
}
