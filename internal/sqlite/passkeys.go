package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, aaguid, attestation_format,
	attestation_type, attestation_trust, transports, backup_eligible, backup_state, user_verified, kind,
	provider, nickname, possible_clone, created_at, last_used_at, last_used_platform, attestation_object,
	client_data_json`

func scanPasskey(row scanner) (*latchkey.Passkey, error) {
	var r passkeyRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.passkey()
}

// passkeyRow receives one row of passkeyColumns.
type passkeyRow struct {
	p               latchkey.Passkey
	signCount, made int64
	lastUsed        sql.NullInt64
	transports      string
}

func (r *passkeyRow) dest() []any {
	p := &r.p
	return []any{&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &r.signCount, &p.AAGUID,
		&p.AttestationFormat, &p.AttestationType, &p.AttestationTrust, &r.transports, &p.BackupEligible,
		&p.BackupState, &p.UserVerified, &p.Kind, &p.Provider, &p.Nickname, &p.PossibleClone, &r.made,
		&r.lastUsed, &p.LastUsedPlatform, &p.AttestationObject, &p.ClientDataJSON}
}

func (r *passkeyRow) passkey() (*latchkey.Passkey, error) {
	p := r.p
	var err error
	if p.Transports, err = sqlstore.FromJSONList(r.transports); err != nil {
		return nil, err
	}
	p.SignCount = uint32(r.signCount)
	p.CreatedAt = fromMicros(r.made)
	p.LastUsedAt = fromNullMicros(r.lastUsed)
	return &p, nil
}

// passkeySignInColumns are passkeyColumns without the stored attestation object and client
// data, which a sign-in does not use (they are the last two columns).
var passkeySignInColumns = strings.Join(strings.Split(passkeyColumns, ",")[:passkeySignInFields], ",")

const passkeySignInFields = 20

// FindPasskeyForSignIn reads a sign-in's passkey, owner, owner's groups and settings in one query.
func (s *Store) FindPasskeyForSignIn(ctx context.Context, credentialID []byte, settings ...string) (*latchkey.SignInSubject, error) {
	var pr passkeyRow
	var ur userRow
	var groups string
	values := make([][]byte, len(settings))
	dest := append(append(pr.dest()[:passkeySignInFields], ur.dest()...), &groups)
	args := []any{}
	q := `SELECT ` + sqlstore.Prefixed("p.", passkeySignInColumns) + `, ` + sqlstore.Prefixed("u.", userColumns) + `,
		(SELECT coalesce(json_group_array(group_id), '[]') FROM group_members WHERE user_id = u.id)`
	for i, key := range settings {
		q += `, (SELECT value FROM settings WHERE key = ?)`
		args = append(args, key)
		dest = append(dest, &values[i])
	}
	q += ` FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.credential_id = ?`
	args = append(args, sqlstore.NonNil(credentialID))
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(dest...); err != nil {
		return nil, wrap("find passkey for sign-in", err)
	}
	p, err := pr.passkey()
	if err != nil {
		return nil, err
	}
	u, err := ur.user()
	if err != nil {
		return nil, err
	}
	subject := &latchkey.SignInSubject{Passkey: p, User: u, Settings: map[string][]byte{}}
	if subject.GroupIDs, err = sqlstore.FromJSONList(groups); err != nil {
		return nil, err
	}
	for i, key := range settings {
		if values[i] != nil {
			subject.Settings[key] = values[i]
		}
	}
	return subject, nil
}

// CreatePasskey stores p, assigning ID and CreatedAt when empty. It returns
// latchkey.ErrConflict when the credential ID is registered already, to anyone, and
// latchkey.ErrNotFound when the user does not exist.
func (s *Store) CreatePasskey(ctx context.Context, p *latchkey.Passkey) error {
	if p.ID == "" {
		p.ID = latchkey.NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = sqlstore.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, sqlstore.NonNil(p.CredentialID), sqlstore.NonNil(p.PublicKey), int64(p.SignCount), p.AAGUID,
		p.AttestationFormat, p.AttestationType, p.AttestationTrust, sqlstore.JSONList(p.Transports), p.BackupEligible,
		p.BackupState, p.UserVerified, p.Kind, p.Provider, p.Nickname, p.PossibleClone, micros(p.CreatedAt),
		nullMicros(p.LastUsedAt), p.LastUsedPlatform, sqlstore.NonNil(p.AttestationObject), sqlstore.NonNil(p.ClientDataJSON))
	return wrap("create passkey", err)
}

// FindPasskeyByID returns the passkey with the given ID, or latchkey.ErrNotFound.
func (s *Store) FindPasskeyByID(ctx context.Context, id string) (*latchkey.Passkey, error) {
	p, err := scanPasskey(s.r.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = ?`, id))
	return p, wrap("find passkey", err)
}

// ListPasskeysByUser returns the user's passkeys, oldest first.
func (s *Store) ListPasskeysByUser(ctx context.Context, userID string) ([]*latchkey.Passkey, error) {
	return list(ctx, s.r, "list passkeys", scanPasskey,
		`SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
}

// RenamePasskey sets the nickname of the user's passkey; latchkey.ErrNotFound when it is not theirs.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, nickname string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE passkeys SET nickname = ? WHERE id = ? AND user_id = ?`, nickname, id, userID)
	return affected("rename passkey", res, err)
}

// DeletePasskey removes the user's passkey and the sessions made with it, in one transaction;
// latchkey.ErrNotFound when it is not theirs.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	return s.write(ctx, "delete passkey", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID)
		if err := affected("delete passkey", res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, endSessionsOfPasskey, userID, id)
		return wrap("delete passkey", err)
	})
}

// recordPasskeyUse moves the sign count to newCount and records the use, within tx, if newCount
// is above the stored count or both are zero, and the passkey is not flagged as possibly cloned.
// Otherwise it returns latchkey.ErrConflict and changes nothing; latchkey.ErrNotFound when there
// is no such passkey. The comparison is part of the UPDATE, so of many racing callers with the
// same count exactly one wins.
func recordPasskeyUse(ctx context.Context, tx *txn, verb, id string, newCount uint32, usedAt time.Time, platform string) error {
	res, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = ?1, last_used_at = ?2, last_used_platform = ?3
		WHERE id = ?4 AND (sign_count < ?1 OR (sign_count = 0 AND ?1 = 0)) AND possible_clone = 0`,
		int64(newCount), micros(usedAt), platform, id)
	if err := affected(verb, res, err); !errors.Is(err, latchkey.ErrNotFound) {
		return err
	}
	// Refused: the rare path looks again to say why.
	return conflictIfExists(ctx, tx, "passkeys", id)
}

// CompletePasskeySignIn writes a successful passkey sign-in: it records the challenge as used
// (latchkey.ErrChallengeUsed when it was already), moves the sign count as recordPasskeyUse does
// (latchkey.ErrConflict, or latchkey.ErrNotFound for an unknown passkey), then stores the
// session as CreateSession and the event as RecordSignIn, assigning the event's ID and CreatedAt
// when empty. On any error nothing of this sign-in is written.
//
// Sign-ins that arrive together are committed together (group commit, batch.go): each in its
// own savepoint, all in one transaction, so the WAL is written and synced once per batch rather
// than once per sign-in. The call returns after its batch has committed. Writes are serialized
// on the one writer connection, so of racing calls with one challenge exactly one succeeds.
func (s *Store) CompletePasskeySignIn(ctx context.Context, c *latchkey.PasskeySignIn) error {
	if c.Session == nil || c.Event == nil {
		return fmt.Errorf("%s: a session and an event are required", completeVerb)
	}
	e := c.Event
	if e.ID == "" {
		e.ID = latchkey.NewID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = sqlstore.Now()
	}
	return s.signIns.do(ctx, c)
}

const completeVerb = "complete passkey sign-in"

// completePasskeySignIn runs one sign-in's statements in tx, the two that may refuse first.
func completePasskeySignIn(ctx context.Context, tx *txn, c *latchkey.PasskeySignIn) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO used_challenges (id, expires_at) VALUES (?, ?)
			ON CONFLICT (id) DO NOTHING`, c.ChallengeID, micros(c.ChallengeExpiresAt))
	if err := affected(completeVerb, res, err); err != nil {
		if errors.Is(err, latchkey.ErrNotFound) {
			return latchkey.ErrChallengeUsed
		}
		return err
	}
	if err := recordPasskeyUse(ctx, tx, completeVerb, c.PasskeyID, c.SignCount, c.UsedAt, c.Platform); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertSession, sessionArgs(c.Session)...); err != nil {
		return wrap(completeVerb, err)
	}
	_, err = tx.ExecContext(ctx, insertSignIn, signInArgs(c.Event)...)
	return wrap(completeVerb, err)
}

// FlagPasskeyPossibleClone marks a passkey whose counter went backwards and ends the sessions
// made with it, in one transaction; latchkey.ErrNotFound when there is no such passkey.
func (s *Store) FlagPasskeyPossibleClone(ctx context.Context, id string) error {
	return s.write(ctx, "flag passkey", func(tx *txn) error {
		var userID string
		err := tx.QueryRowContext(ctx, `UPDATE passkeys SET possible_clone = 1 WHERE id = ? RETURNING user_id`, id).Scan(&userID)
		if err != nil {
			return wrap("flag passkey", err)
		}
		_, err = tx.ExecContext(ctx, endSessionsOfPasskey, userID, id)
		return wrap("flag passkey", err)
	})
}
