package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, aaguid, attestation_format,
	attestation_type, attestation_trust, transports, backup_eligible, backup_state, user_verified, kind,
	provider, nickname, possible_clone, created_at, last_used_at, last_used_platform, attestation_object,
	client_data_json`

// scanPasskey reads one row of passkeyColumns.
func scanPasskey(row pgx.Row) (*latchkey.Passkey, error) {
	p := &latchkey.Passkey{}
	if err := row.Scan(passkeyDest(p)...); err != nil {
		return nil, err
	}
	return p, nil
}

// passkeyDest returns where the columns of passkeyColumns go.
func passkeyDest(p *latchkey.Passkey) []any {
	return []any{&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.SignCount, &p.AAGUID,
		&p.AttestationFormat, &p.AttestationType, &p.AttestationTrust, &p.Transports, &p.BackupEligible,
		&p.BackupState, &p.UserVerified, &p.Kind, &p.Provider, &p.Nickname, &p.PossibleClone,
		&p.CreatedAt, &p.LastUsedAt, &p.LastUsedPlatform, &p.AttestationObject, &p.ClientDataJSON}
}

// passkeySignInColumns are passkeyColumns without the stored attestation object and client
// data, which a sign-in does not use (they are the last two columns).
var passkeySignInColumns = strings.Join(strings.Split(passkeyColumns, ",")[:passkeySignInFields], ",")

const passkeySignInFields = 20

// FindPasskeyForSignIn reads a sign-in's passkey, owner, owner's groups and settings in one
// round trip.
func (s *Store) FindPasskeyForSignIn(ctx context.Context, credentialID []byte, settings ...string) (*latchkey.SignInSubject, error) {
	p, u := &latchkey.Passkey{}, &latchkey.User{}
	var groups []string
	values := make([][]byte, len(settings))
	dest := append(append(passkeyDest(p)[:passkeySignInFields], userDest(u)...), &groups)
	args := []any{credentialID}
	q := `SELECT ` + sqlstore.Prefixed("p.", passkeySignInColumns) + `, ` + sqlstore.Prefixed("u.", userColumns) + `,
		ARRAY(SELECT group_id::text FROM group_members WHERE user_id = u.id ORDER BY group_id)`
	for i, key := range settings {
		args = append(args, key)
		q += fmt.Sprintf(`, (SELECT value FROM settings WHERE key = $%d)`, len(args))
		dest = append(dest, &values[i])
	}
	q += ` FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.credential_id = $1`
	if err := s.pool.QueryRow(ctx, q, args...).Scan(dest...); err != nil {
		return nil, storeError(err, "find passkey for sign-in")
	}
	subject := &latchkey.SignInSubject{Passkey: p, User: u, GroupIDs: groups, Settings: map[string][]byte{}}
	if subject.GroupIDs == nil {
		subject.GroupIDs = []string{}
	}
	for i, key := range settings {
		if values[i] != nil {
			subject.Settings[key] = values[i]
		}
	}
	return subject, nil
}

// CreatePasskey stores p, assigning ID and CreatedAt when empty; ErrConflict when the credential
// ID is registered already, to any user.
func (s *Store) CreatePasskey(ctx context.Context, p *latchkey.Passkey) error {
	if p.ID == "" {
		p.ID = latchkey.NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = sqlstore.Now()
	}
	p.CreatedAt, p.LastUsedAt = dbTime(p.CreatedAt), dbTimePtr(p.LastUsedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		p.ID, p.UserID, sqlstore.NonNil(p.CredentialID), sqlstore.NonNil(p.PublicKey), p.SignCount, p.AAGUID, p.AttestationFormat,
		p.AttestationType, p.AttestationTrust, sqlstore.NonNil(p.Transports), p.BackupEligible, p.BackupState,
		p.UserVerified, p.Kind, p.Provider, p.Nickname, p.PossibleClone, p.CreatedAt, p.LastUsedAt,
		p.LastUsedPlatform, sqlstore.NonNil(p.AttestationObject), sqlstore.NonNil(p.ClientDataJSON))
	return storeError(err, "create passkey")
}

// FindPasskeyByID returns the passkey with the given ID; ErrNotFound when there is none.
func (s *Store) FindPasskeyByID(ctx context.Context, id string) (*latchkey.Passkey, error) {
	if !latchkey.CanNameSomething(id) {
		return nil, latchkey.ErrNotFound
	}
	p, err := scanPasskey(s.pool.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = $1`, id))
	return p, storeError(err, "find passkey")
}

// ListPasskeysByUser returns the user's passkeys, oldest first.
func (s *Store) ListPasskeysByUser(ctx context.Context, userID string) ([]*latchkey.Passkey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1
		ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, storeError(err, "list passkeys")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Passkey, error) { return scanPasskey(row) })
	return list, storeError(err, "list passkeys")
}

// RenamePasskey sets the nickname of the user's passkey; ErrNotFound when the user has no
// passkey with that ID.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, nickname string) error {
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE passkeys SET nickname = $3 WHERE id = $1 AND user_id = $2`, id, userID, nickname)
	if err != nil {
		return storeError(err, "rename passkey")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// DeletePasskey removes the user's passkey and the sessions made with it, in one transaction;
// ErrNotFound when the user has no passkey with that ID.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return storeError(err, "delete passkey")
		}
		if tag.RowsAffected() == 0 {
			return latchkey.ErrNotFound
		}
		_, err = tx.Exec(ctx, endSessionsOfPasskey, userID, id)
		return storeError(err, "delete passkey")
	})
}

// FlagPasskeyPossibleClone marks the passkey as possibly cloned and ends the sessions made with
// it, in one transaction; ErrNotFound when there is none.
func (s *Store) FlagPasskeyPossibleClone(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var userID string
		err := tx.QueryRow(ctx, `UPDATE passkeys SET possible_clone = true WHERE id = $1 RETURNING user_id`, id).Scan(&userID)
		if err != nil {
			return storeError(err, "flag passkey")
		}
		_, err = tx.Exec(ctx, endSessionsOfPasskey, userID, id)
		return storeError(err, "flag passkey")
	})
}

// completeSignIn is CompletePasskeySignIn's one statement. The checks that may refuse come
// first: the UPDATE moves the count only when it advances and the challenge was not used before
// (as of the statement's snapshot), and the challenge, session and event are inserted only from
// the row it returns. A challenge used by a transaction that committed after the snapshot makes
// the plain INSERT fail on the primary key, which aborts the whole statement. The SELECT says
// why nothing was written.
const completeSignIn = `WITH used_before AS (
	SELECT EXISTS (SELECT 1 FROM used_challenges WHERE id = $1::text) AS used
), passkey AS (
	UPDATE passkeys SET sign_count = $4::bigint, last_used_at = $5::timestamptz, last_used_platform = $6::text
	WHERE id = $3::text AND (sign_count < $4::bigint OR (sign_count = 0 AND $4::bigint = 0))
		AND NOT possible_clone AND NOT (SELECT used FROM used_before)
	RETURNING id
), challenge AS (
	INSERT INTO used_challenges (id, expires_at)
	SELECT $1::text, $2::timestamptz FROM passkey
	RETURNING id
), new_session AS (
	INSERT INTO sessions (id, user_id, methods, passkey_id, access_pass_id, created_at, authenticated_at,
		expires_at, ip, user_agent)
	SELECT $7::text, $8::text, $9::text[], $10::text, $11::text, $12::timestamptz, $13::timestamptz,
		$14::timestamptz, $15::text, $16::text
	FROM challenge
), new_event AS (
	INSERT INTO sign_ins (` + signInColumns + `)
	SELECT $17::text, $18::timestamptz, $19::text, $20::text, $21::text, $22::text, $23::text, $24::text,
		$25::text, $26::text, $27::text, $28::text, $29::text, $30::text, $31::text, $32::text, $33::text,
		$34::text, $35::text, $36::text, $37::text
	FROM challenge
)
SELECT (SELECT used FROM used_before), EXISTS (SELECT 1 FROM passkey),
	EXISTS (SELECT 1 FROM passkeys WHERE id = $3::text)`

// CompletePasskeySignIn writes a successful passkey sign-in in one statement, so in one
// transaction and one round trip: it records the challenge as used (ErrChallengeUsed when it
// was already), moves the sign count to c.SignCount when it is above the stored count or both
// are zero and the passkey is not flagged as possibly cloned (ErrConflict otherwise, ErrNotFound
// for an unknown passkey), and stores the session as CreateSession and the event as RecordSignIn,
// assigning the event's ID and CreatedAt when empty. On any error nothing is written. Of racing
// calls with one challenge exactly one succeeds: the others find it in their snapshot or fail on
// its primary key.
func (s *Store) CompletePasskeySignIn(ctx context.Context, c *latchkey.PasskeySignIn) error {
	const doing = "complete passkey sign-in"
	if c.Session == nil || c.Event == nil {
		return fmt.Errorf("%s: a session and an event are required", doing)
	}
	sess, e := c.Session, c.Event
	if e.ID == "" {
		e.ID = latchkey.NewID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = sqlstore.Now()
	}
	e.CreatedAt = dbTime(e.CreatedAt)
	sess.CreatedAt, sess.AuthenticatedAt, sess.ExpiresAt = dbTime(sess.CreatedAt), dbTime(sess.AuthenticatedAt), dbTime(sess.ExpiresAt)

	var usedBefore, counted, found bool
	args := append([]any{c.ChallengeID, dbTime(c.ChallengeExpiresAt),
		c.PasskeyID, int64(c.SignCount), dbTime(c.UsedAt), c.Platform,
		sess.ID, sess.UserID, sqlstore.NonNil(sess.Methods), sess.PasskeyID, sess.AccessPassID,
		sess.CreatedAt, sess.AuthenticatedAt, sess.ExpiresAt, sess.IP, sess.UserAgent}, signInArgs(e)...)
	err := s.pool.QueryRow(ctx, completeSignIn, args...).Scan(&usedBefore, &counted, &found)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "used_challenges_pkey":
		return latchkey.ErrChallengeUsed // used by a sign-in that committed after our snapshot
	case err != nil:
		return storeError(err, doing)
	case usedBefore:
		return latchkey.ErrChallengeUsed
	case counted:
		return nil
	case found:
		return latchkey.ErrConflict
	}
	return latchkey.ErrNotFound
}
