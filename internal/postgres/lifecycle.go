package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// lastAdminLock is the key of the transaction-scoped advisory lock that disabling and deleting
// users take, so that two nodes deciding at once whether a user is the last enabled global
// administrator decide one after the other, each seeing what the other committed.
const lastAdminLock = 0x6c6b_6164_6d69_6e // "lkadmin"

// lockedUser takes the last-admin lock and returns the user id, locked for update, and
// latchkey.ErrLastGlobalAdmin when the user is an enabled global administrator and no other
// enabled one exists.
func lockedUser(ctx context.Context, tx pgx.Tx, id, doing string) (*latchkey.User, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lastAdminLock)); err != nil {
		return nil, storeError(err, doing)
	}
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
	if err != nil {
		return nil, storeError(err, doing)
	}
	var own, others int
	err = tx.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE u.id = $2),
		count(DISTINCT u.id) FILTER (WHERE u.id <> $2 AND u.enabled)
		FROM role_assignments r JOIN users u ON u.id = r.user_id
		WHERE r.role = $1 AND r.unit_id IS NULL`, latchkey.RoleGlobalAdmin, id).Scan(&own, &others)
	if err != nil {
		return nil, fmt.Errorf("count global admins: %w", err)
	}
	if own > 0 && u.Enabled && others == 0 {
		return nil, latchkey.ErrLastGlobalAdmin
	}
	return u, nil
}

// revokeUserGrants records the grants of the user's refresh tokens as revoked until the last of
// them would have expired, so that access tokens issued on them stop too.
const revokeUserGrants = `INSERT INTO revoked_grants (grant_id, expires_at)
	SELECT grant_id, max(expires_at) FROM refresh_tokens WHERE user_id = $1 GROUP BY grant_id
	ON CONFLICT (grant_id) DO UPDATE SET expires_at = greatest(revoked_grants.expires_at, excluded.expires_at)`

// DisableUser turns the user off and ends their sessions, refresh tokens (and the grants they
// were issued on) and access pass in one transaction. latchkey.ErrLastGlobalAdmin for the last
// enabled global administrator, decided under a lock every node takes.
func (s *Store) DisableUser(ctx context.Context, id string) (*latchkey.User, error) {
	const doing = "disable user"
	if !latchkey.CanNameSomething(id) {
		return nil, latchkey.ErrNotFound
	}
	var u *latchkey.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if u, err = lockedUser(ctx, tx, id, doing); err != nil {
			return err
		}
		for _, q := range []string{
			`UPDATE users SET enabled = false WHERE id = $1`,
			revokeUserGrants,
			`DELETE FROM refresh_tokens WHERE user_id = $1`,
			`DELETE FROM sessions WHERE user_id = $1`,
			`DELETE FROM access_passes WHERE user_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return storeError(err, doing)
			}
		}
		u.Enabled = false
		return nil
	})
	if err != nil {
		return nil, storeError(err, doing)
	}
	return u, nil
}

// DeleteUser removes the user; the foreign keys remove what is theirs and clear the manager of
// their reports. Sign-in events keep the old id and UPN. latchkey.ErrLastGlobalAdmin as
// DisableUser.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const doing = "delete user"
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockedUser(ctx, tx, id, doing); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, revokeUserGrants, id); err != nil {
			return storeError(err, doing)
		}
		_, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		return storeError(err, doing)
	})
	return storeError(err, doing)
}

// SetGroupExternalID sets the group's external id; latchkey.ErrNotFound when there is no such
// group.
func (s *Store) SetGroupExternalID(ctx context.Context, id, externalID string) error {
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE groups SET external_id = $2 WHERE id = $1`, id, externalID)
	if err != nil {
		return storeError(err, "set group external id")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// RenameGroup changes the group's name; latchkey.ErrConflict when another group has it in any
// case, latchkey.ErrNotFound when there is no such group.
func (s *Store) RenameGroup(ctx context.Context, id, name string) error {
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE groups SET display_name = $2, name_normalized = $3 WHERE id = $1`,
		id, name, latchkey.NormalizeUPN(name))
	if err != nil {
		return storeError(err, "rename group")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// DeleteGroup removes the group and, by foreign key, its memberships; latchkey.ErrNotFound when
// there is no such group.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if err != nil {
		return storeError(err, "delete group")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}
