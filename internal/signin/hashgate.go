package signin

import (
	"context"

	"github.com/latchkey/latchkey/internal/passhash"
)

// hashPass returns the argon2id hash of pass (passhash.Hash), counted by OnHash.
func (s *Service) hashPass(ctx context.Context, pass string) (string, error) {
	return passhash.Hash(ctx, pass, s.OnHash)
}

// checkPass reports whether pass matches a hash made by hashPass; an error only when the
// context ended while waiting for a slot. A stored hash passhash refuses is logged, and does not
// match.
func (s *Service) checkPass(ctx context.Context, hash, pass string) (bool, error) {
	ok, err := passhash.Check(ctx, hash, pass, s.OnHash)
	if err != nil {
		if ctx.Err() != nil {
			return false, err
		}
		s.Logger.ErrorContext(ctx, "stored hash refused", "err", err)
		return false, nil
	}
	return ok, nil
}
