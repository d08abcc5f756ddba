package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// otherGlobalAdmins counts the enabled users other than id who hold the global administrator
// role over the whole directory. Called inside the writer's transaction, which SQLite runs one
// at a time, so the count cannot change before the transaction commits.
func otherGlobalAdmins(ctx context.Context, tx *txn, id string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT u.id) FROM users u
		JOIN role_assignments r ON r.user_id = u.id AND r.role = ? AND r.unit_id IS NULL
		WHERE u.enabled AND u.id <> ?`, latchkey.RoleGlobalAdmin, id).Scan(&n)
	return n, err
}

// guardLastAdmin returns latchkey.ErrLastGlobalAdmin when u is an enabled global administrator
// and no other enabled one exists.
func guardLastAdmin(ctx context.Context, tx *txn, u *latchkey.User) error {
	var own int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM role_assignments WHERE user_id = ? AND role = ? AND unit_id IS NULL`,
		u.ID, latchkey.RoleGlobalAdmin).Scan(&own); err != nil {
		return fmt.Errorf("count roles: %w", err)
	}
	if own == 0 || !u.Enabled {
		return nil
	}
	n, err := otherGlobalAdmins(ctx, tx, u.ID)
	if err != nil {
		return fmt.Errorf("count global admins: %w", err)
	}
	if n == 0 {
		return latchkey.ErrLastGlobalAdmin
	}
	return nil
}

// DisableUser turns the user off and ends their sessions, refresh tokens (revoking the grants
// they were issued on, so that access tokens on them stop too) and access pass in one
// transaction. latchkey.ErrLastGlobalAdmin for the last enabled global administrator.
func (s *Store) DisableUser(ctx context.Context, id string) (*latchkey.User, error) {
	const verb = "disable user"
	var u *latchkey.User
	err := s.write(ctx, verb, func(tx *txn) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)); err != nil {
			return wrap(verb, err)
		}
		if err := guardLastAdmin(ctx, tx, u); err != nil {
			return err
		}
		for _, q := range []string{
			`UPDATE users SET enabled = 0 WHERE id = ?`,
			`INSERT INTO revoked_grants (grant_id, expires_at)
				SELECT grant_id, max(expires_at) FROM refresh_tokens WHERE user_id = ? GROUP BY grant_id
				ON CONFLICT (grant_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
			`DELETE FROM refresh_tokens WHERE user_id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM access_passes WHERE user_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return wrap(verb, err)
			}
		}
		u.Enabled = false
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser removes the user; the foreign keys remove what is theirs (passkeys, pass,
// sessions, refresh tokens, memberships, role assignments, unit memberships) and clear the
// manager of their reports. The grants of their refresh tokens are revoked first. Sign-in
// events have no foreign key and keep the old id and UPN.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const verb = "delete user"
	return s.write(ctx, verb, func(tx *txn) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err != nil {
			return wrap(verb, err)
		}
		if err := guardLastAdmin(ctx, tx, u); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_grants (grant_id, expires_at)
				SELECT grant_id, max(expires_at) FROM refresh_tokens WHERE user_id = ? GROUP BY grant_id
				ON CONFLICT (grant_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`, id); err != nil {
			return wrap(verb, err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return wrap(verb, err)
	})
}

// RenameGroup changes the group's name; latchkey.ErrConflict when another group has it in any
// case, latchkey.ErrNotFound when there is no such group.
func (s *Store) RenameGroup(ctx context.Context, id, name string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE groups SET display_name = ?, name_norm = ? WHERE id = ?`,
		name, latchkey.NormalizeUPN(name), id)
	return oneRow("rename group", res, err)
}

// SetGroupExternalID sets the group's external id; latchkey.ErrNotFound when there is no such
// group.
func (s *Store) SetGroupExternalID(ctx context.Context, id, externalID string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE groups SET external_id = ? WHERE id = ?`, externalID, id)
	return oneRow("set group external id", res, err)
}

// DeleteGroup removes the group and, by foreign key, its memberships; latchkey.ErrNotFound when
// there is no such group.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM groups WHERE id = ?`, id)
	return oneRow("delete group", res, err)
}

// oneRow maps a statement that changed no row to latchkey.ErrNotFound.
func oneRow(verb string, res sql.Result, err error) error {
	n, err := rowsAffected(verb, res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}
