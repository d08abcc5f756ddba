package provisioning

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Onboarding mail states.
const (
	MailNone    = "none"    // no onboarding mail is queued for the person (none, or cancelled)
	MailWaiting = "waiting" // queued, not sent yet (or being retried)
	MailSent    = "sent"
	MailFailed  = "failed" // the outbox gave up
)

// Pass states.
const (
	PassNone    = "none"
	PassWaiting = "waiting" // issued, not valid yet (start date ahead)
	PassUnused  = "unused"  // valid now, not used yet
	PassUsed    = "used"
	PassExpired = "expired" // expired without being used
)

// Onboarding is how far a new person has got: the mail with their pass, the pass, a passkey.
type Onboarding struct {
	// Mail is one of the Mail* states; MailAt is when it was sent, for MailSent.
	Mail   string
	MailAt *time.Time
	// Pass is one of the Pass* states; PassAt is when it was used (PassUsed) or from when it
	// works (PassWaiting).
	Pass   string
	PassAt *time.Time
	// Passkeys counts the person's passkeys; PasskeyAt is when the first was registered.
	Passkeys  int
	PasskeyAt *time.Time
}

// onboarding reads u's onboarding state from the store.
func (s *Service) onboarding(ctx context.Context, u *latchkey.User, now time.Time) (Onboarding, error) {
	var ob Onboarding
	var err error
	if ob.Mail, ob.MailAt, err = s.mailState(ctx, u); err != nil {
		return ob, err
	}
	if ob.Pass, ob.PassAt, err = s.passState(ctx, u, now); err != nil {
		return ob, err
	}
	pks, err := s.auth.Store.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		return ob, err
	}
	ob.Passkeys = len(pks)
	for _, pk := range pks {
		if ob.PasskeyAt == nil || pk.CreatedAt.Before(*ob.PasskeyAt) {
			at := pk.CreatedAt
			ob.PasskeyAt = &at
		}
	}
	return ob, nil
}

// mailState returns the state of u's latest onboarding mail in the outbox, and when it was
// sent for MailSent. A cancelled mail (start date removed, person turned off) counts as none.
func (s *Service) mailState(ctx context.Context, u *latchkey.User) (string, *time.Time, error) {
	items, err := s.auth.Store.ListMail(ctx, latchkey.MailFilter{Kind: "onboarding", SubjectID: u.ID, Limit: 1})
	if err != nil {
		return "", nil, err
	}
	if len(items) == 0 {
		return MailNone, nil, nil
	}
	switch it := items[0]; it.State {
	case latchkey.MailPending:
		return MailWaiting, nil, nil
	case latchkey.MailSent:
		return MailSent, it.SentAt, nil
	case latchkey.MailFailed:
		return MailFailed, nil, nil
	}
	return MailNone, nil, nil
}

// passState returns the state of u's pass. A pass counts as used when the person signed in
// with a pass since they were created, even if that pass has since been replaced or removed.
func (s *Service) passState(ctx context.Context, u *latchkey.User, now time.Time) (string, *time.Time, error) {
	used, err := s.auth.Store.ListSignInsFiltered(ctx, latchkey.SignInFilter{UserID: u.ID, Method: latchkey.MethodTAP,
		Result: latchkey.SignInSuccess, Since: u.CreatedAt, Limit: 1})
	if err != nil {
		return "", nil, err
	}
	if len(used) > 0 {
		at := used[0].CreatedAt
		return PassUsed, &at, nil
	}
	p, err := s.auth.Store.FindAccessPassByUser(ctx, u.ID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return PassNone, nil, nil
	} else if err != nil {
		return "", nil, err
	}
	switch p.State(now) {
	case latchkey.TAPOneTimeUsed:
		return PassUsed, p.UsedAt, nil
	case latchkey.TAPNotYetValid:
		at := p.StartAt
		return PassWaiting, &at, nil
	case latchkey.TAPExpired:
		return PassExpired, nil, nil
	}
	return PassUnused, nil, nil
}
