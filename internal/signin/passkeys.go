package signin

import (
	"context"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// RenamePasskey gives one of the user's passkeys a new nickname, stored as given (see
// latchkey.ValidateName).
func (s *Service) RenamePasskey(ctx context.Context, user *latchkey.User, id, name string) error {
	if err := latchkey.ValidateName("passkey name", name); err != nil {
		return err
	}
	return passkeyNotFound(s.Store.RenamePasskey(ctx, user.ID, id, name))
}

// RemovePasskey removes one of the user's passkeys. Removing the last one needs confirmLast,
// because afterwards the person can only get back in with a new temporary access pass.
func (s *Service) RemovePasskey(ctx context.Context, user *latchkey.User, id string, confirmLast bool) error {
	pks, err := s.Store.ListPasskeysByUser(ctx, user.ID)
	if err != nil {
		return err
	}
	var found *latchkey.Passkey
	for _, p := range pks {
		if p.ID == id {
			found = p
		}
	}
	if found == nil {
		return passkeyNotFound(latchkey.ErrNotFound)
	}
	if len(pks) == 1 && !confirmLast {
		return latchkey.Errorf(latchkey.ECONFLICT, "last_passkey",
			"This is your only passkey. If you remove it, you can't sign in again until IT gives you a temporary access pass. Confirm to remove it anyway.",
			"removing the user's last passkey needs confirmation (confirmLast)")
	}
	ctx = latchkey.Audit(ctx, selfActor(user), "passkey.remove", "user", user.ID, user.UserPrincipalName, map[string]any{
		"passkeyId": id, "nickname": found.Nickname, "kind": found.Kind})
	ctx = PasskeyMail(ctx, MailKindPasskeyRemoved, user.ID, found, "you", s.now())
	if err := s.Store.DeletePasskey(ctx, user.ID, id); err != nil {
		return passkeyNotFound(err)
	}
	s.Logger.InfoContext(ctx, "passkey removed", "user", user.UserPrincipalName, "passkeyId", id)
	return nil
}

// selfActor is the person acting on their own sign-in methods, for the audit log.
func selfActor(u *latchkey.User) latchkey.Actor {
	return latchkey.Actor{Kind: latchkey.ActorPerson, UserID: u.ID, UPN: u.UserPrincipalName}
}

func passkeyNotFound(err error) error {
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "passkey_not_found", "That passkey no longer exists. Reload the page.", "no passkey with that id for this user")
	}
	return err
}
