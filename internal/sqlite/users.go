package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const userColumns = `id, upn, display_name, given_name, surname, employee_id, enabled, user_type, roles, created_at, manager_id,
	department, start_date, mail, personal_mail, external_id, source`

func scanUser(row scanner) (*latchkey.User, error) {
	var r userRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.user()
}

// userRow receives one row of userColumns.
type userRow struct {
	u       latchkey.User
	roles   string
	made    int64
	manager sql.NullString
}

func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.UserPrincipalName, &u.DisplayName, &u.GivenName, &u.Surname,
		&u.EmployeeID, &u.Enabled, &u.UserType, &r.roles, &r.made, &r.manager,
		&u.Department, &u.StartDate, &u.Mail, &u.PersonalMail, &u.ExternalID, &u.Source}
}

func (r *userRow) user() (*latchkey.User, error) {
	u := r.u
	var err error
	if u.Roles, err = sqlstore.FromJSONList(r.roles); err != nil {
		return nil, err
	}
	u.CreatedAt, u.ManagerID = fromMicros(r.made), r.manager.String
	return &u, nil
}

// CreateUser stores u, assigning ID and CreatedAt when empty, and a global role assignment for
// each of u.Roles, in one transaction. It returns latchkey.ErrConflict when another user has
// the same UPN regardless of case, and latchkey.ErrNotFound when the manager does not exist.
func (s *Store) CreateUser(ctx context.Context, u *latchkey.User) error {
	if u.ID == "" {
		u.ID = latchkey.NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = sqlstore.Now()
	}
	return s.write(ctx, "create user", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, upn_norm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.UserPrincipalName, u.DisplayName, u.GivenName, u.Surname, u.EmployeeID, u.Enabled, u.UserType,
			sqlstore.JSONList(u.Roles), micros(u.CreatedAt), nullString(u.ManagerID),
			u.Department, u.StartDate, u.Mail, u.PersonalMail, u.ExternalID, u.Source, latchkey.NormalizeUPN(u.UserPrincipalName))
		if err != nil {
			return wrap("create user", err)
		}
		return syncAssignments(ctx, tx, u.ID, u.Roles, u.CreatedAt)
	})
}

// FindUserByID returns the user with the given ID, or latchkey.ErrNotFound.
func (s *Store) FindUserByID(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, wrap("find user", err)
}

// FindUserByUPN returns the user whose UPN matches upn regardless of case, or latchkey.ErrNotFound.
func (s *Store) FindUserByUPN(ctx context.Context, upn string) (*latchkey.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE upn_norm = ?`, latchkey.NormalizeUPN(upn)))
	return u, wrap("find user", err)
}

// ListUsers returns every user, ordered by UPN regardless of case.
func (s *Store) ListUsers(ctx context.Context) ([]*latchkey.User, error) {
	return list(ctx, s.r, "list users", scanUser, `SELECT `+userColumns+` FROM users ORDER BY upn_norm`)
}

// ListDirectReports returns the users whose manager is managerID, ordered by UPN.
func (s *Store) ListDirectReports(ctx context.Context, managerID string) ([]*latchkey.User, error) {
	return list(ctx, s.r, "list direct reports", scanUser, `SELECT `+userColumns+` FROM users WHERE manager_id = ? ORDER BY upn_norm`, managerID)
}

// UpdateUser loads the user, applies fn and stores the result in one transaction. fn may not
// change ID or CreatedAt. An error from fn is returned as it is, and nothing is written. Roles
// changed by fn change the role assignments alike (see syncAssignments); a manager that does not
// exist is latchkey.ErrNotFound.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*latchkey.User) error) (*latchkey.User, error) {
	var u *latchkey.User
	err := s.write(ctx, "update user", func(tx *txn) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err != nil {
			return wrap("update user", err)
		}
		createdAt := u.CreatedAt
		if err := fn(u); err != nil {
			return err
		}
		u.ID, u.CreatedAt = id, createdAt
		_, err = tx.ExecContext(ctx, `UPDATE users SET upn = ?, upn_norm = ?, display_name = ?, given_name = ?,
			surname = ?, employee_id = ?, enabled = ?, user_type = ?, roles = ?, manager_id = ?,
			department = ?, start_date = ?, mail = ?, personal_mail = ?, external_id = ?, source = ? WHERE id = ?`,
			u.UserPrincipalName, latchkey.NormalizeUPN(u.UserPrincipalName), u.DisplayName, u.GivenName,
			u.Surname, u.EmployeeID, u.Enabled, u.UserType, sqlstore.JSONList(u.Roles), nullString(u.ManagerID),
			u.Department, u.StartDate, u.Mail, u.PersonalMail, u.ExternalID, u.Source, id)
		if err != nil {
			return wrap("update user", err)
		}
		return syncAssignments(ctx, tx, id, u.Roles, sqlstore.Now())
	})
	if err != nil {
		return nil, err
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	return u, nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

// FindUsersByExternalID returns the users whose external id is externalID, ordered by UPN
// regardless of case; none for "".
func (s *Store) FindUsersByExternalID(ctx context.Context, externalID string) ([]*latchkey.User, error) {
	if externalID == "" {
		return []*latchkey.User{}, nil
	}
	return list(ctx, s.r, "find users by external id", scanUser,
		`SELECT `+userColumns+` FROM users WHERE external_id = ? AND external_id <> '' ORDER BY upn_norm`, externalID)
}

const groupColumns = `id, display_name, description, created_at, external_id, source`

func scanGroup(row scanner) (*latchkey.Group, error) {
	var g latchkey.Group
	var created int64
	if err := row.Scan(&g.ID, &g.DisplayName, &g.Description, &created, &g.ExternalID, &g.Source); err != nil {
		return nil, err
	}
	g.CreatedAt = fromMicros(created)
	return &g, nil
}

// CreateGroup stores g, assigning ID and CreatedAt when empty. It returns latchkey.ErrConflict
// when another group has the same name regardless of case.
func (s *Store) CreateGroup(ctx context.Context, g *latchkey.Group) error {
	if g.ID == "" {
		g.ID = latchkey.NewID()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = sqlstore.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO groups (`+groupColumns+`, name_norm) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.DisplayName, g.Description, micros(g.CreatedAt), g.ExternalID, g.Source, latchkey.NormalizeUPN(g.DisplayName))
	return wrap("create group", err)
}

// FindGroupByID returns the group with the given ID, or latchkey.ErrNotFound.
func (s *Store) FindGroupByID(ctx context.Context, id string) (*latchkey.Group, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = ?`, id))
	return g, wrap("find group", err)
}

// FindGroupByName returns the group whose name matches regardless of case, or latchkey.ErrNotFound.
func (s *Store) FindGroupByName(ctx context.Context, name string) (*latchkey.Group, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE name_norm = ?`, latchkey.NormalizeUPN(name)))
	return g, wrap("find group", err)
}

// ListGroups returns every group, ordered by name regardless of case.
func (s *Store) ListGroups(ctx context.Context) ([]*latchkey.Group, error) {
	return list(ctx, s.r, "list groups", scanGroup, `SELECT `+groupColumns+` FROM groups ORDER BY name_norm`)
}

// AddGroupMember makes the user a member of the group; adding a member twice is not an error.
// It returns latchkey.ErrNotFound when the group or the user does not exist.
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, groupID, userID)
	return wrap("add group member", err)
}

// RemoveGroupMember ends the user's membership of the group, if any.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
	return wrap("remove group member", err)
}

// ListGroupMembers returns the members of the group, ordered by UPN regardless of case.
func (s *Store) ListGroupMembers(ctx context.Context, groupID string) ([]*latchkey.User, error) {
	return list(ctx, s.r, "list group members", scanUser, `SELECT `+sqlstore.Prefixed("u.", userColumns)+`
		FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.upn_norm`, groupID)
}

// ListUserGroups returns the groups the user belongs to, ordered by name regardless of case.
func (s *Store) ListUserGroups(ctx context.Context, userID string) ([]*latchkey.Group, error) {
	return list(ctx, s.r, "list user groups", scanGroup, `SELECT `+sqlstore.Prefixed("g.", groupColumns)+`
		FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name_norm`, userID)
}

// CountAttention returns the admin home page's counts in one query: enabled users with no
// passkey, enabled users with a pass usable at now, and failed sign-ins since since.
func (s *Store) CountAttention(ctx context.Context, now, since time.Time) (latchkey.AttentionCounts, error) {
	var c latchkey.AttentionCounts
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM users u WHERE u.enabled = 1 AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)),
		(SELECT count(*) FROM access_passes a JOIN users u ON u.id = a.user_id
			WHERE u.enabled = 1 AND NOT (a.one_time = 1 AND a.used_at IS NOT NULL)
			AND a.start_at <= ?1 AND ?1 < a.start_at + a.lifetime_minutes * 60000000),
		(SELECT count(*) FROM sign_ins WHERE created_at >= ?2 AND result = ?3)`,
		micros(now), micros(since), latchkey.SignInFailure).Scan(&c.NoPasskey, &c.UsablePasses, &c.FailedSignIns)
	return c, wrap("count attention", err)
}

// CountNeedingSecondPasskey counts, in one query, the enabled users with exactly one passkey or
// with passkeys none of which was used or created at or after unusedBefore.
func (s *Store) CountNeedingSecondPasskey(ctx context.Context, unusedBefore time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users u JOIN (
		SELECT user_id, count(*) AS n, max(max(created_at), coalesce(max(last_used_at), 0)) AS last
		FROM passkeys GROUP BY user_id) p ON p.user_id = u.id
		WHERE u.enabled = 1 AND (p.n = 1 OR p.last < ?)`, micros(unusedBefore)).Scan(&n)
	return n, wrap("count people needing a second passkey", err)
}
