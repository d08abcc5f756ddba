package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const roleAssignmentColumns = `id, user_id, role, unit_id, created_at`

func scanRoleAssignment(row scanner) (*latchkey.RoleAssignment, error) {
	var a latchkey.RoleAssignment
	var unit sql.NullString
	var created int64
	if err := row.Scan(&a.ID, &a.UserID, &a.Role, &unit, &created); err != nil {
		return nil, err
	}
	a.UnitID, a.CreatedAt = unit.String, fromMicros(created)
	return &a, nil
}

// nullString stores "" as NULL: an optional reference to another row.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

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
	return s.write(ctx, "assign role", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (`+roleAssignmentColumns+`) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.UserID, a.Role, nullString(a.UnitID), micros(a.CreatedAt))
		if err != nil {
			return wrap("assign role", err)
		}
		return recomputeRoles(ctx, tx, a.UserID)
	})
}

// RemoveRole removes the user's assignment of role at unitID ("" for global) and recomputes the
// user's Roles in the same transaction; ErrNotFound when there is no such assignment, and
// ErrLastGlobalAdmin when it would take the role from the last enabled global administrator.
func (s *Store) RemoveRole(ctx context.Context, userID, role, unitID string) error {
	return s.write(ctx, "remove role", func(tx *txn) error {
		if role == latchkey.RoleGlobalAdmin && unitID == "" {
			var enabled bool
			if err := tx.QueryRowContext(ctx, `SELECT enabled FROM users WHERE id = ?`, userID).Scan(&enabled); err != nil {
				return wrap("remove role", err)
			}
			if err := guardLastAdmin(ctx, tx, &latchkey.User{ID: userID, Enabled: enabled}); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE user_id = ? AND role = ? AND coalesce(unit_id, '') = ?`,
			userID, role, unitID)
		if err := affected("remove role", res, err); err != nil {
			return err
		}
		return recomputeRoles(ctx, tx, userID)
	})
}

// recomputeRoles writes the distinct role names of the user's assignments, in
// latchkey.SortRoles order, to users.roles.
func recomputeRoles(ctx context.Context, tx *txn, userID string) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT role FROM role_assignments WHERE user_id = ?`, userID)
	if err != nil {
		return wrap("recompute roles", err)
	}
	defer rows.Close()
	roles := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return wrap("recompute roles", err)
		}
		roles = append(roles, r)
	}
	if err := rows.Err(); err != nil {
		return wrap("recompute roles", err)
	}
	latchkey.SortRoles(roles)
	_, err = tx.ExecContext(ctx, `UPDATE users SET roles = ? WHERE id = ?`, sqlstore.JSONList(roles), userID)
	return wrap("recompute roles", err)
}

// syncAssignments brings the user's assignments in step with roles, a Roles list written as a
// whole (CreateUser, UpdateUser): the assignments of a role not in roles go, at every scope, and
// a role in roles that the user holds at no scope is assigned globally at at.
func syncAssignments(ctx context.Context, tx *txn, userID string, roles []string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE user_id = ? AND role NOT IN (SELECT value FROM json_each(?))`,
		userID, sqlstore.JSONList(roles)); err != nil {
		return wrap("assign roles", err)
	}
	for _, r := range roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (`+roleAssignmentColumns+`)
			SELECT ?, ?, ?, NULL, ? WHERE NOT EXISTS (SELECT 1 FROM role_assignments WHERE user_id = ? AND role = ?)`,
			latchkey.NewID(), userID, r, micros(at), userID, r); err != nil {
			return wrap("assign roles", err)
		}
	}
	return nil
}

// ListRoleAssignments returns the assignments of one user, or of everyone when userID is "",
// ordered by user id, role and unit id (global first).
func (s *Store) ListRoleAssignments(ctx context.Context, userID string) ([]*latchkey.RoleAssignment, error) {
	const order = ` ORDER BY user_id, role, coalesce(unit_id, '')`
	if userID == "" {
		return list(ctx, s.r, "list role assignments", scanRoleAssignment, `SELECT `+roleAssignmentColumns+` FROM role_assignments`+order)
	}
	return list(ctx, s.r, "list role assignments", scanRoleAssignment, `SELECT `+roleAssignmentColumns+`
		FROM role_assignments WHERE user_id = ?`+order, userID)
}

const unitColumns = `id, display_name, description, created_at`

func scanUnit(row scanner) (*latchkey.AdministrativeUnit, error) {
	var u latchkey.AdministrativeUnit
	var created int64
	if err := row.Scan(&u.ID, &u.DisplayName, &u.Description, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

// CreateUnit stores u, assigning ID and CreatedAt when empty; ErrConflict when another unit has
// the same name regardless of case.
func (s *Store) CreateUnit(ctx context.Context, u *latchkey.AdministrativeUnit) error {
	if u.ID == "" {
		u.ID = latchkey.NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = sqlstore.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO administrative_units (`+unitColumns+`, name_norm) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.DisplayName, u.Description, micros(u.CreatedAt), latchkey.NormalizeUPN(u.DisplayName))
	return wrap("create unit", err)
}

// FindUnitByID returns the unit with the given ID, or latchkey.ErrNotFound.
func (s *Store) FindUnitByID(ctx context.Context, id string) (*latchkey.AdministrativeUnit, error) {
	u, err := scanUnit(s.r.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM administrative_units WHERE id = ?`, id))
	return u, wrap("find unit", err)
}

// FindUnitByName returns the unit whose name matches regardless of case, or latchkey.ErrNotFound.
func (s *Store) FindUnitByName(ctx context.Context, name string) (*latchkey.AdministrativeUnit, error) {
	u, err := scanUnit(s.r.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM administrative_units WHERE name_norm = ?`,
		latchkey.NormalizeUPN(name)))
	return u, wrap("find unit", err)
}

// ListUnits returns every unit, ordered by name regardless of case.
func (s *Store) ListUnits(ctx context.Context) ([]*latchkey.AdministrativeUnit, error) {
	return list(ctx, s.r, "list units", scanUnit, `SELECT `+unitColumns+` FROM administrative_units ORDER BY name_norm`)
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
	_, err = s.w.ExecContext(ctx, `INSERT INTO `+table+` (unit_id, `+column+`) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		m.UnitID, m.MemberID)
	return wrap("add unit member", err)
}

// RemoveUnitMember removes a member of a unit; ErrNotFound when it was not a member.
func (s *Store) RemoveUnitMember(ctx context.Context, m latchkey.UnitMember) error {
	table, column, err := unitMemberTable(m)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE unit_id = ? AND `+column+` = ?`, m.UnitID, m.MemberID)
	return affected("remove unit member", res, err)
}

// ListUnitMembers returns a unit's direct members: its groups, then its users, each by id.
func (s *Store) ListUnitMembers(ctx context.Context, unitID string) ([]latchkey.UnitMember, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, 'group', group_id FROM unit_group_members WHERE unit_id = ?
		UNION ALL SELECT unit_id, 'user', user_id FROM unit_user_members WHERE unit_id = ?
		ORDER BY 2, 3`, unitID, unitID)
	if err != nil {
		return nil, wrap("list unit members", err)
	}
	defer rows.Close()
	out := []latchkey.UnitMember{}
	for rows.Next() {
		var m latchkey.UnitMember
		if err := rows.Scan(&m.UnitID, &m.Kind, &m.MemberID); err != nil {
			return nil, wrap("list unit members", err)
		}
		out = append(out, m)
	}
	return out, wrap("list unit members", rows.Err())
}

// ListUserUnits returns the ids of the units the user is in, directly or through a group, in
// order.
func (s *Store) ListUserUnits(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id FROM unit_user_members WHERE user_id = ?
		UNION SELECT ug.unit_id FROM unit_group_members ug JOIN group_members gm ON gm.group_id = ug.group_id
		WHERE gm.user_id = ?
		ORDER BY 1`, userID, userID)
	if err != nil {
		return nil, wrap("list user units", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("list user units", err)
		}
		out = append(out, id)
	}
	return out, wrap("list user units", rows.Err())
}
