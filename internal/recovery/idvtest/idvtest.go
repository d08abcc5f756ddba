// Package idvtest is a real OpenID provider for tests of identity verification: zitadel/oidc's
// op package over its example storage, on loopback, whose ID tokens (or userinfo) carry the
// verified_claims the test sets, whose login page approves at once, and which can tamper with
// the ID token (another issuer or nonce, a signature by a key it does not publish) to prove that
// Latchkey refuses it. It lives outside _test files so that the browser tests can use it too.
package idvtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client credentials Latchkey is registered with.
const (
	ClientID     = "latchkey"
	ClientSecret = "idv-client-secret"
)

// Provider is a running test identity verification provider.
type Provider struct {
	// Issuer is its URL (http://127.0.0.1:port).
	Issuer string
	srv    *httptest.Server
	store  *idvStorage

	mu             sync.Mutex
	verified       any
	inUserinfo     bool
	tamper         func(claims map[string]any)
	wrongKey       bool
	claimsParam    string
	authorizeQuery map[string]string
}

// SetVerifiedClaims sets the verified_claims the next tokens carry (nil: none); with
// inUserinfo they are returned by the userinfo endpoint instead of the ID token.
func (p *Provider) SetVerifiedClaims(v any, inUserinfo bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.verified, p.inUserinfo = v, inUserinfo
}

// Tamper has the next ID tokens rewritten by fn and signed again; with wrongKey by a key the
// provider does not publish.
func (p *Provider) Tamper(fn func(claims map[string]any), wrongKey bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper, p.wrongKey = fn, wrongKey
}

// ClaimsParam returns the claims parameter of the last authorization request, and the request's
// other parameters.
func (p *Provider) ClaimsParam() (string, map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.claimsParam, p.authorizeQuery
}

// Plain returns verified_claims in the plain Identity Assurance shape, verified just now.
func Plain(trustFramework, level string, claims map[string]any) map[string]any {
	return PlainAt(trustFramework, level, time.Now(), claims)
}

// PlainAt is Plain for a verification completed at t.
func PlainAt(trustFramework, level string, t time.Time, claims map[string]any) map[string]any {
	return map[string]any{"verification": map[string]any{"trust_framework": trustFramework, "assurance_level": level,
		"time": t.UTC().Format(time.RFC3339), "verification_process": "test-process-1"}, "claims": claims}
}

// Delegated returns verified_claims in the "bring your own IDV" shape: an array, trust framework
// IDV-DELEGATED, each claim wrapped as {"value": ...}.
func Delegated(level string, claims map[string]string) []any {
	wrapped := map[string]any{}
	for k, v := range claims {
		wrapped[k] = map[string]any{"value": v}
	}
	return []any{map[string]any{"verification": map[string]any{"trust_framework": "IDV-DELEGATED", "assurance_level": level},
		"claims": wrapped}}
}

// Start runs a provider on loopback until t ends; redirectURIs are Latchkey's callbacks.
func Start(t testing.TB, redirectURIs ...string) *Provider {
	t.Helper()
	p := &Provider{}
	p.srv = httptest.NewUnstartedServer(nil)
	p.Issuer = "http://" + p.srv.Listener.Addr().String()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, redirectURIs...)}
	p.store = &idvStorage{Storage: storage.NewStorageWithClients(storage.NewUserStore(p.Issuer), clients), p: p,
		key: &signingKey{id: "idv-key-1", key: key}}
	provider, err := op.NewProvider(&op.Config{CryptoKey: [32]byte{1, 2, 3}, CodeMethodS256: true, AuthMethodPost: true},
		p.store, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	callback := op.AuthCallbackURL(provider)
	mux := http.NewServeMux()
	// The login page approves at once, as the example's test user: the verification is what
	// verified_claims says, not this sign-in.
	mux.HandleFunc("/login/username", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if err := p.store.CheckUsernamePassword("test-user@127.0.0.1", "verysecure", id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	})
	mux.Handle("/", p.intercept(provider))
	p.srv.Config.Handler = mux
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

// intercept records authorization requests and rewrites token responses when told to.
func (p *Provider) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/authorize" {
			q := map[string]string{}
			for k := range r.URL.Query() {
				q[k] = r.URL.Query().Get(k)
			}
			p.mu.Lock()
			p.claimsParam, p.authorizeQuery = q["claims"], q
			p.mu.Unlock()
		}
		p.mu.Lock()
		tamper, wrongKey := p.tamper, p.wrongKey
		p.mu.Unlock()
		if r.URL.Path != "/oauth/token" || (tamper == nil && !wrongKey) {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if idt, ok := body["id_token"].(string); ok {
				body["id_token"] = p.resign(idt, tamper, wrongKey)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_ = json.NewEncoder(w).Encode(body)
	})
}

func (p *Provider) resign(idt string, tamper func(map[string]any), wrongKey bool) string {
	parts := strings.Split(idt, ".")
	if len(parts) != 3 {
		return idt
	}
	jws, err := jose.ParseSigned(idt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return idt
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(jws.UnsafePayloadWithoutVerification()))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return idt
	}
	if tamper != nil {
		tamper(claims)
	}
	key := p.store.key.key
	if wrongKey {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: p.store.key.id}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return idt
	}
	payload, _ := json.Marshal(claims)
	signed, err := signer.Sign(payload)
	if err != nil {
		return idt
	}
	out, _ := signed.CompactSerialize()
	return out
}

// idvStorage is the example storage with the provider's own key and verified_claims.
type idvStorage struct {
	*storage.Storage
	p   *Provider
	key *signingKey
}

func (s *idvStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if s.p.verified != nil && !s.p.inUserinfo {
		ui.AppendClaims("verified_claims", s.p.verified)
	}
	return nil
}

func (s *idvStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if s.p.verified != nil && s.p.inUserinfo {
		ui.AppendClaims("verified_claims", s.p.verified)
	}
	return nil
}

func (s *idvStorage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *idvStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *idvStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{&publicKey{s.key}}, nil
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (k *publicKey) ID() string                         { return k.k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return &k.k.key.PublicKey }
