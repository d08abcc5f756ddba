package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey/internal/passkey"
)

// Baseline is a bare go-webauthn sign-in server: the same JSON routes as Latchkey for passkey
// registration and sign-in, with challenges and credentials in memory, and no store, policy,
// sessions or logging. Running the same load against it gives the cost of the WebAuthn work
// itself on this machine, against which Latchkey's figure is read.
type Baseline struct {
	URL      string
	wa       *webauthn.WebAuthn
	server   *http.Server
	mu       sync.RWMutex
	users    map[string]*baselineUser // by user handle
	sessions sync.Map                 // challenge → *webauthn.SessionData
}

type baselineUser struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *baselineUser) WebAuthnID() []byte                         { return u.id }
func (u *baselineUser) WebAuthnName() string                       { return "user" }
func (u *baselineUser) WebAuthnDisplayName() string                { return "User" }
func (u *baselineUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// StartBaseline starts the baseline server on a free loopback port.
func StartBaseline() (*Baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Baseline{URL: "http://localhost:" + itoa(ln.Addr().(*net.TCPAddr).Port), users: map[string]*baselineUser{}}
	if b.wa, err = passkey.NewWebAuthn(b.URL, "Baseline"); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/webauthn/registration/options", b.registrationOptions)
	mux.HandleFunc("POST /api/v1/webauthn/registration/verify", b.registrationVerify)
	mux.HandleFunc("POST /api/v1/webauthn/authentication/options", b.authenticationOptions)
	mux.HandleFunc("POST /api/v1/webauthn/authentication/verify", b.authenticationVerify)
	b.server = &http.Server{Handler: mux}
	go b.server.Serve(ln)
	return b, nil
}

// Close stops the baseline server.
func (b *Baseline) Close() error { return b.server.Close() }

func (b *Baseline) registrationOptions(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	u := &baselineUser{id: []byte(randomID())}
	creation, sd, err := b.wa.BeginRegistration(u)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.users[string(u.id)] = u
	b.mu.Unlock()
	b.sessions.Store(sd.Challenge, sd)
	baselineJSON(w, map[string]any{"publicKey": creation.Response})
}

func (b *Baseline) registrationVerify(w http.ResponseWriter, r *http.Request) {
	parsed, err := protocol.ParseCredentialCreationResponseBody(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v, ok := b.sessions.LoadAndDelete(parsed.Response.CollectedClientData.Challenge)
	if !ok {
		http.Error(w, "unknown challenge", http.StatusBadRequest)
		return
	}
	sd := v.(*webauthn.SessionData)
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[string(sd.UserID)]
	cred, err := b.wa.CreateCredential(u, *sd, parsed)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.creds = append(u.creds, *cred)
	baselineJSON(w, map[string]any{"ok": true})
}

func (b *Baseline) authenticationOptions(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	assertion, sd, err := b.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.sessions.Store(sd.Challenge, sd)
	baselineJSON(w, map[string]any{"publicKey": assertion.Response})
}

func (b *Baseline) authenticationVerify(w http.ResponseWriter, r *http.Request) {
	parsed, err := protocol.ParseCredentialRequestResponseBody(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v, ok := b.sessions.LoadAndDelete(parsed.Response.CollectedClientData.Challenge)
	if !ok {
		http.Error(w, "unknown challenge", http.StatusBadRequest)
		return
	}
	lookup := func(_, userHandle []byte) (webauthn.User, error) {
		b.mu.RLock()
		defer b.mu.RUnlock()
		u := b.users[string(userHandle)]
		if u == nil {
			return nil, protocol.ErrBadRequest.WithDetails("unknown user")
		}
		return &baselineUser{id: u.id, creds: append([]webauthn.Credential(nil), u.creds...)}, nil
	}
	user, cred, err := b.wa.ValidatePasskeyLogin(lookup, *v.(*webauthn.SessionData), parsed)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	for i, c := range b.users[string(user.WebAuthnID())].creds {
		if string(c.ID) == string(cred.ID) {
			b.users[string(user.WebAuthnID())].creds[i].Authenticator.SignCount = cred.Authenticator.SignCount
		}
	}
	b.mu.Unlock()
	baselineJSON(w, map[string]any{"ok": true})
}

func baselineJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// RunBaseline starts a baseline server, gives it cfg.Users passkeys, and runs the same load as
// Load against it.
func RunBaseline(ctx context.Context, cfg Config) (Result, error) {
	b, err := StartBaseline()
	if err != nil {
		return Result{}, err
	}
	defer b.Close()
	transport := NewTransport(cfg.Concurrency)
	users := make([]*user, cfg.Users)
	for i := range users {
		c := NewClient(b.URL, transport)
		a, err := NewAuthenticator(b.URL, cfg.Synced)
		if err != nil {
			return Result{}, err
		}
		if _, err := c.Register(ctx, a); err != nil {
			return Result{}, fmt.Errorf("register with the baseline: %w", err)
		}
		users[i] = &user{client: c, auth: a}
	}
	bcfg := cfg
	bcfg.URLs = []string{b.URL}
	return Load(ctx, bcfg, users, "baseline"), nil
}
