package policyadmin

import (
	"context"
	"errors"
	"slices"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// The lockout lint of the authentication methods policy: every change of the methods or the
// passkey profiles is checked against every enabled user's ways in, before and after.

// MethodsPolicyLintID and MethodsPolicyLintName name the methods policy in a *LockoutError's
// Policies, where conditional access names its policies.
const (
	MethodsPolicyLintID   = "authenticationMethods"
	MethodsPolicyLintName = "Authentication methods policy"
)

// lintMethodsChange refuses, with a *LockoutError, a change from before to after that leaves
// people who could sign in with no way in, unless override equals their number.
func (s *Service) lintMethodsChange(ctx context.Context, before, after policy.MethodsPolicy, override int) error {
	users, upns, err := s.signInDirectory(ctx)
	if err != nil {
		return err
	}
	fs := policy.LintMethodsChange(users, before, after)
	err = policy.RefuseMethodsChange(fs, override)
	if err == nil {
		if n := len(policy.AffectedUsers(fs)); n > 0 {
			s.Logger.WarnContext(ctx, "methods policy change leaves people with no way to sign in, confirmed by the lockout override", "affected", n)
		}
		return nil
	}
	var le *latchkey.Error
	if !errors.As(err, &le) {
		return err
	}
	pl := PolicyLint{PolicyID: MethodsPolicyLintID, Name: MethodsPolicyLintName, State: policy.CAStateEnabled,
		Findings: make([]LintFinding, len(fs)), Affected: len(policy.AffectedUsers(fs))}
	for i, f := range fs {
		names := make([]string, len(f.Users))
		for j, id := range f.Users {
			if names[j] = upns[id]; names[j] == "" {
				names[j] = id
			}
		}
		slices.Sort(names)
		pl.Findings[i] = LintFinding{Finding: f, UserPrincipalNames: names}
	}
	return &LockoutError{Err: le, Policies: []PolicyLint{pl}, Affected: pl.Affected}
}

// signInDirectory returns every enabled user with every way in they hold (passkeys, with
// models revoked by the imported metadata marked so; a pass usable now; a password), and every
// user's UPN by id. A global admin whom a conditional access policy excludes by user id is
// marked as a break-glass account.
func (s *Service) signInDirectory(ctx context.Context) ([]policy.SignInUser, map[string]string, error) {
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return nil, nil, err
	}
	excluded := map[string]bool{}
	for _, p := range cfg.Policies {
		for _, id := range p.Users.ExcludeUsers {
			excluded[id] = true
		}
	}
	mdsVersion, err := s.Store.GetSetting(ctx, passkey.MDSVersionKey)
	if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil, err
	}
	now := s.now()
	out := []policy.SignInUser{}
	upns, err := s.eachEnabledUser(ctx, func(u *latchkey.User, pr policy.Principal) error {
		su := policy.SignInUser{Principal: pr,
			BreakGlass: excluded[u.ID] && slices.Contains(u.Roles, latchkey.RoleGlobalAdmin)}
		pks, err := s.Store.ListPasskeysByUser(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, pk := range pks {
			f := policy.PasskeyOf(pk, true)
			if revoked, err := s.RevokedNow(ctx, pk, mdsVersion); err != nil {
				return err
			} else if revoked {
				f.Attestation = policy.AttestationRevoked
			}
			su.Passkeys = append(su.Passkeys, f)
		}
		ap, err := s.Store.FindAccessPassByUser(ctx, u.ID)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			ap = nil
		} else if err != nil {
			return err
		}
		su.PassUsable = ap != nil && ap.State(now) == latchkey.TAPUsable
		creds, err := s.Store.FindLegacyCredentials(ctx, u.ID)
		if err != nil {
			return err
		}
		su.HasPassword = creds.HasPassword()
		out = append(out, su)
		return nil
	})
	return out, upns, err
}
