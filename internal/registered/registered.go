// Package registered lists what each of a person's registered sign-in methods (passkeys, a
// temporary access pass, a password with or without an authenticator app) would present at a
// sign-in, as conditional access sees it: for step-up at sign-in, lint and what-if.
package registered

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Store is what Methods reads (latchkey.Store has it).
type Store interface {
	ListPasskeysByUser(ctx context.Context, userID string) ([]*latchkey.Passkey, error)
	FindAccessPassByUser(ctx context.Context, userID string) (*latchkey.AccessPass, error)
	FindLegacyCredentials(ctx context.Context, userID string) (*latchkey.LegacyCredentials, error)
}

// Method is one way a user could sign in, as lint and what-if see it.
type Method struct {
	// Description names it for the admin ("passkey: YubiKey 5 (device-bound, attested)").
	Description string                       `json:"description"`
	Context     policy.AuthenticationContext `json:"context"`
}

// Methods returns, at now, what each of u's usable methods would present at a sign-in: every
// passkey the methods policy lets them sign in with (user verified), and an active or
// not-yet-valid temporary access pass when the TAP method is enabled for them. Methods the
// policy refuses are left out: they cannot satisfy anything.
func Methods(ctx context.Context, st Store, u *latchkey.User, pu policy.User, mp policy.MethodsPolicy, now time.Time) ([]Method, error) {
	var out []Method
	pks, err := st.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, pk := range pks {
		if v := policy.EvaluatePasskey(mp, pu, policy.PasskeyOf(pk, true), policy.SignIn); !v.Allowed {
			continue
		}
		name := pk.Provider
		if name == "" {
			name = pk.Nickname
		}
		out = append(out, Method{
			Description: fmt.Sprintf("passkey: %s (%s, attestation %s)", name, pk.Kind, pk.AttestationTrust),
			Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
				Passkey: &policy.PresentedPasskey{Kind: pk.Kind, AAGUID: pk.AAGUID, Attestation: pk.AttestationTrust, UserVerified: true}},
		})
	}
	if ok, _ := policy.MethodEnabledForUser(mp, latchkey.MethodTAP, pu); ok {
		ap, err := st.FindAccessPassByUser(ctx, u.ID)
		if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, err
		}
		if ap != nil {
			switch ap.State(now) {
			case latchkey.TAPUsable, latchkey.TAPNotYetValid:
				out = append(out, Method{Description: "temporary access pass",
					Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodTAP}}})
			}
		}
	}
	legacy, err := LegacyMethods(ctx, st, u, pu, mp)
	if err != nil {
		return nil, err
	}
	return append(out, legacy...), nil
}

// Contexts returns the authentication contexts of ms.
func Contexts(ms []Method) []policy.AuthenticationContext {
	out := make([]policy.AuthenticationContext, len(ms))
	for i, m := range ms {
		out[i] = m.Context
	}
	return out
}

// LegacyMethods returns what u's password and authenticator app would present: password
// + TOTP when both are set up and enabled for u (a password sign-in then always asks for the
// code), password alone when only the password is.
func LegacyMethods(ctx context.Context, st Store, u *latchkey.User, pu policy.User, mp policy.MethodsPolicy) ([]Method, error) {
	if ok, _ := policy.MethodEnabledForUser(mp, latchkey.MethodPassword, pu); !ok {
		return nil, nil
	}
	creds, err := st.FindLegacyCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !creds.HasPassword() {
		return nil, nil
	}
	if ok, _ := policy.MethodEnabledForUser(mp, latchkey.MethodTOTP, pu); ok && creds.HasTOTP() {
		return []Method{{Description: "password + authenticator app (TOTP)",
			Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodPassword, latchkey.MethodTOTP}}}}, nil
	}
	return []Method{{Description: "password",
		Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodPassword}}}}, nil
}
