package signin

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// The authenticatorAttachment values a browser reports with a credential (WebAuthn §5.4.5).
const (
	AttachmentPlatform      = "platform"
	AttachmentCrossPlatform = "cross-platform"
)

// FromAnotherDevice reports whether pk, used or registered with the attachment the browser
// reported ("" when unknown), lives on another device than this browser: a phone reached across
// devices ("hybrid"). A platform credential is on this device; a security key (USB, NFC or
// Bluetooth only) goes with the person and is not "another device" to offer a passkey instead of.
func FromAnotherDevice(pk *latchkey.Passkey, attachment string) bool {
	if pk == nil || attachment == AttachmentPlatform {
		return false
	}
	hybrid := slices.Contains(pk.Transports, "hybrid") || slices.Contains(pk.Transports, "cable")
	if attachment == AttachmentCrossPlatform {
		return hybrid || slices.Contains(pk.Transports, "internal")
	}
	return hybrid
}

// OfferPasskeyHere reports whether to offer, after sess's sign-in, to create a passkey on this
// browser in one step. deviceKnown is whether this browser holds the device cookie (a passkey was
// registered or used on it); attachment is what the browser reported for a passkey sign-in ("" when
// unknown). It offers when the browser is not known, the sign-in used no passkey of this device (a
// pass, a password with its code, or a phone across devices), and the person may register one now.
func (s *Service) OfferPasskeyHere(ctx context.Context, sess *latchkey.Session, user *latchkey.User, deviceKnown bool, attachment string) (bool, error) {
	if deviceKnown || s.MayRegister(sess) != nil {
		return false, nil
	}
	if sess.HasMethod(latchkey.MethodPasskey) {
		if sess.PasskeyID == "" {
			return false, nil
		}
		pk, err := s.Store.FindPasskeyByID(ctx, sess.PasskeyID)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !FromAnotherDevice(pk, attachment) {
			return false, nil
		}
	}
	pol, pu, err := s.policyFor(ctx, user)
	if err != nil {
		return false, err
	}
	return policy.MayRegister(pol, pu) == nil, nil
}
