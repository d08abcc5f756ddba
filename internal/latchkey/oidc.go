package latchkey

import (
	"context"
	"time"
)

// Client is an application that signs people in through Latchkey over OpenID Connect.
type Client struct {
	ID   string `json:"clientId"`
	Name string `json:"name"`
	// SecretHash is the hash of a confidential client's secret (shown once, at creation); empty
	// for a public client, which must use PKCE.
	SecretHash             string    `json:"-"`
	Public                 bool      `json:"public"`
	RedirectURIs           []string  `json:"redirectUris"`
	PostLogoutRedirectURIs []string  `json:"postLogoutRedirectUris"`
	CreatedAt              time.Time `json:"createdDateTime"`
}

// AuthRequest is an authorization request in progress: created when an application sends a
// person to /authorize, completed when they have signed in, exchanged once for tokens.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	ACRValues           []string
	Prompt              []string
	MaxAgeSeconds       *int
	LoginHint           string
	// Set when the person has signed in.
	UserID   string
	AuthTime time.Time
	AMR      []string
	ACR      string
	Done     bool
	// CodeHash is the hash of the authorization code issued for it, once issued.
	CodeHash  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// BrowserHash is the hash of the binding cookie of the browser that started the request:
	// only that browser may sign in for it.
	BrowserHash string
	// SessionID is the session that completed the request: its code goes only to a browser that
	// holds that session and the binding cookie.
	SessionID string
}

// RefreshToken is a refresh token's record; its ID is a hash of the token, which only the
// client holds.
type RefreshToken struct {
	ID string
	// GrantID names the grant the token belongs to: every refresh token descended from one code
	// exchange shares it, and access tokens carry it, so that the whole grant can be revoked.
	GrantID   string
	ClientID  string
	UserID    string
	Scopes    []string
	AMR       []string
	ACR       string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SigningKey is a key that signs ID tokens; all nodes share them through the store. The
// private key is PKCS#8 DER.
type SigningKey struct {
	ID         string
	Algorithm  string // "RS256" or "ES256"
	PrivateKey []byte
	CreatedAt  time.Time
	// RetiredAt, when set, is when the key stopped signing; it stays published in the JWKS
	// until tokens it signed have expired.
	RetiredAt *time.Time
}

// OIDCStore persists what the OpenID Connect provider needs, so that any node can serve any step.
type OIDCStore interface {
	// CreateClient stores c; ErrConflict when the client id is taken.
	CreateClient(ctx context.Context, c *Client) error
	// FindClient returns the client; ErrNotFound when there is none.
	FindClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns clients ordered by name.
	ListClients(ctx context.Context) ([]*Client, error)
	// DeleteClient removes the client with its authorization requests and refresh tokens;
	// ErrNotFound when there is no such client.
	DeleteClient(ctx context.Context, id string) error

	// CreateAuthRequest stores r; ErrConflict when its ID is taken, ErrNotFound when its client
	// does not exist.
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// FindAuthRequest returns an unexpired request; ErrNotFound otherwise.
	FindAuthRequest(ctx context.Context, id string, now time.Time) (*AuthRequest, error)
	// CompleteAuthRequest records who signed in (in session sessionID) and how; ErrNotFound for
	// an unknown request.
	CompleteAuthRequest(ctx context.Context, id, sessionID, userID string, authTime time.Time, amr []string, acr string) error
	// SaveAuthCode records the hash of the code issued for a completed request; ErrConflict
	// when a code was already issued for it.
	SaveAuthCode(ctx context.Context, id, codeHash string) error
	// FindAuthRequestByCode returns the unexpired request a code was issued for, without using
	// the code up; ErrNotFound otherwise.
	FindAuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (*AuthRequest, error)
	// RedeemAuthCode uses a code up, in one step: it deletes and returns the unexpired request the
	// code was issued for, records the code as spent on grant grantID until the request would
	// have expired, and stores refresh (when not nil) as the grant's first refresh token. A code
	// works once: of many racing callers exactly one gets it, the others ErrNotFound. When refresh
	// cannot be stored nothing changes.
	RedeemAuthCode(ctx context.Context, codeHash, grantID string, refresh *RefreshToken, now time.Time) (*AuthRequest, error)
	// DeleteAuthRequest removes the request, if it exists.
	DeleteAuthRequest(ctx context.Context, id string) error

	// RotateRefreshToken replaces the token with id oldID by next in one step, keeping nothing
	// of the old one but a record that oldID is spent on its grant (until it would have
	// expired): of many racing callers exactly one succeeds, the others get ErrNotFound.
	RotateRefreshToken(ctx context.Context, oldID string, next *RefreshToken, now time.Time) (*RefreshToken, error)
	// RevokeSpentGrant answers the reuse of a spent code or refresh token (hash): in one step it
	// records the grant it was spent on as revoked until until, and deletes every refresh token
	// of that grant, so that a rotation racing it leaves none behind. It returns the grant's id;
	// ErrNotFound when hash is not an unexpired spent code or token. Calling it again is harmless.
	RevokeSpentGrant(ctx context.Context, hash string, now, until time.Time) (string, error)
	// GrantRevoked reports whether the grant is recorded as revoked at now.
	GrantRevoked(ctx context.Context, grantID string, now time.Time) (bool, error)
	// FindRefreshToken returns an unexpired token; ErrNotFound otherwise.
	FindRefreshToken(ctx context.Context, id string, now time.Time) (*RefreshToken, error)
	// DeleteRefreshTokens removes the user's tokens for a client (all clients when clientID is "").
	DeleteRefreshTokens(ctx context.Context, userID, clientID string) (int, error)

	// CreateSigningKey stores a new key.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns all keys, newest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// RetireSigningKey sets RetiredAt of a key that has none; ErrNotFound otherwise.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteExpiredOIDC removes expired auth requests, refresh tokens, spent codes and tokens,
	// and revoked-grant records, and returns how many.
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error)
}

// LogoutRequest is an application's request to sign a person out (OpenID Connect RP-Initiated
// Logout 1.0), as the provider checked it.
type LogoutRequest struct {
	// UserID is the subject of a valid id_token_hint (one Latchkey signed; it may have
	// expired); "" when the request had none.
	UserID string
	// ClientID is the application (the hint's azp, or client_id); "" when unknown. ClientName is
	// its name.
	ClientID, ClientName string
	// RedirectURI is where the browser goes afterwards: the application's registered
	// post_logout_redirect_uri with state added; "" when it gave none, or none Latchkey could
	// check against a registration, and then the person stays at Latchkey.
	RedirectURI string
	// PostLogoutRedirectURI and State are the parameters as sent, for a confirmation form to
	// send again.
	PostLogoutRedirectURI, State string
}

// EndsSessionWithoutAsking reports whether the request may end sess, the session of the browser
// it came in, without asking the person: only when a valid id_token_hint names sess's person.
// Anyone can send a browser to the logout endpoint, so without that proof the person is asked.
func (l *LogoutRequest) EndsSessionWithoutAsking(sess *Session) bool {
	return sess != nil && l.UserID != "" && l.UserID == sess.UserID
}
