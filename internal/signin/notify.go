package signin

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Outbox kinds of the mails that tell a person a passkey was added to or removed from their
// account (the recovery package composes them).
const (
	MailKindPasskeyAdded   = "passkeyAdded"
	MailKindPasskeyRemoved = "passkeyRemoved"
)

// PasskeyMail returns ctx carrying the mail of kind (MailKindPasskeyAdded or
// MailKindPasskeyRemoved) about pk of the person userID, queued by the store write made with
// that ctx, in its transaction. by names who did it as people read it ("you", an admin's user
// name); at is when. The parameters hold the passkey's name and kind in words, never a key or
// credential id.
func PasskeyMail(ctx context.Context, kind, userID string, pk *latchkey.Passkey, by string, at time.Time) context.Context {
	return latchkey.QueueMail(ctx, latchkey.MailItem{Kind: kind, Key: kind + ":" + latchkey.NewID(), SubjectID: userID, NotBefore: at,
		Params: map[string]string{"name": pk.Nickname, "kind": passkeyKindWords(pk), "provider": pk.Provider, "by": by,
			"at": at.UTC().Format(time.RFC3339)}})
}

// passkeyKindWords says in a few plain words what kind of authenticator pk is: "security key",
// "synced passkey" or "passkey on one device".
func passkeyKindWords(pk *latchkey.Passkey) string {
	if pk.Kind == latchkey.KindSynced {
		return "synced passkey (saved in a password manager)"
	}
	for _, t := range pk.Transports {
		switch t {
		case "usb", "nfc", "ble", "smart-card":
			return "security key"
		}
	}
	return "passkey on one device"
}

// registrant says who registered a passkey in sess, as the person reads it in the mail: a pass
// sign-in may not have been theirs.
func registrant(sess *latchkey.Session) string {
	switch {
	case sess.AccessPassID != "":
		return "you, or whoever signed in as you with a temporary access pass"
	case sess.PasskeyID != "":
		return "you, signed in with another passkey"
	}
	return "you"
}
