package recovery

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/signin"
)

// Composers returns the outbox Composers of the notification mails, by kind: the recovery mail
// (MailKindRecovery) and the passkey added and removed mails (signin.MailKindPasskeyAdded,
// signin.MailKindPasskeyRemoved). publicURL is where people reach Latchkey; "" takes the relying
// party's origin.
func (s *Service) Composers(publicURL string) map[string]mail.Composer {
	return map[string]mail.Composer{
		MailKindRecovery:              s.RecoveryComposer(publicURL),
		signin.MailKindPasskeyAdded:   s.passkeyComposer(publicURL, true),
		signin.MailKindPasskeyRemoved: s.passkeyComposer(publicURL, false),
	}
}

// RecoveryComposer returns the Composer of recovery mails. It sends one message to every
// address on record for the person (work and personal) and their manager's work address, so
// that each sees who else was told; it names the path, who issued the pass and when, in the
// organisation's time zone (the onboarding settings), and what to do if it was not them. It
// never holds the pass. A person deleted meanwhile is skipped (mail.ErrSkip); a person with no
// address and no manager with one is mail.Undeliverable, which the admin home lists.
func (s *Service) RecoveryComposer(publicURL string) mail.Composer {
	return func(ctx context.Context, item *latchkey.MailItem) (*mail.Message, func(context.Context) error, error) {
		u, err := s.subject(ctx, item)
		if err != nil {
			return nil, nil, err
		}
		to := addresses(u.Mail, u.PersonalMail)
		l := recoveryLetter{Path: item.Params["path"], By: item.Params["by"], At: paramTime(item, "at")}
		if u.ManagerID != "" {
			m, err := s.Store.FindUserByID(ctx, u.ManagerID)
			if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return nil, nil, fmt.Errorf("find manager: %w", err)
			}
			if m != nil { // the manager's work address only, as for onboarding: never their personal one
				if with := addresses(append(slices.Clone(to), m.Mail)...); len(with) > len(to) {
					to, l.Manager = with, m.DisplayName
				}
			}
		}
		if len(to) == 0 {
			return nil, nil, &mail.Undeliverable{Reason: fmt.Sprintf(
				"Nobody could be told that a recovery pass was issued for %s: they have no mail address on record and no manager with one. Tell them yourself.", u.UserPrincipalName)}
		}
		if l.letterBase, err = s.letterBase(ctx, publicURL, u); err != nil {
			return nil, nil, err
		}
		l.To = to
		return &mail.Message{To: to, Subject: l.subject(), Text: l.text()}, nil, nil
	}
}

// passkeyComposer returns the Composer of the mails that tell a person a passkey was added to
// (added) or removed from their account, sent to every address on record for them (not their
// manager). Skipped and undeliverable as RecoveryComposer.
func (s *Service) passkeyComposer(publicURL string, added bool) mail.Composer {
	return func(ctx context.Context, item *latchkey.MailItem) (*mail.Message, func(context.Context) error, error) {
		u, err := s.subject(ctx, item)
		if err != nil {
			return nil, nil, err
		}
		to := addresses(u.Mail, u.PersonalMail)
		if len(to) == 0 {
			what := "added to"
			if !added {
				what = "removed from"
			}
			return nil, nil, &mail.Undeliverable{Reason: fmt.Sprintf(
				"Nobody could be told that a passkey was %s the account of %s: they have no mail address on record.", what, u.UserPrincipalName)}
		}
		l := passkeyLetter{Added: added, Name: item.Params["name"], Kind: item.Params["kind"], Provider: item.Params["provider"],
			By: item.Params["by"], At: paramTime(item, "at")}
		if l.letterBase, err = s.letterBase(ctx, publicURL, u); err != nil {
			return nil, nil, err
		}
		return &mail.Message{To: to, Subject: l.subject(), Text: l.text()}, nil, nil
	}
}

// subject returns the person the item is about; mail.ErrSkip when they were deleted since.
func (s *Service) subject(ctx context.Context, item *latchkey.MailItem) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, item.SubjectID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, mail.ErrSkip
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// letterBase returns what every notification to u says: the organisation, where Latchkey is,
// and its time zone, from the onboarding settings.
func (s *Service) letterBase(ctx context.Context, publicURL string, u *latchkey.User) (letterBase, error) {
	p, err := s.Signin.MethodsPolicy(ctx)
	if err != nil {
		return letterBase{}, fmt.Errorf("read methods policy: %w", err)
	}
	o := p.TemporaryAccessPass.Onboarding
	l := letterBase{Org: o.OrganizationName, PublicURL: s.publicURL(publicURL), Person: u.DisplayName, UPN: u.UserPrincipalName,
		Zone: o.Location(), ZoneName: o.TimeZone, Helpdesk: o.HelpdeskContact}
	if l.ZoneName == "" {
		l.ZoneName = "UTC"
	}
	if l.Org == "" {
		l.Org = l.PublicURL
		if pu, err := url.Parse(l.PublicURL); err == nil && pu.Hostname() != "" {
			l.Org = pu.Hostname()
		}
	}
	if l.Person == "" {
		l.Person = u.UserPrincipalName
	}
	return l, nil
}

// publicURL returns given without a trailing slash, or the relying party's origin when empty.
func (s *Service) publicURL(given string) string {
	if given == "" && s.Signin != nil && s.Signin.WebAuthn != nil && len(s.Signin.WebAuthn.Config.RPOrigins) > 0 {
		given = s.Signin.WebAuthn.Config.RPOrigins[0]
	}
	return strings.TrimSuffix(given, "/")
}

// addresses returns the mail addresses among addrs, once each, in order; empty and malformed
// ones are left out.
func addresses(addrs ...string) []string {
	var out []string
	for _, a := range addrs {
		if a != "" && mail.CheckAddress(a) == nil && !slices.ContainsFunc(out, func(b string) bool { return strings.EqualFold(a, b) }) {
			out = append(out, a)
		}
	}
	return out
}

// paramTime returns the item's time parameter key, or its NotBefore when the parameter is
// missing or malformed.
func paramTime(item *latchkey.MailItem, key string) time.Time {
	if t, err := time.Parse(time.RFC3339, item.Params[key]); err == nil {
		return t
	}
	return item.NotBefore
}
