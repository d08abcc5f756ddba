package directory

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// removerName says who removed someone's passkey, as the person reads it in the mail: an
// administrator's user name, an API token's name, or Latchkey's operator.
func removerName(a latchkey.Actor) string {
	switch {
	case a.Kind == latchkey.ActorPerson:
		return "the administrator " + a.UPN
	case a.Kind == latchkey.ActorToken:
		return "the automation " + a.TokenName + " (an API token)"
	case a.CLI:
		return "the operator of the Latchkey server"
	}
	return "Latchkey"
}

// RemovePasskeyFor removes the passkey passkeyID of the user userRef (id or UPN) on behalf of
// the actor (ActionRemovePasskey), as when the phone it is on was stolen: the passkey can no
// longer sign in and the sessions made with it end at once, on every node. Unlike a person
// removing their own, removing someone's last passkey needs no confirmation here: the pages ask.
func (s *Service) RemovePasskeyFor(ctx context.Context, a latchkey.Actor, userRef, passkeyID string) error {
	u, err := s.userFor(ctx, a, authz.ActionRemovePasskey, userRef)
	if err != nil {
		return err
	}
	notFound := latchkey.Errorf(latchkey.ENOTFOUND, "passkey_not_found", "That passkey no longer exists. Reload the page.",
		"user %s has no passkey with id %q", u.UserPrincipalName, passkeyID)
	pks, err := s.Store.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("list passkeys: %w", err)
	}
	i := slices.IndexFunc(pks, func(p *latchkey.Passkey) bool { return p.ID == passkeyID })
	if i < 0 {
		return notFound
	}
	ctx = latchkey.Audit(ctx, a, "passkey.remove", "user", u.ID, u.UserPrincipalName, map[string]any{"passkeyId": passkeyID,
		"nickname": pks[i].Nickname, "kind": pks[i].Kind})
	ctx = signin.PasskeyMail(ctx, signin.MailKindPasskeyRemoved, u.ID, pks[i], removerName(a), s.now())
	if err := s.Store.DeletePasskey(ctx, u.ID, passkeyID); latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return notFound
	} else if err != nil {
		return err
	}
	s.logger().InfoContext(ctx, "passkey removed by an administrator", "user", u.UserPrincipalName, "passkeyId", passkeyID, "actor", a.Name())
	return nil
}

// RevokeAccessPass deletes the temporary access pass of the user userRef (id or UPN) on behalf
// of the actor (ActionRevokeTAP): it can no longer sign in and the sessions made with it end. A
// person with no pass is refused with tap_not_found.
func (s *Service) RevokeAccessPass(ctx context.Context, a latchkey.Actor, userRef string) error {
	return s.RevokeAccessPassMethod(ctx, a, userRef, "")
}

// RevokeAccessPassMethod is RevokeAccessPass of the pass with id methodID (as the API names it):
// when the person's pass has another id, the refusal is tap_not_found. An empty methodID names
// whichever pass the person has.
func (s *Service) RevokeAccessPassMethod(ctx context.Context, a latchkey.Actor, userRef, methodID string) error {
	u, err := s.userFor(ctx, a, authz.ActionRevokeTAP, userRef)
	if err != nil {
		return err
	}
	p, err := s.Store.FindAccessPassByUser(ctx, u.ID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) || (err == nil && methodID != "" && p.ID != methodID) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "tap_not_found", "This person has no such Temporary Access Pass. Reload the page.",
			"user %s has no pass with id %q", u.UserPrincipalName, methodID)
	} else if err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "accessPass.revoke", "user", u.ID, u.UserPrincipalName, map[string]any{"accessPassId": p.ID})
	if err := s.Store.DeleteAccessPass(ctx, u.ID); err != nil {
		return err
	}
	s.logger().InfoContext(ctx, "access pass revoked", "user", u.UserPrincipalName, "actor", a.Name())
	return nil
}

// SignOutEverywhere ends every session and refresh token of the user userRef (id or UPN) on
// behalf of the actor (ActionSignOutUser), in one transaction in the shared store, so that every
// node refuses them from the next request on. It returns how many sessions and refresh tokens
// ended.
func (s *Service) SignOutEverywhere(ctx context.Context, a latchkey.Actor, userRef string) (sessions, refreshTokens int, err error) {
	u, err := s.userFor(ctx, a, authz.ActionSignOutUser, userRef)
	if err != nil {
		return 0, 0, err
	}
	ctx = latchkey.Audit(ctx, a, "user.signOutEverywhere", "user", u.ID, u.UserPrincipalName, nil)
	if sessions, refreshTokens, err = s.Store.EndUserSessions(ctx, u.ID); err != nil {
		return 0, 0, err
	}
	s.logger().InfoContext(ctx, "signed out everywhere", "user", u.UserPrincipalName, "actor", a.Name(),
		"sessions", sessions, "refreshTokens", refreshTokens)
	return sessions, refreshTokens, nil
}

// logger is the sign-in service's logger, or slog's default without one.
func (s *Service) logger() *slog.Logger {
	if s.Signin != nil && s.Signin.Logger != nil {
		return s.Signin.Logger
	}
	return slog.Default()
}

// now is the sign-in service's clock, or the wall clock without one.
func (s *Service) now() time.Time {
	if s.Signin != nil {
		return s.Signin.Now().UTC()
	}
	return time.Now().UTC()
}
