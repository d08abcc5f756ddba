package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, created_at`

func scanClient(row scanner) (*latchkey.Client, error) {
	var c latchkey.Client
	var redirects, logouts string
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &redirects, &logouts, &created); err != nil {
		return nil, err
	}
	var err error
	if c.RedirectURIs, err = sqlstore.FromJSONList(redirects); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = sqlstore.FromJSONList(logouts); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// CreateClient stores c; latchkey.ErrConflict when the client id is taken.
func (s *Store) CreateClient(ctx context.Context, c *latchkey.Client) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.SecretHash, c.Public, sqlstore.JSONList(c.RedirectURIs), sqlstore.JSONList(c.PostLogoutRedirectURIs), micros(c.CreatedAt))
	return wrap("create client", err)
}

// FindClient returns the client; latchkey.ErrNotFound when there is none.
func (s *Store) FindClient(ctx context.Context, id string) (*latchkey.Client, error) {
	c, err := scanClient(s.r.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
	return c, wrap("find client", err)
}

// ListClients returns every client, ordered by name (byte-wise), then by id.
func (s *Store) ListClients(ctx context.Context) ([]*latchkey.Client, error) {
	return list(ctx, s.r, "list clients", scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY name, id`)
}

// DeleteClient removes the client and, through their foreign keys, its authorization requests
// and refresh tokens; latchkey.ErrNotFound when there is no such client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
	return affected("delete client", res, err)
}

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, acr_values, prompt, max_age_seconds, login_hint, user_id, auth_time,
	amr, acr, done, code_hash, created_at, expires_at, browser_hash, session_id`

func scanAuthRequest(row scanner) (*latchkey.AuthRequest, error) {
	var r latchkey.AuthRequest
	var scopes, acrValues, prompt, amr string
	var maxAge, authTime sql.NullInt64
	var code sql.NullString
	var created, expires int64
	if err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &scopes, &r.State, &r.Nonce, &r.ResponseType,
		&r.ResponseMode, &r.CodeChallenge, &r.CodeChallengeMethod, &acrValues, &prompt, &maxAge, &r.LoginHint,
		&r.UserID, &authTime, &amr, &r.ACR, &r.Done, &code, &created, &expires, &r.BrowserHash, &r.SessionID); err != nil {
		return nil, err
	}
	var err error
	for _, l := range []struct {
		dst *[]string
		src string
	}{{&r.Scopes, scopes}, {&r.ACRValues, acrValues}, {&r.Prompt, prompt}, {&r.AMR, amr}} {
		if *l.dst, err = sqlstore.FromJSONList(l.src); err != nil {
			return nil, err
		}
	}
	if maxAge.Valid {
		v := int(maxAge.Int64)
		r.MaxAgeSeconds = &v
	}
	if authTime.Valid {
		r.AuthTime = fromMicros(authTime.Int64)
	}
	r.CodeHash = code.String
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &r, nil
}

// optMicros stores a zero time as NULL, any other as microseconds.
func optMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// CreateAuthRequest stores r; latchkey.ErrConflict when its ID is taken, latchkey.ErrNotFound
// when its client does not exist.
func (s *Store) CreateAuthRequest(ctx context.Context, r *latchkey.AuthRequest) error {
	var maxAge sql.NullInt64
	if r.MaxAgeSeconds != nil {
		maxAge = sql.NullInt64{Int64: int64(*r.MaxAgeSeconds), Valid: true}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO auth_requests (`+authRequestColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ClientID, r.RedirectURI, sqlstore.JSONList(r.Scopes), r.State, r.Nonce, r.ResponseType, r.ResponseMode,
		r.CodeChallenge, r.CodeChallengeMethod, sqlstore.JSONList(r.ACRValues), sqlstore.JSONList(r.Prompt), maxAge, r.LoginHint,
		r.UserID, optMicros(r.AuthTime), sqlstore.JSONList(r.AMR), r.ACR, r.Done, sqlstore.OptString(r.CodeHash),
		micros(r.CreatedAt), micros(r.ExpiresAt), r.BrowserHash, r.SessionID)
	return wrap("create auth request", err)
}

// FindAuthRequest returns the request if it has not expired at now; latchkey.ErrNotFound otherwise.
func (s *Store) FindAuthRequest(ctx context.Context, id string, now time.Time) (*latchkey.AuthRequest, error) {
	r, err := scanAuthRequest(s.r.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM auth_requests
		WHERE id = ? AND expires_at > ?`, id, micros(now)))
	return r, wrap("find auth request", err)
}

// CompleteAuthRequest records who signed in (in session sessionID) and how, and marks the
// request done; latchkey.ErrNotFound for an unknown request.
func (s *Store) CompleteAuthRequest(ctx context.Context, id, sessionID, userID string, authTime time.Time, amr []string, acr string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE auth_requests SET session_id = ?, user_id = ?, auth_time = ?, amr = ?, acr = ?, done = 1
		WHERE id = ?`, sessionID, userID, optMicros(authTime), sqlstore.JSONList(amr), acr, id)
	return affected("complete auth request", res, err)
}

// SaveAuthCode records the hash of the code issued for the request. Only a request without a
// code changes, so a request gets one code: latchkey.ErrConflict when it has one already (or
// when another request has this one), latchkey.ErrNotFound when there is no such request.
func (s *Store) SaveAuthCode(ctx context.Context, id, codeHash string) error {
	return s.write(ctx, "save auth code", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_requests SET code_hash = ? WHERE id = ? AND code_hash IS NULL`,
			sqlstore.OptString(codeHash), id)
		if err := affected("save auth code", res, err); !errors.Is(err, latchkey.ErrNotFound) {
			return err
		}
		return conflictIfExists(ctx, tx, "auth_requests", id)
	})
}

// FindAuthRequestByCode returns the unexpired request the code was issued for, leaving it in
// place; latchkey.ErrNotFound otherwise.
func (s *Store) FindAuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (*latchkey.AuthRequest, error) {
	r, err := scanAuthRequest(s.r.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM auth_requests
		WHERE code_hash = ? AND expires_at > ?`, codeHash, micros(now)))
	return r, wrap("find auth request by code", err)
}

// RedeemAuthCode deletes and returns the unexpired request the code was issued for, records the
// code as spent on grantID until the request's expiry and stores refresh (when not nil), in one
// transaction: of many racing callers exactly one gets the request and the others get
// latchkey.ErrNotFound. When refresh cannot be stored the request stays. An expired request
// stays until DeleteExpiredOIDC.
func (s *Store) RedeemAuthCode(ctx context.Context, codeHash, grantID string, refresh *latchkey.RefreshToken, now time.Time) (*latchkey.AuthRequest, error) {
	const verb = "redeem auth code"
	var r *latchkey.AuthRequest
	err := s.write(ctx, verb, func(tx *txn) error {
		var err error
		r, err = scanAuthRequest(tx.QueryRowContext(ctx, `DELETE FROM auth_requests
			WHERE code_hash = ? AND expires_at > ? RETURNING `+authRequestColumns, codeHash, micros(now)))
		if err != nil {
			return wrap(verb, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO spent_secrets (hash, grant_id, expires_at) VALUES (?, ?, ?)`,
			codeHash, grantID, micros(r.ExpiresAt)); err != nil {
			return wrap(verb, err)
		}
		if refresh != nil {
			_, err = tx.ExecContext(ctx, insertRefreshToken, refreshTokenArgs(refresh)...)
		}
		return wrap(verb, err)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteAuthRequest removes the request, if it exists.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM auth_requests WHERE id = ?`, id)
	return wrap("delete auth request", err)
}

const refreshTokenColumns = `id, grant_id, client_id, user_id, scopes, amr, acr, auth_time, created_at, expires_at`

func scanRefreshToken(row scanner) (*latchkey.RefreshToken, error) {
	var t latchkey.RefreshToken
	var scopes, amr string
	var authTime, created, expires int64
	if err := row.Scan(&t.ID, &t.GrantID, &t.ClientID, &t.UserID, &scopes, &amr, &t.ACR, &authTime, &created, &expires); err != nil {
		return nil, err
	}
	var err error
	if t.Scopes, err = sqlstore.FromJSONList(scopes); err != nil {
		return nil, err
	}
	if t.AMR, err = sqlstore.FromJSONList(amr); err != nil {
		return nil, err
	}
	t.AuthTime, t.CreatedAt, t.ExpiresAt = fromMicros(authTime), fromMicros(created), fromMicros(expires)
	return &t, nil
}

// insertRefreshToken stores one token, with the arguments of refreshTokenArgs.
const insertRefreshToken = `INSERT INTO refresh_tokens (` + refreshTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func refreshTokenArgs(t *latchkey.RefreshToken) []any {
	return []any{t.ID, t.GrantID, t.ClientID, t.UserID, sqlstore.JSONList(t.Scopes), sqlstore.JSONList(t.AMR), t.ACR, micros(t.AuthTime),
		micros(t.CreatedAt), micros(t.ExpiresAt)}
}

// RotateRefreshToken deletes the unexpired token oldID, records it as spent on its grant until
// its expiry and stores next, in one transaction, and returns the token it deleted. Of many
// racing callers exactly one finds the old token; the others get latchkey.ErrNotFound and store
// nothing. When next cannot be stored (its ID is taken: ErrConflict) the old token stays. The
// writer's transactions run one at a time, so a RevokeSpentGrant racing it either deletes next
// or leaves no old token to rotate.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, next *latchkey.RefreshToken, now time.Time) (*latchkey.RefreshToken, error) {
	var old *latchkey.RefreshToken
	err := s.write(ctx, "rotate refresh token", func(tx *txn) error {
		var err error
		old, err = scanRefreshToken(tx.QueryRowContext(ctx, `DELETE FROM refresh_tokens WHERE id = ? AND expires_at > ?
			RETURNING `+refreshTokenColumns, oldID, micros(now)))
		if err != nil {
			return wrap("rotate refresh token", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO spent_secrets (hash, grant_id, expires_at) VALUES (?, ?, ?)`,
			old.ID, old.GrantID, micros(old.ExpiresAt)); err != nil {
			return wrap("rotate refresh token", err)
		}
		_, err = tx.ExecContext(ctx, insertRefreshToken, refreshTokenArgs(next)...)
		return wrap("rotate refresh token", err)
	})
	if err != nil {
		return nil, err
	}
	return old, nil
}

// FindRefreshToken returns the token if it has not expired at now; latchkey.ErrNotFound otherwise.
func (s *Store) FindRefreshToken(ctx context.Context, id string, now time.Time) (*latchkey.RefreshToken, error) {
	t, err := scanRefreshToken(s.r.QueryRowContext(ctx, `SELECT `+refreshTokenColumns+` FROM refresh_tokens
		WHERE id = ? AND expires_at > ?`, id, micros(now)))
	return t, wrap("find refresh token", err)
}

// DeleteRefreshTokens removes the user's tokens for clientID, or for every client when clientID
// is empty, and returns how many.
func (s *Store) DeleteRefreshTokens(ctx context.Context, userID, clientID string) (int, error) {
	if clientID == "" {
		res, err := s.w.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ?`, userID)
		return rowsAffected("delete refresh tokens", res, err)
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND client_id = ?`, userID, clientID)
	return rowsAffected("delete refresh tokens", res, err)
}

// RevokeSpentGrant records the grant the unexpired spent code or token hash was spent on as
// revoked until until (keeping a later time already recorded) and deletes the grant's refresh
// tokens, in one transaction, and returns the grant's id; latchkey.ErrNotFound when hash is not
// spent.
func (s *Store) RevokeSpentGrant(ctx context.Context, hash string, now, until time.Time) (string, error) {
	const verb = "revoke spent grant"
	var grantID string
	err := s.write(ctx, verb, func(tx *txn) error {
		if err := tx.QueryRowContext(ctx, `SELECT grant_id FROM spent_secrets WHERE hash = ? AND expires_at > ?`,
			hash, micros(now)).Scan(&grantID); err != nil {
			return wrap(verb, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_grants (grant_id, expires_at) VALUES (?, ?)
			ON CONFLICT (grant_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
			grantID, micros(until)); err != nil {
			return wrap(verb, err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE grant_id = ?`, grantID)
		return wrap(verb, err)
	})
	if err != nil {
		return "", err
	}
	return grantID, nil
}

// GrantRevoked reports whether the grant is recorded as revoked at now.
func (s *Store) GrantRevoked(ctx context.Context, grantID string, now time.Time) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM revoked_grants WHERE grant_id = ? AND expires_at > ?`,
		grantID, micros(now)).Scan(&n)
	if err != nil {
		return false, wrap("grant revoked", err)
	}
	return n > 0, nil
}

const signingKeyColumns = `id, algorithm, private_key, created_at, retired_at`

func scanSigningKey(row scanner) (*latchkey.SigningKey, error) {
	var k latchkey.SigningKey
	var created int64
	var retired sql.NullInt64
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &created, &retired); err != nil {
		return nil, err
	}
	k.PrivateKey = sqlstore.NonNil(k.PrivateKey)
	k.CreatedAt, k.RetiredAt = fromMicros(created), fromNullMicros(retired)
	return &k, nil
}

// CreateSigningKey stores k; latchkey.ErrConflict when its ID is taken.
func (s *Store) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, sqlstore.NonNil(k.PrivateKey), micros(k.CreatedAt), nullMicros(k.RetiredAt))
	return wrap("create signing key", err)
}

// ListSigningKeys returns every key, newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	return list(ctx, s.r, "list signing keys", scanSigningKey,
		`SELECT `+signingKeyColumns+` FROM signing_keys ORDER BY created_at DESC, id DESC`)
}

// RetireSigningKey sets the retirement time of a key that has none; latchkey.ErrNotFound when
// there is no such key or it is retired already.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ? WHERE id = ? AND retired_at IS NULL`, micros(at), id)
	return affected("retire signing key", res, err)
}

// DeleteExpiredOIDC removes the authorization requests, refresh tokens, spent codes and tokens
// and revoked-grant records that expired at or before now, those the other methods no longer
// see, in one transaction, and returns how many.
func (s *Store) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	return s.deleteExpired(ctx, "delete expired oidc", now, "auth_requests", "refresh_tokens", "spent_secrets", "revoked_grants")
}
