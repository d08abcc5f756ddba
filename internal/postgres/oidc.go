package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, created_at`

func scanClient(row pgx.Row) (*latchkey.Client, error) {
	c := &latchkey.Client{}
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs,
		&c.CreatedAt); err != nil {
		return nil, err
	}
	c.RedirectURIs, c.PostLogoutRedirectURIs = sqlstore.NonNil(c.RedirectURIs), sqlstore.NonNil(c.PostLogoutRedirectURIs)
	return c, nil
}

// CreateClient stores c; ErrConflict when the client id is taken.
func (s *Store) CreateClient(ctx context.Context, c *latchkey.Client) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.Name, c.SecretHash, c.Public, sqlstore.NonNil(c.RedirectURIs), sqlstore.NonNil(c.PostLogoutRedirectURIs), dbTime(c.CreatedAt))
	return storeError(err, "create client")
}

// FindClient returns the client; ErrNotFound when there is none.
func (s *Store) FindClient(ctx context.Context, id string) (*latchkey.Client, error) {
	if !latchkey.CanNameSomething(id) {
		return nil, latchkey.ErrNotFound
	}
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return nil, storeError(err, "find client")
	}
	return c, nil
}

// ListClients returns every client, ordered by name (byte-wise), then by id.
func (s *Store) ListClients(ctx context.Context) ([]*latchkey.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY name, id`)
	if err != nil {
		return nil, storeError(err, "list clients")
	}
	clients, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Client, error) { return scanClient(row) })
	if err != nil {
		return nil, storeError(err, "list clients")
	}
	return sqlstore.NonNil(clients), nil
}

// DeleteClient removes the client and, through their foreign keys, its authorization requests
// and refresh tokens; ErrNotFound when there is no such client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !latchkey.CanNameSomething(id) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return storeError(err, "delete client")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, acr_values, prompt, max_age_seconds, login_hint, user_id, auth_time,
	amr, acr, done, code_hash, created_at, expires_at, browser_hash, session_id`

func scanAuthRequest(row pgx.Row) (*latchkey.AuthRequest, error) {
	r := &latchkey.AuthRequest{}
	var authTime *time.Time
	var code *string
	if err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &r.Scopes, &r.State, &r.Nonce, &r.ResponseType,
		&r.ResponseMode, &r.CodeChallenge, &r.CodeChallengeMethod, &r.ACRValues, &r.Prompt, &r.MaxAgeSeconds,
		&r.LoginHint, &r.UserID, &authTime, &r.AMR, &r.ACR, &r.Done, &code, &r.CreatedAt, &r.ExpiresAt,
		&r.BrowserHash, &r.SessionID); err != nil {
		return nil, err
	}
	r.Scopes, r.ACRValues, r.Prompt, r.AMR = sqlstore.NonNil(r.Scopes), sqlstore.NonNil(r.ACRValues), sqlstore.NonNil(r.Prompt), sqlstore.NonNil(r.AMR)
	if authTime != nil {
		r.AuthTime = *authTime
	}
	if code != nil {
		r.CodeHash = *code
	}
	return r, nil
}

// optTime stores a zero time as NULL.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := dbTime(t)
	return &v
}

// CreateAuthRequest stores r; ErrConflict when its ID is taken, ErrNotFound when its client does
// not exist.
func (s *Store) CreateAuthRequest(ctx context.Context, r *latchkey.AuthRequest) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO auth_requests (`+authRequestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
		r.ID, r.ClientID, r.RedirectURI, sqlstore.NonNil(r.Scopes), r.State, r.Nonce, r.ResponseType, r.ResponseMode,
		r.CodeChallenge, r.CodeChallengeMethod, sqlstore.NonNil(r.ACRValues), sqlstore.NonNil(r.Prompt), r.MaxAgeSeconds, r.LoginHint,
		r.UserID, optTime(r.AuthTime), sqlstore.NonNil(r.AMR), r.ACR, r.Done, sqlstore.OptString(r.CodeHash),
		dbTime(r.CreatedAt), dbTime(r.ExpiresAt), r.BrowserHash, r.SessionID)
	return storeError(err, "create auth request")
}

// FindAuthRequest returns the request if it has not expired at now; ErrNotFound otherwise.
func (s *Store) FindAuthRequest(ctx context.Context, id string, now time.Time) (*latchkey.AuthRequest, error) {
	r, err := scanAuthRequest(s.pool.QueryRow(ctx, `SELECT `+authRequestColumns+` FROM auth_requests
		WHERE id = $1 AND expires_at > $2`, id, dbTime(now)))
	if err != nil {
		return nil, storeError(err, "find auth request")
	}
	return r, nil
}

// CompleteAuthRequest records who signed in (in session sessionID) and how, and marks the
// request done; ErrNotFound for an unknown request.
func (s *Store) CompleteAuthRequest(ctx context.Context, id, sessionID, userID string, authTime time.Time, amr []string, acr string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE auth_requests SET session_id = $6, user_id = $2, auth_time = $3, amr = $4, acr = $5, done = true
		WHERE id = $1`, id, userID, optTime(authTime), sqlstore.NonNil(amr), acr, sessionID)
	if err != nil {
		return storeError(err, "complete auth request")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// SaveAuthCode records the hash of the code issued for the request. Only a request without a
// code changes, so a request gets one code: ErrConflict when it has one already (or when another
// request has this one), ErrNotFound when there is no such request.
func (s *Store) SaveAuthCode(ctx context.Context, id, codeHash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE auth_requests SET code_hash = $2 WHERE id = $1 AND code_hash IS NULL`,
		id, sqlstore.OptString(codeHash))
	if err != nil {
		return storeError(err, "save auth code")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	ok, err := s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM auth_requests WHERE id = $1)`, id)
	if err != nil {
		return storeError(err, "save auth code")
	}
	if !ok {
		return latchkey.ErrNotFound
	}
	return latchkey.ErrConflict
}

// FindAuthRequestByCode returns the unexpired request the code was issued for, leaving it in
// place; ErrNotFound otherwise.
func (s *Store) FindAuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (*latchkey.AuthRequest, error) {
	r, err := scanAuthRequest(s.pool.QueryRow(ctx, `SELECT `+authRequestColumns+` FROM auth_requests
		WHERE code_hash = $1 AND expires_at > $2`, codeHash, dbTime(now)))
	if err != nil {
		return nil, storeError(err, "find auth request by code")
	}
	return r, nil
}

// RedeemAuthCode deletes and returns the unexpired request the code was issued for, records the
// code as spent on grantID until the request's expiry and stores refresh (when not nil), in one
// transaction. The delete locks the request's row, so of many racing callers exactly one
// deletes it; the others, once it commits, find no row and get ErrNotFound. When refresh cannot
// be stored the request stays. An expired request stays until DeleteExpiredOIDC.
func (s *Store) RedeemAuthCode(ctx context.Context, codeHash, grantID string, refresh *latchkey.RefreshToken, now time.Time) (*latchkey.AuthRequest, error) {
	const doing = "redeem auth code"
	var r *latchkey.AuthRequest
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		r, err = scanAuthRequest(tx.QueryRow(ctx, `DELETE FROM auth_requests
			WHERE code_hash = $1 AND expires_at > $2 RETURNING `+authRequestColumns, codeHash, dbTime(now)))
		if err != nil {
			return storeError(err, doing)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO spent_secrets (hash, grant_id, expires_at) VALUES ($1, $2, $3)`,
			codeHash, grantID, dbTime(r.ExpiresAt)); err != nil {
			return storeError(err, doing)
		}
		if refresh != nil {
			_, err = tx.Exec(ctx, insertRefreshToken, refreshTokenArgs(refresh)...)
		}
		return storeError(err, doing)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteAuthRequest removes the request, if it exists.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM auth_requests WHERE id = $1`, id)
	return storeError(err, "delete auth request")
}

const refreshTokenColumns = `id, grant_id, client_id, user_id, scopes, amr, acr, auth_time, created_at, expires_at`

func scanRefreshToken(row pgx.Row) (*latchkey.RefreshToken, error) {
	t := &latchkey.RefreshToken{}
	if err := row.Scan(&t.ID, &t.GrantID, &t.ClientID, &t.UserID, &t.Scopes, &t.AMR, &t.ACR, &t.AuthTime, &t.CreatedAt,
		&t.ExpiresAt); err != nil {
		return nil, err
	}
	t.Scopes, t.AMR = sqlstore.NonNil(t.Scopes), sqlstore.NonNil(t.AMR)
	return t, nil
}

// insertRefreshToken stores one token, with the arguments of refreshTokenArgs.
const insertRefreshToken = `INSERT INTO refresh_tokens (` + refreshTokenColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func refreshTokenArgs(t *latchkey.RefreshToken) []any {
	return []any{t.ID, t.GrantID, t.ClientID, t.UserID, sqlstore.NonNil(t.Scopes), sqlstore.NonNil(t.AMR), t.ACR, dbTime(t.AuthTime),
		dbTime(t.CreatedAt), dbTime(t.ExpiresAt)}
}

// RotateRefreshToken deletes the unexpired token oldID, records it as spent on its grant until
// its expiry and stores next, in one transaction, and returns the token it deleted. The delete
// locks the old row, so of many racing callers exactly one deletes it; the others, once it
// commits, find no row and get ErrNotFound, storing nothing. When next cannot be stored (its ID
// is taken: ErrConflict) the old token stays. It holds its grant's lock (grantLock) from before
// the delete, so a RevokeSpentGrant racing it either deletes next or leaves no old token.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, next *latchkey.RefreshToken, now time.Time) (*latchkey.RefreshToken, error) {
	const doing = "rotate refresh token"
	var old *latchkey.RefreshToken
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var grantID string
		if err := tx.QueryRow(ctx, `SELECT grant_id FROM refresh_tokens WHERE id = $1`, oldID).Scan(&grantID); err != nil {
			return storeError(err, doing)
		}
		if err := grantLock(ctx, tx, grantID); err != nil {
			return storeError(err, doing)
		}
		var err error
		old, err = scanRefreshToken(tx.QueryRow(ctx, `DELETE FROM refresh_tokens WHERE id = $1 AND expires_at > $2
			RETURNING `+refreshTokenColumns, oldID, dbTime(now)))
		if err != nil {
			return storeError(err, doing)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO spent_secrets (hash, grant_id, expires_at) VALUES ($1, $2, $3)`,
			old.ID, old.GrantID, dbTime(old.ExpiresAt)); err != nil {
			return storeError(err, doing)
		}
		_, err = tx.Exec(ctx, insertRefreshToken, refreshTokenArgs(next)...)
		return storeError(err, doing)
	})
	if err != nil {
		return nil, err
	}
	return old, nil
}

// grantLock takes, until the end of tx, the advisory lock of one grant, which rotations and
// revocations of that grant hold: under READ COMMITTED a revocation's delete would otherwise
// miss a token that a racing rotation inserts after the delete began.
func grantLock(ctx context.Context, tx pgx.Tx, grantID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('latchkey grant ' || $1, 0))`, grantID)
	return err
}

// RevokeSpentGrant records the grant the unexpired spent code or token hash was spent on as
// revoked until until (keeping a later time already recorded) and deletes the grant's refresh
// tokens, in one transaction holding the grant's lock, and returns the grant's id; ErrNotFound
// when hash is not spent.
func (s *Store) RevokeSpentGrant(ctx context.Context, hash string, now, until time.Time) (string, error) {
	const doing = "revoke spent grant"
	var grantID string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT grant_id FROM spent_secrets WHERE hash = $1 AND expires_at > $2`,
			hash, dbTime(now)).Scan(&grantID); err != nil {
			return storeError(err, doing)
		}
		if err := grantLock(ctx, tx, grantID); err != nil {
			return storeError(err, doing)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO revoked_grants (grant_id, expires_at) VALUES ($1, $2)
			ON CONFLICT (grant_id) DO UPDATE SET expires_at = greatest(revoked_grants.expires_at, excluded.expires_at)`,
			grantID, dbTime(until)); err != nil {
			return storeError(err, doing)
		}
		_, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE grant_id = $1`, grantID)
		return storeError(err, doing)
	})
	if err != nil {
		return "", err
	}
	return grantID, nil
}

// GrantRevoked reports whether the grant is recorded as revoked at now.
func (s *Store) GrantRevoked(ctx context.Context, grantID string, now time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_grants WHERE grant_id = $1 AND expires_at > $2)`,
		grantID, dbTime(now)).Scan(&ok)
	if err != nil {
		return false, storeError(err, "grant revoked")
	}
	return ok, nil
}

// FindRefreshToken returns the token if it has not expired at now; ErrNotFound otherwise.
func (s *Store) FindRefreshToken(ctx context.Context, id string, now time.Time) (*latchkey.RefreshToken, error) {
	t, err := scanRefreshToken(s.pool.QueryRow(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens
		WHERE id = $1 AND expires_at > $2`, id, dbTime(now)))
	if err != nil {
		return nil, storeError(err, "find refresh token")
	}
	return t, nil
}

// DeleteRefreshTokens removes the user's tokens for clientID, or for every client when clientID
// is empty, and returns how many.
func (s *Store) DeleteRefreshTokens(ctx context.Context, userID, clientID string) (int, error) {
	query, args := `DELETE FROM refresh_tokens WHERE user_id = $1`, []any{userID}
	if clientID != "" {
		query, args = query+` AND client_id = $2`, append(args, clientID)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, storeError(err, "delete refresh tokens")
	}
	return int(tag.RowsAffected()), nil
}

const signingKeyColumns = `id, algorithm, private_key, created_at, retired_at`

func scanSigningKey(row pgx.Row) (*latchkey.SigningKey, error) {
	k := &latchkey.SigningKey{}
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.CreatedAt, &k.RetiredAt); err != nil {
		return nil, err
	}
	k.PrivateKey = sqlstore.NonNil(k.PrivateKey)
	return k, nil
}

// CreateSigningKey stores k; ErrConflict when its ID is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.Algorithm, sqlstore.NonNil(k.PrivateKey), dbTime(k.CreatedAt), dbTimePtr(k.RetiredAt))
	return storeError(err, "create signing key")
}

// ListSigningKeys returns every key, newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, storeError(err, "list signing keys")
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.SigningKey, error) { return scanSigningKey(row) })
	if err != nil {
		return nil, storeError(err, "list signing keys")
	}
	return sqlstore.NonNil(keys), nil
}

// RetireSigningKey sets the retirement time of a key that has none; ErrNotFound when there is no
// such key or it is retired already.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE signing_keys SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL`, id, dbTime(at))
	if err != nil {
		return storeError(err, "retire signing key")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// DeleteExpiredOIDC removes the authorization requests, refresh tokens, spent codes and tokens
// and revoked-grant records that expired at or before now, those the other methods no longer
// see, in one statement, and returns how many.
func (s *Store) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `WITH requests AS (
			DELETE FROM auth_requests WHERE expires_at <= $1 RETURNING 1
		), tokens AS (
			DELETE FROM refresh_tokens WHERE expires_at <= $1 RETURNING 1
		), spent AS (
			DELETE FROM spent_secrets WHERE expires_at <= $1 RETURNING 1
		), revoked AS (
			DELETE FROM revoked_grants WHERE expires_at <= $1 RETURNING 1
		)
		SELECT (SELECT count(*) FROM requests) + (SELECT count(*) FROM tokens) + (SELECT count(*) FROM spent) +
			(SELECT count(*) FROM revoked)`, dbTime(now)).Scan(&n)
	if err != nil {
		return 0, storeError(err, "delete expired oidc")
	}
	return n, nil
}
