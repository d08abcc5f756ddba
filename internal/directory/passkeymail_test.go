package directory

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestRemovePasskeyForQueuesMail: an admin's removal of a passkey queues, in its transaction on
// each store, the mail that tells the person: the passkey's name and kind, who and when, and
// no credential; a removal refused (no such passkey) queues nothing.
func TestRemovePasskeyForQueuesMail(t *testing.T) {
	onEachStore(t, func(t *testing.T, r *onboardingRig) {
		ctx := context.Background()
		ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Mail: "ada@example.com"})
		pk := &latchkey.Passkey{UserID: ada.ID, CredentialID: []byte("CRED-SECRET-ID"), PublicKey: []byte("PUBLIC-KEY"), Kind: latchkey.KindDeviceBound,
			Nickname: "YubiKey 5", Transports: []string{"usb"}}
		if err := r.svc.Store.CreatePasskey(ctx, pk); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.RemovePasskeyFor(ctx, latchkey.CLIActor, ada.ID, "no-such-passkey"); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			t.Fatalf("removing an unknown passkey: %v", err)
		}
		if err := r.svc.RemovePasskeyFor(ctx, latchkey.CLIActor, ada.ID, pk.ID); err != nil {
			t.Fatal(err)
		}
		items, err := r.svc.Store.ListMail(ctx, latchkey.MailFilter{Kind: signin.MailKindPasskeyRemoved, SubjectID: ada.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 {
			t.Fatalf("%d passkey-removed items; want 1", len(items))
		}
		p := items[0].Params
		if p["name"] != "YubiKey 5" || p["kind"] != "security key" || p["by"] != "the operator of the Latchkey server" || p["at"] == "" {
			t.Errorf("params %v", p)
		}
		if j := items[0].ParamsJSON(); strings.Contains(j, "CRED-SECRET-ID") || strings.Contains(j, "PUBLIC-KEY") || strings.Contains(j, pk.ID) {
			t.Errorf("the outbox row holds a credential: %s", j)
		}
	})
}
