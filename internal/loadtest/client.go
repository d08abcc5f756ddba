// Package loadtest drives Latchkey's public API the way people's devices do, with a software
// authenticator (real P-256 keys, real signatures), and measures passkey sign-in under load. It
// also holds a bare go-webauthn server to run the same load against as a baseline.
package loadtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/descope/virtualwebauthn"
)

// APIError is a refusal from the server, in Latchkey's error JSON.
type APIError struct {
	Status        int    `json:"-"`
	Code          string `json:"error"`
	Message       string `json:"message"`
	Detail        string `json:"detail"`
	CorrelationID string `json:"correlationId"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s (%s)", e.Status, e.Code, e.Message, e.Detail)
}

// Client is one browser (a cookie jar and the server's base URL), or automation with an API
// token.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Token, when set, is sent as Authorization: Bearer on every request.
	Token string
}

// NewClient returns a client for baseURL sharing transport (nil for a default one).
func NewClient(baseURL string, transport http.RoundTripper) *Client {
	jar, _ := cookiejar.New(nil)
	if transport == nil {
		transport = NewTransport(64)
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second}}
}

// NewTransport returns an HTTP transport that keeps up to conns idle connections per host.
func NewTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns * 4
	t.MaxIdleConnsPerHost = conns * 2
	return t
}

// Do sends a request with a JSON body (nil for none) and decodes a JSON answer into out.
// A 4xx or 5xx answer is returned as *APIError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		case string:
			rd = strings.NewReader(b)
		default:
			buf, err := json.Marshal(body)
			if err != nil {
				return err
			}
			rd = bytes.NewReader(buf)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", c.BaseURL)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		e := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code = fmt.Sprintf("http_%d", resp.StatusCode)
			e.Message = strings.TrimSpace(string(data))
		}
		return e
	}
	if out != nil {
		if raw, ok := out.(*[]byte); ok {
			*raw = data
			return nil
		}
		return json.Unmarshal(data, out)
	}
	return nil
}

// SignInTAP signs in with a temporary access pass.
func (c *Client) SignInTAP(ctx context.Context, username, tap string) error {
	return c.Do(ctx, "POST", "/api/v1/signin/tap", map[string]string{"username": username, "tap": tap}, nil)
}

// CreateUser creates a user (needs an API token or an admin session) and returns its id.
func (c *Client) CreateUser(ctx context.Context, upn string) (string, error) {
	var u struct {
		ID string `json:"id"`
	}
	err := c.Do(ctx, "POST", "/api/v1/users", map[string]any{"userPrincipalName": upn}, &u)
	return u.ID, err
}

// IssueTAP issues a pass for a user (needs an API token or an admin session) and returns it.
func (c *Client) IssueTAP(ctx context.Context, userID string, lifetimeMinutes int) (string, error) {
	var t struct {
		Pass string `json:"temporaryAccessPass"`
	}
	err := c.Do(ctx, "POST", "/api/v1/users/"+url.PathEscape(userID)+"/authentication/temporaryAccessPassMethods",
		map[string]any{"lifetimeInMinutes": lifetimeMinutes}, &t)
	return t.Pass, err
}

// Authenticator is a software passkey: one P-256 credential with a sign counter.
type Authenticator struct {
	mu   sync.Mutex
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
	rp   virtualwebauthn.RelyingParty
}

// NewAuthenticator returns a software authenticator for the relying party at origin (RP ID is
// its host); synced sets the backup flags (BE=1, BS=1).
func NewAuthenticator(origin string, synced bool) (*Authenticator, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("parse origin %q", origin)
	}
	cred, err := NewCredential()
	if err != nil {
		return nil, err
	}
	return &Authenticator{
		auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{BackupEligible: synced, BackupState: synced}),
		cred: cred,
		rp:   virtualwebauthn.RelyingParty{ID: u.Hostname(), Name: "Latchkey", Origin: u.Scheme + "://" + u.Host},
	}, nil
}

// NewCredential returns a P-256 credential for virtualwebauthn. virtualwebauthn writes the COSE key's x and y
// without leading zero bytes, which go-webauthn rightly refuses (about one key in 128), so the
// key is drawn until both coordinates have their full 32 bytes.
func NewCredential() (virtualwebauthn.Credential, error) {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return virtualwebauthn.Credential{}, err
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return virtualwebauthn.Credential{}, err
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der), nil
	}
}

// SetAAGUID sets the AAGUID the authenticator reports at registration (random by default).
func (a *Authenticator) SetAAGUID(aaguid [16]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.auth.Aaguid = aaguid
}

// CredentialID returns the credential's id.
func (a *Authenticator) CredentialID() []byte { return a.cred.ID }

// Attest answers creation options ({"publicKey": ...}) as navigator.credentials.create would.
func (a *Authenticator) Attest(options []byte) (string, error) {
	o, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		return "", fmt.Errorf("parse creation options: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.auth.Options.UserHandle = []byte(o.UserID)
	return virtualwebauthn.CreateAttestationResponse(a.rp, a.auth, a.cred, *o), nil
}

// Assert answers request options, advancing the sign count first as hardware does.
func (a *Authenticator) Assert(options []byte) (string, error) {
	o, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		return "", fmt.Errorf("parse request options: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cred.Counter++
	return virtualwebauthn.CreateAssertionResponse(a.rp, a.auth, a.cred, *o), nil
}

// Register runs a registration ceremony for the signed-in user and returns the verify answer.
func (c *Client) Register(ctx context.Context, a *Authenticator) (map[string]any, error) {
	var options []byte
	if err := c.Do(ctx, "POST", "/api/v1/webauthn/registration/options", "{}", &options); err != nil {
		return nil, err
	}
	att, err := a.Attest(options)
	if err != nil {
		return nil, err
	}
	var pk map[string]any
	err = c.Do(ctx, "POST", "/api/v1/webauthn/registration/verify", att, &pk)
	return pk, err
}

// SignIn runs a passkey sign-in ceremony (usernameless when username is empty).
func (c *Client) SignIn(ctx context.Context, a *Authenticator, username string) error {
	body := "{}"
	if username != "" {
		b, _ := json.Marshal(map[string]string{"username": username})
		body = string(b)
	}
	var options []byte
	if err := c.Do(ctx, "POST", "/api/v1/webauthn/authentication/options", body, &options); err != nil {
		return err
	}
	assertion, err := a.Assert(options)
	if err != nil {
		return err
	}
	return c.Do(ctx, "POST", "/api/v1/webauthn/authentication/verify", assertion, nil)
}
