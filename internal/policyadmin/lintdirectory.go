package policyadmin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// PutConditionalAccess validates cfg and stores it as is, in place of whatever is stored. It
// does not lint: callers that turn policies on go through the lint first (see lint in the admin
// surfaces), and callers that edit the stored configuration go through changeCA, which loses no
// concurrent edit.
func (s *Service) PutConditionalAccess(ctx context.Context, a latchkey.Actor, cfg *policy.ConditionalAccessConfig) error {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "conditionalAccess.replace", "policy", "conditionalAccess", "Conditional access", map[string]any{"config": cfg})
	return s.putConditionalAccess(ctx, cfg, func(b []byte) error {
		_, err := s.Store.UpdateSetting(ctx, signin.ConditionalAccessKey, func([]byte) ([]byte, error) { return b, nil })
		return err
	})
}

// putConditionalAccess validates and encodes cfg, stores the document through store and logs
// the change.
func (s *Service) putConditionalAccess(ctx context.Context, cfg *policy.ConditionalAccessConfig, store func([]byte) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := cfg.CheckNames(); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode conditional access: %w", err)
	}
	if err := store(b); err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "conditional access configuration changed", "policies", len(cfg.Policies),
		"strengths", len(cfg.Strengths), "locations", len(cfg.NamedLocations))
	return nil
}

// LintDirectory returns every enabled user with their registered methods, as the lockout lint
// sees the directory, and every user's UPN by id, to name them in findings. Since it reveals
// everyone's registered methods, the actor must be allowed to read conditional access.
func (s *Service) LintDirectory(ctx context.Context, a latchkey.Actor) (policy.LintDirectory, map[string]string, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return policy.LintDirectory{}, nil, err
	}
	return s.lintDirectory(ctx)
}

// lintDirectory is LintDirectory once the actor has been allowed.
func (s *Service) lintDirectory(ctx context.Context) (policy.LintDirectory, map[string]string, error) {
	mp, err := s.Service.MethodsPolicy(ctx)
	if err != nil {
		return policy.LintDirectory{}, nil, err
	}
	dir := policy.LintDirectory{Users: []policy.DirectoryUser{}}
	upns, err := s.eachEnabledUser(ctx, func(u *latchkey.User, pr policy.Principal) error {
		ms, err := s.RegisteredMethods(ctx, u, policy.User{ID: u.ID, GroupIDs: pr.GroupIDs, IsGuest: pr.IsGuest}, mp)
		if err != nil {
			return err
		}
		dir.Users = append(dir.Users, policy.DirectoryUser{Principal: pr, Registered: signin.Contexts(ms)})
		return nil
	})
	return dir, upns, err
}

// eachEnabledUser calls f with every enabled user and their principal, and returns every user's
// UPN by id (disabled ones included), to name people in lint findings.
func (s *Service) eachEnabledUser(ctx context.Context, f func(*latchkey.User, policy.Principal) error) (map[string]string, error) {
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	upns := make(map[string]string, len(users))
	for _, u := range users {
		upns[u.ID] = u.UserPrincipalName
		if !u.Enabled {
			continue
		}
		pr, err := s.Principal(ctx, u)
		if err != nil {
			return nil, err
		}
		if err := f(u, pr); err != nil {
			return nil, err
		}
	}
	return upns, nil
}
