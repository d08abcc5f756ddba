package oidc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Error codes of a refused login because the application's acr_values were not met.
const (
	// CodeStepUpRequired: the person has a passkey that would do; they should sign in with it.
	CodeStepUpRequired = "step_up_required"
	// CodeStrengthNotMet: the person has no passkey that would do.
	CodeStrengthNotMet = "strength_not_met"
)

// StepUpError refuses a login whose session does not meet the application's acr_values. It
// unwraps to a *latchkey.Error (EFORBIDDEN) with CodeStepUpRequired when the person has a passkey
// that would meet the request, and CodeStrengthNotMet when they have none.
type StepUpError struct {
	Err *latchkey.Error
	// ACR is the requested value the messages speak of.
	ACR string
	// Possible reports whether the person has a passkey that would meet ACR.
	Possible bool
}

func (e *StepUpError) Error() string { return e.Err.Error() }
func (e *StepUpError) Unwrap() error { return e.Err }

// StepUpACR returns the requested acr value when signing in again could meet it, and "" when it
// could not.
func (e *StepUpError) StepUpACR() string {
	if e.Possible {
		return e.ACR
	}
	return ""
}

// acrRank orders the acr values AssuranceOf returns.
var acrRank = map[string]int{policy.ACRAAL1: 1, policy.ACRAAL2: 2, policy.ACRPhishingResistant: 3, policy.ACRPhishingResistantHardware: 4}

// knownACR reports whether want is an acr value or the id of a strength in strengths.
func knownACR(want string, strengths map[string]policy.Strength) bool {
	if _, ok := acrRank[want]; ok {
		return true
	}
	_, ok := strengths[want]
	return ok
}

// acrMet reports whether a sign-in ac meets one requested value: phrh needs an attested,
// device-bound, user-verified passkey; phr any user-verified passkey (or a trusted federated
// phishing-resistant sign-in); the NIST levels their rank; a strength id (built-in or custom)
// that strength.
func acrMet(want string, ac policy.AuthenticationContext, strengths map[string]policy.Strength) bool {
	if st, ok := strengths[want]; ok {
		met, _ := st.SatisfiedBy(ac)
		return met
	}
	acr, _ := policy.AssuranceOf(ac)
	return acrRank[acr] >= acrRank[want]
}

// requestedACRs returns the values of acr_values Latchkey understands, in order; unknown values
// are ignored, as OpenID Connect allows.
func requestedACRs(values []string, strengths map[string]policy.Strength) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Fields(v) {
			if knownACR(f, strengths) && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// presented returns the authentication context of a stored passkey used with user verification.
func presented(pk *latchkey.Passkey) *policy.PresentedPasskey {
	return &policy.PresentedPasskey{Kind: pk.Kind, AAGUID: pk.AAGUID, Attestation: pk.AttestationTrust, UserVerified: true}
}

// checkACRValues returns nil when ac (the session's sign-in, whose passkey is used, if any) meets
// any of the requested values, and a *StepUpError otherwise.
func (p *Provider) checkACRValues(ctx context.Context, values []string, userID string, ac policy.AuthenticationContext, used *latchkey.Passkey) error {
	strengths, err := p.strengths(ctx)
	if err != nil {
		return err
	}
	wants := requestedACRs(values, strengths)
	if len(wants) == 0 {
		return nil
	}
	for _, w := range wants {
		if acrMet(w, ac, strengths) {
			return nil
		}
	}
	// Which of the person's passkeys would do, for the first value any of them meets.
	pks, err := p.store.ListPasskeysByUser(ctx, userID)
	if err != nil {
		return err
	}
	target, possible := wants[0], false
	for _, w := range wants {
		for _, pk := range pks {
			if acrMet(w, policy.AuthenticationContext{Methods: []string{latchkey.MethodPasskey}, Passkey: presented(pk)}, strengths) {
				target, possible = w, true
				break
			}
		}
		if possible {
			break
		}
	}
	achieved, amr := policy.AssuranceOf(ac)
	code := CodeStrengthNotMet
	if possible {
		code = CodeStepUpRequired
	}
	msg := NeedSentence(target, strengths)
	if used != nil {
		name := "The passkey you signed in with"
		if used.Provider != "" {
			name = "The passkey in " + used.Provider
		}
		msg += " " + name + " can't be used for it."
	} else if ac.Passkey == nil {
		msg += " The way you signed in can't be used for it."
	}
	if possible {
		msg += " " + SignInWithSentence(target)
	} else {
		msg += " " + askIT(target)
	}
	kind := "none"
	if used != nil {
		kind = used.Kind + ", attestation " + used.AttestationTrust
	}
	detail := fmt.Sprintf("the application asked for acr_values %q; the session achieved acr %s (amr %v, methods %v, passkey %s); the user has %s",
		strings.Join(values, " "), achieved, amr, ac.Methods, kind, map[bool]string{true: "a passkey that would meet " + target, false: "no passkey that would meet it"}[possible])
	return &StepUpError{Err: latchkey.Errorf(latchkey.EFORBIDDEN, code, msg, "%s", detail), ACR: target, Possible: possible}
}

// NeedSentence says in plain words what an application asking for acr (an acr value or a
// strength id in strengths) needs.
func NeedSentence(acr string, strengths map[string]policy.Strength) string {
	switch acr {
	case policy.ACRPhishingResistantHardware:
		return "This application needs a security key or a passkey that stays on one device, approved by your organisation."
	case policy.ACRPhishingResistant:
		return "This application needs you to sign in with a passkey."
	case policy.ACRAAL2:
		return "This application needs a sign-in with two factors, such as a passkey."
	}
	if st, ok := strengths[acr]; ok {
		if st.BuiltIn {
			return "This application needs a stronger sign-in (" + st.Name + "): " + st.Description
		}
		return "This application needs a stronger sign-in (" + st.Name + ")."
	}
	return "This application needs a stronger sign-in."
}

// SignInWithSentence tells the person which passkey to sign in with to meet acr.
func SignInWithSentence(acr string) string {
	if acr == policy.ACRPhishingResistantHardware {
		return "Sign in again with your security key or the passkey your organisation approved."
	}
	return "Sign in again with your passkey."
}

func askIT(acr string) string {
	if acr == policy.ACRPhishingResistantHardware {
		return "Ask IT for a security key."
	}
	return "Add a passkey in your security info, or ask IT for a temporary access pass to set one up."
}
