package directory

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Stages of a person's onboarding, as OnboardingState reports them.
const (
	OnboardingNone              = "none"              // no start date
	OnboardingOff               = "off"               // onboarding mails are turned off
	OnboardingAccountOff        = "accountOff"        // the person's account is turned off
	OnboardingLongAgo           = "longAgo"           // the start date is too far back for a mail
	OnboardingWaiting           = "waiting"           // the mail waits for its day (or a retry)
	OnboardingNeedsPassByHand   = "needsPassByHand"   // no address to send the pass to
	OnboardingSent              = "sent"              // the mail with the pass was sent
	OnboardingFailed            = "failed"            // the outbox gave up sending it
	OnboardingPassUsed          = "passUsed"          // they signed in with a pass, no passkey yet
	OnboardingPasskeyRegistered = "passkeyRegistered" // they have a passkey: done
)

// OnboardingState is where a person is in onboarding: whether their first pass waits, went out,
// failed or needs to be given by hand, and whether they used it and set up a passkey.
type OnboardingState struct {
	// Stage is one of the Onboarding* stages.
	Stage string `json:"stage"`
	// StartDate is the person's start date ("" when none).
	StartDate string `json:"startDate,omitempty"`
	// At is when the mail waits until (waiting), was sent (sent), when the pass was first used
	// (passUsed) or the first passkey registered (passkeyRegistered); zero otherwise.
	At time.Time `json:"at,omitzero"`
	// Reason is why the last try to send failed (waiting for a retry, or failed), in plain words.
	Reason string `json:"reason,omitempty"`
	// Words says the state in one plain sentence, times in the organisation's zone.
	Words string `json:"words"`
	// Why says in a few words why an admin must act (see NeedsAttention); "" otherwise.
	Why string `json:"why,omitempty"`
}

// NeedsAttention reports whether an admin must act: give a pass by hand.
func (o OnboardingState) NeedsAttention() bool {
	return o.Stage == OnboardingNeedsPassByHand || o.Stage == OnboardingFailed
}

// OnboardingState returns the onboarding state of the person userID (an id or a UPN) when the
// actor may see them (ActionReadUsers).
func (s *Service) OnboardingState(ctx context.Context, a latchkey.Actor, userID string) (OnboardingState, error) {
	u, err := s.userFor(ctx, a, authz.ActionReadUsers, userID)
	if err != nil {
		return OnboardingState{}, err
	}
	p, err := s.onboarding(ctx)
	if err != nil {
		return OnboardingState{}, err
	}
	return s.onboardingState(ctx, p, u)
}

// PeopleNeedingPassByHand returns the people whose onboarding needs an admin (see
// OnboardingState.NeedsAttention) with their states, ordered by UPN: among those whose start
// date is ahead or at most policy.OnboardingLateDays back, while onboarding is on. The actor needs
// ActionReadUsers over the whole directory.
func (s *Service) PeopleNeedingPassByHand(ctx context.Context, a latchkey.Actor) ([]*latchkey.User, []OnboardingState, error) {
	if err := authz.Decide(a, authz.ActionReadUsers, allUsers); err != nil {
		return nil, nil, err
	}
	p, err := s.onboarding(ctx)
	if err != nil {
		return nil, nil, err
	}
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []*latchkey.User
	var states []OnboardingState
	o, now := p.TemporaryAccessPass.Onboarding, s.Signin.Now()
	for _, u := range users {
		// Only people whose mail is still due or recent are looked at further: a directory
		// provisioned from HR gives everyone a start date.
		if _, due, _ := o.SendAt(u.StartDate, now); !due || !u.Enabled {
			continue
		}
		st, err := s.onboardingState(ctx, p, u)
		if err != nil {
			return nil, nil, err
		}
		if st.NeedsAttention() {
			out, states = append(out, u), append(states, st)
		}
	}
	return out, states, nil
}

// onboardingState works out u's state under the policy p.
func (s *Service) onboardingState(ctx context.Context, p policy.MethodsPolicy, u *latchkey.User) (OnboardingState, error) {
	o := p.TemporaryAccessPass.Onboarding
	st := OnboardingState{StartDate: u.StartDate}
	when := func(t time.Time) string {
		return t.In(o.Location()).Format("Monday 2 January 2006, 15:04") + " (" + o.TimeZone + ")"
	}
	items, err := s.Store.ListMail(ctx, latchkey.MailFilter{Kind: MailKindOnboarding, SubjectID: u.ID, Limit: 1})
	if err != nil {
		return st, fmt.Errorf("list onboarding mail: %w", err)
	}
	var item *latchkey.MailItem
	if len(items) > 0 {
		item = items[0]
	}
	if u.StartDate == "" && item == nil {
		st.Stage, st.Words = OnboardingNone, "No start date, so no pass is mailed."
		return st, nil
	}
	pks, err := s.Store.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		return st, err
	}
	if len(pks) > 0 {
		first := pks[0].CreatedAt
		for _, pk := range pks {
			if pk.CreatedAt.Before(first) {
				first = pk.CreatedAt
			}
		}
		st.Stage, st.At, st.Words = OnboardingPasskeyRegistered, first, "Has set up a passkey, on "+when(first)+"."
		return st, nil
	}
	since := u.CreatedAt
	if item != nil && item.SentAt != nil {
		since = *item.SentAt
	}
	if used, err := s.firstPassSignIn(ctx, u.ID, since); err != nil {
		return st, err
	} else if !used.IsZero() {
		st.Stage, st.At, st.Words = OnboardingPassUsed, used, "Signed in with a pass on "+when(used)+" but has no passkey yet."
		return st, nil
	}
	if item != nil {
		switch item.State {
		case latchkey.MailSent:
			st.Stage, st.At, st.Words = OnboardingSent, *item.SentAt, "The mail with their pass was sent on "+when(*item.SentAt)+"."
			return st, nil
		case latchkey.MailFailed:
			st.Stage, st.Reason = OnboardingFailed, item.LastError
			st.Words = "The mail with their pass could not be sent: " + item.LastError + " Give them a pass by hand."
			st.Why = "the mail could not be sent"
			return st, nil
		}
	}
	to, _, err := s.onboardingRecipient(ctx, o, u)
	if err != nil {
		return st, err
	}
	_, due, _ := o.SendAt(u.StartDate, s.Signin.Now())
	switch {
	case o.State != policy.StateEnabled:
		st.Stage, st.Words = OnboardingOff, "Onboarding mails are turned off: give them a pass by hand."
	case !u.Enabled:
		st.Stage, st.Words = OnboardingAccountOff, "Their account is turned off, so no pass is mailed."
	case !due:
		st.Stage, st.Words = OnboardingLongAgo, fmt.Sprintf("Their start date is more than %d days back, so no pass is mailed.", policy.OnboardingLateDays)
	case to == "" && o.Recipient == policy.RecipientPersonalMail:
		st.Stage, st.Words = OnboardingNeedsPassByHand, "Needs a pass by hand: they have no personal address to mail it to."
		st.Why = "no personal address"
	case to == "":
		st.Stage, st.Words = OnboardingNeedsPassByHand, "Needs a pass by hand: they have no manager with a work address to mail it to."
		st.Why = "no manager with a work address"
	case item != nil && item.State == latchkey.MailPending:
		st.Stage, st.At = OnboardingWaiting, item.NotBefore
		st.Words = "The mail with their pass to " + to + " waits until " + when(item.NotBefore) + "."
		if item.Attempts > 0 {
			st.Reason = item.LastError
			st.Words = "The mail with their pass to " + to + " failed and is tried again from " + when(item.NotBefore) + ". " + item.LastError
		}
	default:
		// Cancelled (or never queued) though it applies: no mail will go unless the person is saved again.
		st.Stage, st.Words = OnboardingNeedsPassByHand, "Needs a pass by hand: no mail with their pass is waiting."
		st.Why = "no mail is waiting"
	}
	return st, nil
}

// firstPassSignIn returns the time of the person's first successful sign-in with a pass since
// since; zero when there is none among their latest sign-ins.
func (s *Service) firstPassSignIn(ctx context.Context, userID string, since time.Time) (time.Time, error) {
	events, err := s.Store.ListSignIns(ctx, userID, 100)
	if err != nil {
		return time.Time{}, fmt.Errorf("list sign-ins: %w", err)
	}
	var first time.Time
	for _, e := range events {
		if e.Method == latchkey.MethodTAP && e.Result == latchkey.SignInSuccess && !e.CreatedAt.Before(since) &&
			(first.IsZero() || e.CreatedAt.Before(first)) {
			first = e.CreatedAt
		}
	}
	return first, nil
}
