package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const userColumns = `id, upn, display_name, given_name, surname, employee_id, enabled, user_type, roles, created_at, manager_id,
	department, start_date, mail, personal_mail, external_id, source`

// scanUser reads one row of userColumns.
func scanUser(row pgx.Row) (*latchkey.User, error) {
	u := &latchkey.User{}
	if err := row.Scan(userDest(u)...); err != nil {
		return nil, err
	}
	return u, nil
}

// userDest returns where the columns of userColumns go.
func userDest(u *latchkey.User) []any {
	return []any{&u.ID, &u.UserPrincipalName, &u.DisplayName, &u.GivenName, &u.Surname,
		&u.EmployeeID, &u.Enabled, &u.UserType, &u.Roles, &u.CreatedAt, (*optionalID)(&u.ManagerID),
		&u.Department, &u.StartDate, &u.Mail, &u.PersonalMail, &u.ExternalID, &u.Source}
}

// optionalID receives a nullable reference to another row: NULL is "".
type optionalID string

// Scan implements sql.Scanner, which pgx honours.
func (o *optionalID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*o = ""
	case string:
		*o = optionalID(v)
	default:
		return fmt.Errorf("scan optional id: unexpected %T", src)
	}
	return nil
}

// scanUsers reads every row of userColumns.
func scanUsers(rows pgx.Rows, err error) ([]*latchkey.User, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.User, error) { return scanUser(row) })
}

// CreateUser stores u, assigning ID and CreatedAt when empty, and a global role assignment for
// each of u.Roles, in one transaction. ErrConflict when the UPN is taken in any case; ErrNotFound
// when the manager does not exist.
func (s *Store) CreateUser(ctx context.Context, u *latchkey.User) error {
	if u.ID == "" {
		u.ID = latchkey.NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = sqlstore.Now()
	}
	u.CreatedAt = dbTime(u.CreatedAt)
	u.Roles = sqlstore.NonNil(u.Roles)
	if !latchkey.CanNameSomething(u.ManagerID) {
		return latchkey.ErrNotFound // no such manager
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, upn, upn_normalized, display_name, given_name,
			surname, employee_id, enabled, user_type, roles, created_at, manager_id,
			department, start_date, mail, personal_mail, external_id, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULLIF($12, ''), $13, $14, $15, $16, $17, $18)`,
			u.ID, u.UserPrincipalName, latchkey.NormalizeUPN(u.UserPrincipalName), u.DisplayName, u.GivenName,
			u.Surname, u.EmployeeID, u.Enabled, u.UserType, u.Roles, u.CreatedAt, u.ManagerID,
			u.Department, u.StartDate, u.Mail, u.PersonalMail, u.ExternalID, u.Source)
		if err != nil {
			return storeError(err, "create user")
		}
		return syncAssignments(ctx, tx, u.ID, u.Roles, u.CreatedAt)
	})
	return storeError(err, "create user")
}

// FindUserByID returns the user with the given ID; ErrNotFound when there is none.
func (s *Store) FindUserByID(ctx context.Context, id string) (*latchkey.User, error) {
	if !latchkey.CanNameSomething(id) {
		return nil, latchkey.ErrNotFound
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, storeError(err, "find user")
}

// FindUserByUPN returns the user with the given principal name in any case; ErrNotFound when
// there is none.
func (s *Store) FindUserByUPN(ctx context.Context, upn string) (*latchkey.User, error) {
	if !latchkey.CanNameSomething(upn) {
		return nil, latchkey.ErrNotFound
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE upn_normalized = $1`,
		latchkey.NormalizeUPN(upn)))
	return u, storeError(err, "find user")
}

// ListUsers returns every user, ordered by normalized UPN.
func (s *Store) ListUsers(ctx context.Context) ([]*latchkey.User, error) {
	users, err := scanUsers(s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY upn_normalized`))
	return users, storeError(err, "list users")
}

// ListDirectReports returns the users whose manager is managerID, ordered by UPN.
func (s *Store) ListDirectReports(ctx context.Context, managerID string) ([]*latchkey.User, error) {
	if !latchkey.CanNameSomething(managerID) {
		return nil, nil // text no id column holds names nobody
	}
	users, err := scanUsers(s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE manager_id = $1 ORDER BY upn_normalized`, managerID))
	return users, storeError(err, "list direct reports")
}

// UpdateUser locks the user's row, applies fn and stores the result, in one transaction. An error
// from fn is returned as it is and changes nothing; a UPN taken by another user is ErrConflict,
// a manager that does not exist ErrNotFound. Roles changed by fn change the role assignments
// alike (see syncAssignments).
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*latchkey.User) error) (*latchkey.User, error) {
	var u *latchkey.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return storeError(err, "find user")
		}
		createdAt := u.CreatedAt
		if err := fn(u); err != nil {
			return err
		}
		if !latchkey.CanNameSomething(u.ManagerID) {
			return latchkey.ErrNotFound // no such manager
		}
		u.ID, u.CreatedAt = id, createdAt // neither may change
		u.Roles = sqlstore.NonNil(u.Roles)
		_, err = tx.Exec(ctx, `UPDATE users SET upn = $2, upn_normalized = $3, display_name = $4,
			given_name = $5, surname = $6, employee_id = $7, enabled = $8, user_type = $9, roles = $10,
			manager_id = NULLIF($11, ''), department = $12, start_date = $13, mail = $14, personal_mail = $15,
			external_id = $16, source = $17
			WHERE id = $1`,
			id, u.UserPrincipalName, latchkey.NormalizeUPN(u.UserPrincipalName), u.DisplayName,
			u.GivenName, u.Surname, u.EmployeeID, u.Enabled, u.UserType, u.Roles, u.ManagerID,
			u.Department, u.StartDate, u.Mail, u.PersonalMail, u.ExternalID, u.Source)
		if err != nil {
			return storeError(err, "update user")
		}
		return syncAssignments(ctx, tx, id, u.Roles, sqlstore.Now())
	})
	if err != nil {
		return nil, storeError(err, "update user")
	}
	return u, nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, storeError(err, "count users")
}

// FindUsersByExternalID returns the users whose external id is externalID, ordered by
// normalized UPN; none for "".
func (s *Store) FindUsersByExternalID(ctx context.Context, externalID string) ([]*latchkey.User, error) {
	if externalID == "" || !latchkey.CanNameSomething(externalID) {
		return []*latchkey.User{}, nil
	}
	users, err := scanUsers(s.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE external_id = $1 AND external_id <> '' ORDER BY upn_normalized`, externalID))
	return users, storeError(err, "find users by external id")
}

const groupColumns = `id, display_name, description, created_at, external_id, source`

// scanGroup reads one row of groupColumns.
func scanGroup(row pgx.Row) (*latchkey.Group, error) {
	g := &latchkey.Group{}
	if err := row.Scan(&g.ID, &g.DisplayName, &g.Description, &g.CreatedAt, &g.ExternalID, &g.Source); err != nil {
		return nil, err
	}
	return g, nil
}

// scanGroups reads every row of groupColumns.
func scanGroups(rows pgx.Rows, err error) ([]*latchkey.Group, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Group, error) { return scanGroup(row) })
}

// CreateGroup stores g, assigning ID and CreatedAt when empty; ErrConflict when the name is
// taken in any case.
func (s *Store) CreateGroup(ctx context.Context, g *latchkey.Group) error {
	if g.ID == "" {
		g.ID = latchkey.NewID()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = sqlstore.Now()
	}
	g.CreatedAt = dbTime(g.CreatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO groups (id, display_name, name_normalized, description, created_at, external_id, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.DisplayName, latchkey.NormalizeUPN(g.DisplayName), g.Description, g.CreatedAt, g.ExternalID, g.Source)
	return storeError(err, "create group")
}

// FindGroupByID returns the group with the given ID; ErrNotFound when there is none.
func (s *Store) FindGroupByID(ctx context.Context, id string) (*latchkey.Group, error) {
	if !latchkey.CanNameSomething(id) {
		return nil, latchkey.ErrNotFound
	}
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = $1`, id))
	return g, storeError(err, "find group")
}

// FindGroupByName returns the group with the given name in any case; ErrNotFound when there is
// none.
func (s *Store) FindGroupByName(ctx context.Context, name string) (*latchkey.Group, error) {
	if !latchkey.CanNameSomething(name) {
		return nil, latchkey.ErrNotFound
	}
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE name_normalized = $1`,
		latchkey.NormalizeUPN(name)))
	return g, storeError(err, "find group")
}

// ListGroups returns every group, ordered by normalized name.
func (s *Store) ListGroups(ctx context.Context) ([]*latchkey.Group, error) {
	groups, err := scanGroups(s.pool.Query(ctx, `SELECT `+groupColumns+` FROM groups ORDER BY name_normalized`))
	return groups, storeError(err, "list groups")
}

// AddGroupMember makes the user a member of the group; adding a member twice is not an error.
// ErrNotFound when the group or the user does not exist.
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, groupID, userID)
	return storeError(err, "add group member")
}

// RemoveGroupMember ends the user's membership of the group, if any.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	return storeError(err, "remove group member")
}

// ListGroupMembers returns the group's members, ordered by normalized UPN.
func (s *Store) ListGroupMembers(ctx context.Context, groupID string) ([]*latchkey.User, error) {
	users, err := scanUsers(s.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE id IN (SELECT user_id FROM group_members WHERE group_id = $1)
		ORDER BY upn_normalized`, groupID))
	return users, storeError(err, "list group members")
}

// ListUserGroups returns the groups the user belongs to, ordered by normalized name.
func (s *Store) ListUserGroups(ctx context.Context, userID string) ([]*latchkey.Group, error) {
	groups, err := scanGroups(s.pool.Query(ctx, `SELECT `+groupColumns+` FROM groups
		WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1)
		ORDER BY name_normalized`, userID))
	return groups, storeError(err, "list user groups")
}

// CountAttention returns the admin home page's counts in one query: enabled users with no
// passkey, enabled users with a pass usable at now, and failed sign-ins since since.
func (s *Store) CountAttention(ctx context.Context, now, since time.Time) (latchkey.AttentionCounts, error) {
	var c latchkey.AttentionCounts
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users u WHERE u.enabled AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)),
		(SELECT count(*) FROM access_passes a JOIN users u ON u.id = a.user_id
			WHERE u.enabled AND NOT (a.one_time AND a.used_at IS NOT NULL)
			AND a.start_at <= $1 AND $1 < a.start_at + make_interval(mins => a.lifetime_minutes)),
		(SELECT count(*) FROM sign_ins WHERE created_at >= $2 AND result = $3)`,
		now, since, latchkey.SignInFailure).Scan(&c.NoPasskey, &c.UsablePasses, &c.FailedSignIns)
	return c, storeError(err, "count attention")
}

// CountNeedingSecondPasskey counts, in one query, the enabled users with exactly one passkey or
// with passkeys none of which was used or created at or after unusedBefore.
func (s *Store) CountNeedingSecondPasskey(ctx context.Context, unusedBefore time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users u JOIN (
		SELECT user_id, count(*) AS n, GREATEST(max(created_at), max(last_used_at)) AS last
		FROM passkeys GROUP BY user_id) p ON p.user_id = u.id
		WHERE u.enabled AND (p.n = 1 OR p.last < $1)`, unusedBefore).Scan(&n)
	return n, storeError(err, "count people needing a second passkey")
}
