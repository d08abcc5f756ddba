package directory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// MailKindOnboarding is the outbox kind of the mail that brings a new person their first pass.
const MailKindOnboarding = "onboarding"

// OnboardingMailKey is the outbox key of the onboarding mail of the person userID: one pending
// mail per person, which a later change replaces.
func OnboardingMailKey(userID string) string { return "onboarding:" + userID }

// onboarding returns the onboarding settings in force and the service's time.
func (s *Service) onboarding(ctx context.Context) (policy.MethodsPolicy, error) {
	if s.Signin == nil {
		return policy.MethodsPolicy{}, errors.New("directory: no sign-in service for the onboarding settings")
	}
	p, err := s.Signin.MethodsPolicy(ctx)
	if err != nil {
		return p, fmt.Errorf("read methods policy: %w", err)
	}
	return p, nil
}

// queueOnboarding returns ctx carrying what the onboarding mail of u (as it will be stored)
// needs: queued for its day (replacing a pending one), or cancelled when u has no start date,
// is turned off, or started long ago. The write made with ctx applies it in its transaction.
func (s *Service) queueOnboarding(ctx context.Context, u *latchkey.User) (context.Context, error) {
	p, err := s.onboarding(ctx)
	if err != nil {
		return ctx, err
	}
	at, ok, err := p.TemporaryAccessPass.Onboarding.SendAt(u.StartDate, s.Signin.Now())
	if err != nil {
		return ctx, err // Validate refuses such a date before this is reached
	}
	if !ok || !u.Enabled {
		return latchkey.CancelMail(ctx, OnboardingMailKey(u.ID)), nil
	}
	return latchkey.QueueMail(ctx, latchkey.MailItem{Kind: MailKindOnboarding, Key: OnboardingMailKey(u.ID), SubjectID: u.ID,
		NotBefore: at, Params: map[string]string{"startDate": u.StartDate}}), nil
}

// followOnboarding returns ctx carrying the change of u's onboarding mail that an edit to after
// needs: none when nothing that decides the mail changed; none when the mail was sent already
// and the start date stays (the person has their pass); else queued again or cancelled, as
// queueOnboarding decides. A new work address also queues again the unsent mails of the
// person's reports (see followManagerMail).
func (s *Service) followOnboarding(ctx context.Context, before, after *latchkey.User) (context.Context, error) {
	if before.Mail != after.Mail && after.Mail != "" {
		var err error
		if ctx, err = s.followManagerMail(ctx, after); err != nil {
			return ctx, err
		}
	}
	if before.StartDate == after.StartDate && before.ManagerID == after.ManagerID && before.Mail == after.Mail &&
		before.PersonalMail == after.PersonalMail && before.Enabled == after.Enabled {
		return ctx, nil
	}
	if after.StartDate == before.StartDate {
		sent, err := s.Store.ListMail(ctx, latchkey.MailFilter{Kind: MailKindOnboarding, SubjectID: after.ID, State: latchkey.MailSent, Limit: 1})
		if err != nil {
			return ctx, fmt.Errorf("list onboarding mail: %w", err)
		}
		if len(sent) > 0 {
			return ctx, nil
		}
	}
	return s.queueOnboarding(ctx, after)
}

// followManagerMail returns ctx carrying the onboarding mails of m's reports queued again, for
// those whose mail was not sent yet: m has a new work address, so a mail skipped for want of
// one can go now.
func (s *Service) followManagerMail(ctx context.Context, m *latchkey.User) (context.Context, error) {
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return ctx, fmt.Errorf("list users: %w", err)
	}
	for _, u := range users {
		if u.ManagerID != m.ID || u.StartDate == "" || !u.Enabled {
			continue
		}
		sent, err := s.Store.ListMail(ctx, latchkey.MailFilter{Kind: MailKindOnboarding, SubjectID: u.ID, State: latchkey.MailSent, Limit: 1})
		if err != nil {
			return ctx, fmt.Errorf("list onboarding mail: %w", err)
		}
		if len(sent) == 0 {
			if ctx, err = s.queueOnboarding(ctx, u); err != nil {
				return ctx, err
			}
		}
	}
	return ctx, nil
}

// onboardingRecipient returns the address u's onboarding mail goes to under o, with the name
// of whom it greets; "" when there is none. A manager is reached at their work address (mail)
// only: a user name looks like an address but need not be a mailbox, and a pass must not go
// to a stranger's.
func (s *Service) onboardingRecipient(ctx context.Context, o policy.Onboarding, u *latchkey.User) (addr, name string, err error) {
	if o.Recipient == policy.RecipientPersonalMail {
		return u.PersonalMail, u.DisplayName, nil
	}
	if u.ManagerID == "" {
		return "", "", nil
	}
	m, err := s.Store.FindUserByID(ctx, u.ManagerID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return "", "", nil
	} else if err != nil {
		return "", "", err
	}
	return m.Mail, m.DisplayName, nil
}

// OnboardingComposer returns the outbox Composer of onboarding mails. At the moment of sending
// it reads the person again and skips (mail.ErrSkip) one deleted, turned off, without a start
// date, with a passkey already, or without an address to send to (they then need a pass by
// hand, see OnboardingState);
// else it issues their pass as Latchkey itself (latchkey.SystemActor), from the start date's
// time for the onboarding lifetime, replacing any earlier pass, and builds the message in memory.
// The pass is one-time only when the pass policy makes every pass so: a new person who fails
// to finish the passkey set-up at the first go may try again the same day. Undo revokes that
// pass when the send fails (a retry issues another). publicURL is where people reach Latchkey;
// "" takes the relying party's origin.
func (s *Service) OnboardingComposer(publicURL string) mail.Composer {
	return func(ctx context.Context, item *latchkey.MailItem) (*mail.Message, func(context.Context) error, error) {
		u, err := s.Store.FindUserByID(ctx, item.SubjectID)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, nil, mail.ErrSkip
		} else if err != nil {
			return nil, nil, err
		}
		p, err := s.onboarding(ctx)
		if err != nil {
			return nil, nil, err
		}
		o := p.TemporaryAccessPass.Onboarding
		if _, due, err := o.SendAt(u.StartDate, s.Signin.Now()); err != nil || !due || !u.Enabled {
			return nil, nil, mail.ErrSkip
		}
		if pks, err := s.Store.ListPasskeysByUser(ctx, u.ID); err != nil {
			return nil, nil, err
		} else if len(pks) > 0 { // set up already (with a pass given by hand): a pass now only adds risk
			return nil, nil, mail.ErrSkip
		}
		to, greeting, err := s.onboardingRecipient(ctx, o, u)
		if err != nil {
			return nil, nil, err
		}
		if to == "" {
			return nil, nil, mail.ErrSkip
		}
		start, err := o.PassStart(u.StartDate)
		if err != nil {
			return nil, nil, mail.ErrSkip
		}
		pass, ap, err := s.IssueAccessPass(ctx, latchkey.SystemActor, u.ID,
			signin.IssueOptions{StartAt: start, LifetimeMinutes: o.Lifetime(p.TemporaryAccessPass)})
		if err != nil {
			return nil, nil, fmt.Errorf("issue onboarding pass: %w", err)
		}
		undo := func(ctx context.Context) error {
			err := s.RevokeAccessPassMethod(ctx, latchkey.SystemActor, u.ID, ap.ID)
			if latchkey.IsKind(err, latchkey.ENOTFOUND) { // replaced or revoked meanwhile
				return nil
			}
			return err
		}
		l := onboardingLetter{Org: o.OrganizationName, PublicURL: s.publicURL(publicURL), Person: u.DisplayName, UPN: u.UserPrincipalName,
			UserID: u.ID, StartDate: u.StartDate, ToManager: o.Recipient != policy.RecipientPersonalMail, Greeting: greeting,
			Pass: pass, From: ap.StartAt, To: ap.ExpiresAt(), OneTime: ap.OneTime, Zone: o.Location(), ZoneName: o.TimeZone}
		if l.Org == "" {
			l.Org = hostOf(l.PublicURL)
		}
		return &mail.Message{To: []string{to}, Subject: l.subject(), Text: l.text()}, undo, nil
	}
}

// publicURL returns given without a trailing slash, or the relying party's origin when empty.
func (s *Service) publicURL(given string) string {
	if given == "" && s.Signin != nil && s.Signin.WebAuthn != nil && len(s.Signin.WebAuthn.Config.RPOrigins) > 0 {
		given = s.Signin.WebAuthn.Config.RPOrigins[0]
	}
	return strings.TrimSuffix(given, "/")
}

// hostOf returns the host name of the address u, or u itself when it has none.
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Hostname() != "" {
		return p.Hostname()
	}
	return u
}
