package main

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/recovery"
)

// TestBrowserHelpdeskSecondApprover walks the helpdesk path for an administrator: a helpdesk
// admin (authentication admin) may not issue a pass to Ada, who holds a role, so her page
// offers a request; they file it with the reason, the ticket and how they checked who she is.
// A privileged authentication admin, signed in with a passkey, sees it, confirms (the page
// names Ada, the reason, the ticket and the identity check) and approves. The requester then
// creates the pass, once; Ada signs in with it. Every step is in the audit log, and the
// recovery mail to Ada is queued naming the requester and the approver. With
// LATCHKEY_SCREENSHOT_DIR set, the request form, the list and the approval's confirmation are
// saved at 390 and 1280 px.
func TestBrowserHelpdeskSecondApprover(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ctx := context.Background()
	people := map[string]*latchkey.User{}
	passes := map[string]string{}
	for _, p := range []struct{ upn, name, role string }{
		{"hal@example.com", "Hal Helpdesk", latchkey.RoleAuthenticationAdmin},
		{"pat@example.com", "Pat Privileged", latchkey.RolePrivilegedAuthenticationAdmin},
		{"ada@example.com", "Ada Lovelace", latchkey.RoleReportsReader},
	} {
		u, pass := newUser(t, s, p.upn, p.name)
		if _, err := s.Directory.AssignRole(ctx, latchkey.CLIActor, u.ID, p.role, ""); err != nil {
			t.Fatal(err)
		}
		people[strings.SplitN(p.upn, "@", 2)[0]], passes[p.upn] = u, pass
	}
	adaMail := "ada@mail.example.com"
	ada, err := s.Directory.UpdateUser(ctx, latchkey.CLIActor, people["ada"].ID, directory.UserChanges{Mail: &adaMail})
	if err != nil {
		t.Fatal(err)
	}

	// The helpdesk admin asks for Ada's pass.
	hb := startBrowser(t)
	hb.signInWithTAP(s, "hal@example.com", passes["hal@example.com"])
	hb.navigate(s.URL + "/admin/users/" + ada.ID)
	hb.waitVisible("#helpdesk-request-link")
	if hb.count("#issue-tap") != 0 {
		t.Error("the helpdesk admin is offered to issue Ada's pass directly")
	}
	screenshots(t, hb, "helpdesk-person-page")
	hb.click("#helpdesk-request-link a")
	hb.waitPage("/admin/helpdesk/new", "#helpdesk-request")
	screenshots(t, hb, "helpdesk-request-form")
	hb.typeInto(`#helpdesk-request textarea[name="reason"]`, "Lost her phone on the train")
	hb.typeInto(`#helpdesk-request input[name="ticket"]`, "INC-4242")
	hb.click(`#helpdesk-request input[value="` + latchkey.IdentityCheckVideoWithManager + `"]`)
	hb.click("#helpdesk-request-submit")
	hb.waitPage("/admin/helpdesk", "#helpdesk-done")
	if hb.count("button.create-pass") != 0 {
		t.Error("the requester may create the pass before anyone approved")
	}

	// A privileged authentication admin signs in with a passkey and approves.
	pb := hb.newIsolatedTab()
	pb.signInWithTAP(s, "pat@example.com", passes["pat@example.com"])
	pb.addAuthenticator(deviceBound())
	pb.addPasskey()
	pb.signOut()
	// The sign-in page's autofill request may sign in with the passkey before a click does; either
	// way it is a passkey sign-in.
	pb.waitJS("a passkey sign-in", `(() => {
  if (location.pathname === "/my/security-info" && document.readyState === "complete" && document.querySelector("#signed-in-as")) return true;
  const b = document.querySelector("#passkey-signin");
  if (b && !window.lkClicked) { window.lkClicked = true; b.click(); }
  return false;
})()`)
	pb.navigate(s.URL + "/admin/helpdesk")
	pb.waitVisible("#helpdesk-requests a.approve")
	screenshots(t, pb, "helpdesk-list")
	pb.click("#helpdesk-requests a.approve")
	pb.waitVisible("#confirm-form")
	confirm := pb.text("#confirm-summary") + " " + pb.text("#confirm-facts")
	for _, want := range []string{"Ada Lovelace", "Hal Helpdesk", "Lost her phone on the train", "INC-4242", "Video call with their manager present"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the approval's confirmation %q does not say %q", confirm, want)
		}
	}
	screenshots(t, pb, "helpdesk-approve-confirm")
	pb.click(`#confirm-form input[name="confirm"]`)
	pb.click("#confirm-submit")
	pb.waitPage("/admin/helpdesk", "#helpdesk-done")

	// The requester creates the pass, once.
	hb.navigate(s.URL + "/admin/helpdesk")
	hb.waitVisible("button.create-pass")
	hb.click("button.create-pass")
	hb.waitVisible("#tap-value")
	pass := hb.text("#tap-value")
	screenshots(t, hb, "helpdesk-pass")
	hb.navigate(s.URL + "/admin/helpdesk")
	hb.waitVisible(`#helpdesk-requests tr[data-state="executed"]`)
	if n := hb.count("button.create-pass"); n != 0 {
		t.Errorf("after creating the pass, %d create buttons remain", n)
	}
	reqs, err := s.Store.ListHelpdeskRequests(ctx, s.Auth.Now().AddDate(0, 0, -1))
	if err != nil || len(reqs) != 1 || reqs[0].State != latchkey.HelpdeskExecuted || reqs[0].ApproverID != people["pat"].ID {
		t.Fatalf("helpdesk requests %+v, %v; want one executed, approved by pat", reqs, err)
	}
	ap, err := s.Store.FindAccessPassByUser(ctx, ada.ID)
	if err != nil || ap.ID != reqs[0].PassID || !ap.OneTime {
		t.Fatalf("Ada's pass %+v, %v; want the request's one-time pass", ap, err)
	}

	// Ada signs in with it.
	ab := hb.newIsolatedTab()
	ab.signInWithTAP(s, ada.UserPrincipalName, pass)

	for _, action := range []string{"helpdesk.request", "helpdesk.approve", "helpdesk.execute", "accessPass.issue"} {
		evs, err := s.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: action, Target: ada.ID})
		if err != nil || len(evs) != 1 {
			t.Errorf("%d %s events about Ada, %v; want 1", len(evs), action, err)
		}
	}
	mails, err := s.Store.ListMail(ctx, latchkey.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var notice *latchkey.MailItem
	for _, m := range mails {
		if m.Kind == recovery.MailKindRecovery && m.SubjectID == ada.ID {
			notice = m
		}
	}
	if notice == nil || notice.Params["path"] != recovery.PathHelpdesk || notice.Params["by"] != "Helpdesk: Hal Helpdesk, approved by Pat Privileged" {
		t.Errorf("recovery mail for Ada: %+v; want one by the helpdesk naming Hal and Pat", notice)
	}
	// Ada receives it over SMTP, naming the requester and the approver.
	if m := waitRecoveryMail(t, s.Store, smtp, ada); !strings.Contains(m.Text, "Hal Helpdesk") || !strings.Contains(m.Text, "Pat Privileged") {
		t.Errorf("the recovery mail does not name who:\n%s", m.Text)
	}
}
