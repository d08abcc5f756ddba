package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const roleAssignmentColumns = `id, user_id, role, coalesce(unit_id, ''), created_at`

// scanRoleAssignments reads every row of roleAssignmentColumns.
func scanRoleAssignments(rows pgx.Rows, err error) ([]*latchkey.RoleAssignment, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.RoleAssignment, error) {
		a := &latchkey.RoleAssignment{}
		return a, row.Scan(&a.ID, &a.UserID, &a.Role, &a.UnitID, &a.CreatedAt)
	})
}

// canName reports whether every ref could be an id or name that a text column holds.
func canName(refs ...string) bool {
	for _, r := range refs {
		if !latchkey.CanNameSomething(r) {
			return false
		}
	}
	return true
}

// AssignRole stores a, assigning ID and CreatedAt when empty, and recomputes the user's Roles in
// the same transaction. ErrConflict when the user holds the role at that scope already;
// ErrNotFound when the user or the unit does not exist.
func (s *Store) AssignRole(ctx context.Context, a *latchkey.RoleAssignment) error {
	if a.ID == "" {
		a.ID = latchkey.NewID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = sqlstore.Now()
	}
	if !canName(a.UserID, a.UnitID) {
		return latchkey.ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockUserRoles(ctx, tx, a.UserID); err != nil {
			return storeError(err, "assign role")
		}
		_, err := tx.Exec(ctx, `INSERT INTO role_assignments (id, user_id, role, unit_id, created_at)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5)`, a.ID, a.UserID, a.Role, a.UnitID, dbTime(a.CreatedAt))
		if err != nil {
			return storeError(err, "assign role")
		}
		return recomputeRoles(ctx, tx, a.UserID)
	})
	return storeError(err, "assign role")
}

// lockUserRoles locks the user's row until the transaction ends, so that the changes to one
// user's assignments happen one after another and each recomputation of Roles sees the others.
// (NO KEY UPDATE: sign-ins that reference the user are not held up.) ErrNotFound when there is
// no such user.
func lockUserRoles(ctx context.Context, tx pgx.Tx, userID string) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID).Scan(&one)
}

// RemoveRole removes the user's assignment of role at unitID ("" for global) and recomputes the
// user's Roles in the same transaction; ErrNotFound when there is no such assignment, and
// ErrLastGlobalAdmin when it would take the role from the last enabled global administrator.
func (s *Store) RemoveRole(ctx context.Context, userID, role, unitID string) error {
	if !canName(userID, role, unitID) {
		return latchkey.ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if role == latchkey.RoleGlobalAdmin && unitID == "" {
			// Serialised with disabling and deleting people under the last-admin lock.
			if _, err := lockedUser(ctx, tx, userID, "remove role"); err != nil {
				return err
			}
		}
		if err := lockUserRoles(ctx, tx, userID); err != nil {
			return storeError(err, "remove role")
		}
		tag, err := tx.Exec(ctx, `DELETE FROM role_assignments WHERE user_id = $1 AND role = $2 AND coalesce(unit_id, '') = $3`,
			userID, role, unitID)
		if err != nil {
			return storeError(err, "remove role")
		}
		if tag.RowsAffected() == 0 {
			return latchkey.ErrNotFound
		}
		return recomputeRoles(ctx, tx, userID)
	})
	return storeError(err, "remove role")
}

// recomputeRoles writes the distinct role names of the user's assignments, in
// latchkey.SortRoles order, to users.roles.
func recomputeRoles(ctx context.Context, tx pgx.Tx, userID string) error {
	rows, err := tx.Query(ctx, `SELECT DISTINCT role FROM role_assignments WHERE user_id = $1`, userID)
	if err != nil {
		return storeError(err, "recompute roles")
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return storeError(err, "recompute roles")
	}
	roles = sqlstore.NonNil(roles)
	latchkey.SortRoles(roles)
	_, err = tx.Exec(ctx, `UPDATE users SET roles = $2 WHERE id = $1`, userID, roles)
	return storeError(err, "recompute roles")
}

// syncAssignments brings the user's assignments in step with roles, a Roles list written as a
// whole (CreateUser, UpdateUser, which hold the user's row): the assignments of a role not in
// roles go, at every scope, and a role in roles that the user holds at no scope is assigned
// globally at at.
func syncAssignments(ctx context.Context, tx pgx.Tx, userID string, roles []string, at time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM role_assignments WHERE user_id = $1 AND role <> ALL ($2)`,
		userID, sqlstore.NonNil(roles)); err != nil {
		return storeError(err, "assign roles")
	}
	for _, r := range roles {
		if _, err := tx.Exec(ctx, `INSERT INTO role_assignments (id, user_id, role, unit_id, created_at)
			SELECT $1, $2, $3::text, NULL, $4
			WHERE NOT EXISTS (SELECT 1 FROM role_assignments WHERE user_id = $2 AND role = $3)`,
			latchkey.NewID(), userID, r, dbTime(at)); err != nil {
			return storeError(err, "assign roles")
		}
	}
	return nil
}

// ListRoleAssignments returns the assignments of one user, or of everyone when userID is "",
// ordered by user id, role and unit id (global first).
func (s *Store) ListRoleAssignments(ctx context.Context, userID string) ([]*latchkey.RoleAssignment, error) {
	if !canName(userID) {
		return []*latchkey.RoleAssignment{}, nil
	}
	const order = ` ORDER BY user_id COLLATE "C", role COLLATE "C", coalesce(unit_id, '') COLLATE "C"`
	var list []*latchkey.RoleAssignment
	var err error
	if userID == "" {
		list, err = scanRoleAssignments(s.pool.Query(ctx, `SELECT `+roleAssignmentColumns+` FROM role_assignments`+order))
	} else {
		list, err = scanRoleAssignments(s.pool.Query(ctx, `SELECT `+roleAssignmentColumns+` FROM role_assignments
			WHERE user_id = $1`+order, userID))
	}
	return sqlstore.NonNil(list), storeError(err, "list role assignments")
}

const unitColumns = `id, display_name, description, created_at`

// scanUnit reads one row of unitColumns.
func scanUnit(row pgx.Row) (*latchkey.AdministrativeUnit, error) {
	u := &latchkey.AdministrativeUnit{}
	if err := row.Scan(&u.ID, &u.DisplayName, &u.Description, &u.CreatedAt); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateUnit stores u, assigning ID and CreatedAt when empty; ErrConflict when the name is taken
// in any case.
func (s *Store) CreateUnit(ctx context.Context, u *latchkey.AdministrativeUnit) error {
	if u.ID == "" {
		u.ID = latchkey.NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = sqlstore.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO administrative_units (id, display_name, name_normalized, description, created_at)
		VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.DisplayName, latchkey.NormalizeUPN(u.DisplayName), u.Description, dbTime(u.CreatedAt))
	return storeError(err, "create unit")
}

// FindUnitByID returns the unit with the given ID; ErrNotFound when there is none.
func (s *Store) FindUnitByID(ctx context.Context, id string) (*latchkey.AdministrativeUnit, error) {
	if !canName(id) {
		return nil, latchkey.ErrNotFound
	}
	u, err := scanUnit(s.pool.QueryRow(ctx, `SELECT `+unitColumns+` FROM administrative_units WHERE id = $1`, id))
	return u, storeError(err, "find unit")
}

// FindUnitByName returns the unit with the given name in any case; ErrNotFound when there is
// none.
func (s *Store) FindUnitByName(ctx context.Context, name string) (*latchkey.AdministrativeUnit, error) {
	if !canName(name) {
		return nil, latchkey.ErrNotFound
	}
	u, err := scanUnit(s.pool.QueryRow(ctx, `SELECT `+unitColumns+` FROM administrative_units WHERE name_normalized = $1`,
		latchkey.NormalizeUPN(name)))
	return u, storeError(err, "find unit")
}

// ListUnits returns every unit, ordered by normalized name.
func (s *Store) ListUnits(ctx context.Context) ([]*latchkey.AdministrativeUnit, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+unitColumns+` FROM administrative_units ORDER BY name_normalized`)
	if err != nil {
		return nil, storeError(err, "list units")
	}
	units, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.AdministrativeUnit, error) { return scanUnit(row) })
	return sqlstore.NonNil(units), storeError(err, "list units")
}

// unitMemberTable returns the table and column that keep members of m's kind.
func unitMemberTable(m latchkey.UnitMember) (table, column string, err error) {
	if err := m.ValidateKind(); err != nil {
		return "", "", err
	}
	if m.Kind == latchkey.UnitMemberGroup {
		return "unit_group_members", "group_id", nil
	}
	return "unit_user_members", "user_id", nil
}

// AddUnitMember adds a user or group to a unit; adding one twice is not an error. ErrNotFound
// when the unit or the member does not exist.
func (s *Store) AddUnitMember(ctx context.Context, m latchkey.UnitMember) error {
	table, column, err := unitMemberTable(m)
	if err != nil {
		return err
	}
	if !canName(m.UnitID, m.MemberID) {
		return latchkey.ErrNotFound
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO `+table+` (unit_id, `+column+`) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		m.UnitID, m.MemberID)
	return storeError(err, "add unit member")
}

// RemoveUnitMember removes a member of a unit; ErrNotFound when it was not a member.
func (s *Store) RemoveUnitMember(ctx context.Context, m latchkey.UnitMember) error {
	table, column, err := unitMemberTable(m)
	if err != nil {
		return err
	}
	if !canName(m.UnitID, m.MemberID) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE unit_id = $1 AND `+column+` = $2`, m.UnitID, m.MemberID)
	if err != nil {
		return storeError(err, "remove unit member")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// ListUnitMembers returns a unit's direct members: its groups, then its users, each by id.
func (s *Store) ListUnitMembers(ctx context.Context, unitID string) ([]latchkey.UnitMember, error) {
	if !canName(unitID) {
		return []latchkey.UnitMember{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT unit_id, kind, member_id FROM (
			SELECT unit_id, text 'group' AS kind, group_id AS member_id FROM unit_group_members WHERE unit_id = $1
			UNION ALL SELECT unit_id, text 'user', user_id FROM unit_user_members WHERE unit_id = $1) m
		ORDER BY kind COLLATE "C", member_id COLLATE "C"`, unitID)
	if err != nil {
		return nil, storeError(err, "list unit members")
	}
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (latchkey.UnitMember, error) {
		var m latchkey.UnitMember
		return m, row.Scan(&m.UnitID, &m.Kind, &m.MemberID)
	})
	return sqlstore.NonNil(members), storeError(err, "list unit members")
}

// ListUserUnits returns the ids of the units the user is in, directly or through a group, in
// order.
func (s *Store) ListUserUnits(ctx context.Context, userID string) ([]string, error) {
	if !canName(userID) {
		return []string{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT unit_id FROM (
			SELECT unit_id FROM unit_user_members WHERE user_id = $1
			UNION SELECT ug.unit_id FROM unit_group_members ug JOIN group_members gm ON gm.group_id = ug.group_id
			WHERE gm.user_id = $1) u
		ORDER BY unit_id COLLATE "C"`, userID)
	if err != nil {
		return nil, storeError(err, "list user units")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return sqlstore.NonNil(ids), storeError(err, "list user units")
}
