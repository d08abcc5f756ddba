package policyadmin

import (
	"context"
	"crypto/sha256"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// EvaluateInspection adds to in the verdicts of u's passkey profiles, and of the policy as a
// whole, on registering the inspected passkey: policy.EvaluatePasskey as FinishRegistration
// calls it. The attestation result is checked against the imported FIDO metadata when there is
// some (passkey.Trust on a credential rebuilt from the response), as registration does; without
// metadata it is the inspection's own result.
func (s *Service) EvaluateInspection(ctx context.Context, a latchkey.Actor, u *latchkey.User, body []byte, in *passkey.Inspection) error {
	if err := decide(a, authz.ActionReadMethodsPolicy); err != nil {
		return err
	}
	return s.evaluateInspection(ctx, u, body, in)
}

// evaluateInspection is EvaluateInspection once the actor has been allowed.
func (s *Service) evaluateInspection(ctx context.Context, u *latchkey.User, body []byte, in *passkey.Inspection) error {
	p, pu, err := s.PolicyFor(ctx, u)
	if err != nil {
		return err
	}
	md, err := s.Metadata(ctx)
	if err != nil {
		return err
	}
	pk := policy.Passkey{AAGUID: in.AAGUID, Provider: in.Provider, Kind: in.Kind, Attestation: in.Attestation, UserVerified: in.UserVerified}
	pv := &passkey.PolicyVerdict{User: u.UserPrincipalName}
	switch {
	case !in.OK:
		pv.AttestationDetail = "the response did not verify, so its attestation is not established"
	case md == nil:
		pv.AttestationDetail = "no FIDO metadata has been imported: the inspection's own result"
	default:
		if cred := credentialOf(body); cred != nil {
			pk.Attestation, pv.AttestationDetail = passkey.Trust(cred, md)
		}
		if name := md.Name(in.AAGUID); name != "" {
			pk.Provider = name
		}
	}
	pv.Attestation = pk.Attestation
	v := policy.EvaluatePasskey(p, pu, pk, policy.Registration)
	in.Profiles = make([]passkey.ProfileVerdict, len(v.PerProfile))
	for i, r := range v.PerProfile {
		in.Profiles[i] = passkey.ProfileVerdict{Profile: r.Profile, Name: r.Name, Allowed: r.Allowed, Code: r.Code, Detail: r.Detail}
	}
	pv.Allowed, pv.Profile = v.Allowed, v.Profile
	if v.Refusal != nil {
		pv.Code, pv.Message, pv.Detail = v.Refusal.Code, v.Refusal.Message, v.Refusal.Detail
	}
	in.Policy = pv
	return nil
}

// credentialOf rebuilds the credential a verified registration response creates, for
// passkey.Trust; nil when it does not parse.
func credentialOf(body []byte) *webauthn.Credential {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil
	}
	hash := sha256.Sum256(parsed.Raw.AttestationResponse.ClientDataJSON)
	cred, err := webauthn.NewCredential(hash[:], parsed)
	if err != nil {
		return nil
	}
	return cred
}

// InspectRequest is a registration response to inspect, with what it should have been made for,
// and optionally the user whose policy it is judged against.
type InspectRequest struct {
	Challenge, Origin, RPID string
	AllowCrossOrigin        bool
	// User is the user principal name or id of the person whose policy judges the passkey; ""
	// for no policy verdict.
	User string
}

// Inspect reads a registration response (as pasted from a HAR file or a support ticket: see
// passkey.UnwrapResponse), says what it is, and with a user, what their policy says of it. A
// user that does not exist is refused with user_not_found.
func (s *Service) Inspect(ctx context.Context, a latchkey.Actor, body []byte, req InspectRequest) (*passkey.Inspection, error) {
	if err := decide(a, authz.ActionReadMethodsPolicy); err != nil {
		return nil, err
	}
	var u *latchkey.User
	if ref := strings.TrimSpace(req.User); ref != "" {
		var err error
		u, err = s.Store.FindUserByUPN(ctx, ref)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			u, err = s.Store.FindUserByID(ctx, ref)
		}
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist. Leave the field empty to inspect without a user.", "no user %q", ref)
		} else if err != nil {
			return nil, err
		}
	}
	body = passkey.UnwrapResponse(body)
	in := passkey.Inspect(body, passkey.InspectOptions{Challenge: req.Challenge, Origin: req.Origin, RPID: req.RPID,
		AllowCrossOrigin: req.AllowCrossOrigin})
	if u != nil {
		if err := s.evaluateInspection(ctx, u, body, in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// ProviderName names the passkey provider of an AAGUID from the catalogue, "" when unknown.
func ProviderName(aaguid string) string { return passkey.ProviderName(aaguid) }
