// Package signin is where Latchkey decides who someone is: temporary access passes, passkey
// registration and sign-in ceremonies, password and TOTP, throttling and sessions. It speaks domain types and the
// store interfaces; the HTTP packages turn its results and refusals into pages and JSON.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/device"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey/internal/formtoken"
	"github.com/latchkey/latchkey/internal/health"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/policydoc"
)

// Default lifetimes.
const (
	// SessionLifetime is how long a passkey sign-in lasts.
	SessionLifetime = 8 * time.Hour
	// OneTimeTAPSessionLifetime caps a session made with a one-time pass (DESIGN §5).
	OneTimeTAPSessionLifetime = 10 * time.Minute
	// RecentSignIn is how fresh a passkey sign-in must be to register another passkey.
	RecentSignIn = 5 * time.Minute
)

// Service runs sign-in and registration against a store.
type Service struct {
	Store    latchkey.Store
	WebAuthn *webauthn.WebAuthn
	Logger   *slog.Logger
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// OnHash, when set, is called as each argon2id hash of this service starts, with how many
	// run in the process at that moment (at most passhash.MaxConcurrent); tests count hashes with it.
	OnHash func(running int)
	// Metrics, when set, counts sign-ins, passes and ceremonies for Prometheus.
	Metrics *metrics.Metrics

	keyMu sync.Mutex
	key   []byte // authenticates sign-in challenges; see challenge.go

	formKey formtoken.Key // authenticates form tokens; see formtoken.go

	policies policydoc.Cache // the decoded policy documents; see methods.go, conditional.go
	mdsCache mdsCache        // see methods.go
	outage   health.Tracker  // see health.go
}

// New returns a service on store with the relying party wa.
func New(store latchkey.Store, wa *webauthn.WebAuthn, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{Store: store, WebAuthn: wa, Logger: logger, Now: time.Now}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Client describes who is calling: recorded on sessions and sign-in events.
type Client struct {
	IP            string
	UserAgent     string
	CorrelationID string
	// Platform (policy.PlatformWindows, ...) and PlatformVersion, from UA client hints or the
	// User-Agent string; for conditional access and the sign-in log.
	Platform        string
	PlatformVersion string
}

// platformName names the caller's platform for people ("Windows"), from the client hints already
// read into Platform, else from the User-Agent string.
func (c Client) platformName() string {
	p := c.Platform
	if p == "" {
		p, _ = device.Platform(c.UserAgent, device.Hints{})
	}
	return device.Name(p)
}

// SignIn is the result of a successful sign-in: the session and its secret cookie token.
type SignIn struct {
	User    *latchkey.User
	Session *latchkey.Session
	Token   string
	Passkey *latchkey.Passkey // set for a passkey sign-in
}

// NewToken returns a fresh random secret, base64url, 256 bits.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("signin: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SessionID returns the store key of a session token: its SHA-256, so the store never holds
// a usable token.
func SessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// startSession stores a new session for user and returns it with its token.
func (s *Service) startSession(ctx context.Context, user *latchkey.User, methods []string, expires time.Time, c Client, fill func(*latchkey.Session)) (*SignIn, error) {
	si := s.newSession(user, methods, expires, c, fill)
	if err := s.Store.CreateSession(ctx, si.Session); err != nil {
		return nil, err
	}
	return si, nil
}

// newSession returns a new session for user with its token, not yet stored.
func (s *Service) newSession(user *latchkey.User, methods []string, expires time.Time, c Client, fill func(*latchkey.Session)) *SignIn {
	now := s.now()
	token := NewToken()
	sess := &latchkey.Session{
		ID:              SessionID(token),
		UserID:          user.ID,
		Methods:         methods,
		CreatedAt:       now,
		AuthenticatedAt: now,
		ExpiresAt:       expires,
		IP:              c.IP,
		UserAgent:       truncate(c.UserAgent, 512),
	}
	if fill != nil {
		fill(sess)
	}
	return &SignIn{User: user, Session: sess, Token: token}
}

// Authenticate returns the live session and user of a cookie token.
func (s *Service) Authenticate(ctx context.Context, token string) (*latchkey.Session, *latchkey.User, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, errNotSignedIn
	}
	sess, err := s.Store.FindSession(ctx, SessionID(token), s.now())
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil, errNotSignedIn
	} else if err != nil {
		return nil, nil, err
	}
	user, err := s.Store.FindUserByID(ctx, sess.UserID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil, errNotSignedIn
	} else if err != nil {
		return nil, nil, err
	}
	if !user.Enabled {
		return nil, nil, errAccountDisabled(user)
	}
	return sess, user, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.Store.DeleteSession(ctx, SessionID(token))
}

// signInEvent fills in the request's side of a sign-in event.
func (s *Service) signInEvent(e *latchkey.SignInEvent, c Client) *latchkey.SignInEvent {
	e.ID = latchkey.NewTimeOrderedID()
	e.CreatedAt = s.now()
	e.IP = c.IP
	e.UserAgent = truncate(c.UserAgent, 512)
	e.CorrelationID = c.CorrelationID
	e.Platform, e.PlatformVersion = c.Platform, c.PlatformVersion
	return e
}

// recordSignIn writes a sign-in event; a failure to write is logged, not returned, so that a
// full log never locks people out.
func (s *Service) recordSignIn(ctx context.Context, e *latchkey.SignInEvent, c Client) {
	s.Metrics.SignIn(e.Method, e.Result)
	if err := s.Store.RecordSignIn(ctx, s.signInEvent(e, c)); err != nil {
		s.logStoreError(ctx, "record sign-in", err, "correlationId", c.CorrelationID)
	}
}

// recordFailure records a refused sign-in with the refusal's code and admin detail.
func (s *Service) recordFailure(ctx context.Context, method string, user *latchkey.User, pk *latchkey.Passkey, err error, c Client) {
	e := &latchkey.SignInEvent{Method: method, Result: latchkey.SignInFailure, ErrorCode: latchkey.ErrorCode(err)}
	if le, ok := err.(*latchkey.Error); ok {
		e.Detail = le.Detail
		if le.Err != nil {
			e.Detail = le.Err.Error()
		}
	}
	if user != nil {
		e.UserID, e.UPN = user.ID, user.UserPrincipalName
	}
	if pk != nil {
		e.PasskeyID, e.PasskeyKind, e.AAGUID = pk.ID, pk.Kind, pk.AAGUID
	}
	s.recordSignIn(ctx, e, c)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
