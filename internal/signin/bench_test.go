package signin

// Benchmarks of the passkey sign-in hot path: the whole service-level ceremony on each store, and
// each of its parts on its own, so that one run shows where a sign-in's time goes.
//
//	go test -run XXX -bench . -benchtime 200x ./internal/signin/
//
// BenchmarkSignIn measures BeginSignIn + FinishSignIn as the server runs them (no HTTP), and
// BenchmarkSignInParts the pieces: go-webauthn's parsing and verification, the CPU work around
// them, the store calls on SQLite and PostgreSQL, and one request log line.
// The PostgreSQL benchmarks get a fresh database from pgtest (a throwaway server this process
// starts, or LATCHKEY_TEST_POSTGRES_URL), like the store tests.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/sqlite"
)

const benchOrigin = "http://localhost:8080"

// benchClient is a caller as the server describes it: a real browser's User-Agent, so that
// truncation and platform detection do their usual work.
var benchClient = Client{
	IP:            "192.0.2.10",
	UserAgent:     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	CorrelationID: "9f2c4e1a7b3d5f60",
}

var benchStores = []string{"sqlite", "postgres"}

// benchEnv is a service on a fresh store with one enabled user who has registered one passkey,
// held by a software authenticator that makes real P-256 signatures.
type benchEnv struct {
	svc   *Service
	user  *latchkey.User
	pk    *latchkey.Passkey
	authn *loadtest.Authenticator
}

// newBenchEnv opens a fresh store of kind ("sqlite" or "postgres"), closed when b ends, and
// registers a passkey through the service's own registration ceremony.
func newBenchEnv(b *testing.B, kind string) *benchEnv {
	b.Helper()
	ctx := context.Background()
	var (
		st  latchkey.Store
		err error
	)
	switch kind {
	case "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "latchkey.db"))
	case "postgres":
		st, err = postgres.Open(ctx, pgtest.URL(b))
	default:
		b.Fatalf("unknown store %q", kind)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn(benchOrigin, "Latchkey bench")
	if err != nil {
		b.Fatal(err)
	}
	svc := New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))

	user := &latchkey.User{UserPrincipalName: "alice@example.com", DisplayName: "Alice Example", Enabled: true}
	if err := user.Validate(); err != nil {
		b.Fatal(err)
	}
	if err := st.CreateUser(ctx, user); err != nil {
		b.Fatal(err)
	}
	authn, err := loadtest.NewAuthenticator(benchOrigin, false)
	if err != nil {
		b.Fatal(err)
	}
	// A session made with a pass may register; registration only needs the session's ID to
	// match the challenge's, so the session need not be stored.
	sess := &latchkey.Session{ID: SessionID(NewToken()), UserID: user.ID, Methods: []string{latchkey.MethodTAP}}
	creation, err := svc.BeginRegistration(ctx, sess, user)
	if err != nil {
		b.Fatal(err)
	}
	options, err := json.Marshal(creation)
	if err != nil {
		b.Fatal(err)
	}
	attestation, err := authn.Attest(options)
	if err != nil {
		b.Fatal(err)
	}
	pk, err := svc.FinishRegistration(ctx, sess, user, []byte(attestation), Client{})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{svc: svc, user: user, pk: pk, authn: authn}
}

// answer begins a usernameless sign-in and has the authenticator answer its options as a
// browser would: the AuthenticationResponseJSON that FinishSignIn takes.
func (e *benchEnv) answer(b *testing.B) []byte {
	assertion, err := e.svc.BeginSignIn(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	options, err := json.Marshal(assertion)
	if err != nil {
		b.Fatal(err)
	}
	body, err := e.authn.Assert(options)
	if err != nil {
		b.Fatal(err)
	}
	return []byte(body)
}

// answers returns n answers, each to its own challenge, with rising sign counts: FinishSignIn
// must take them in order.
func (e *benchEnv) answers(b *testing.B, n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = e.answer(b)
	}
	return bodies
}

// BenchmarkSignIn is the whole usernameless passkey sign-in as the service runs it:
// BeginSignIn("") then FinishSignIn of the authenticator's answer.
//
// Signing the answer is the client's work and must stay out of the figures, yet an answer can
// only be made once its options exist. Rather than b.StopTimer/StartTimer around each signature
// (each call reads the runtime's memory statistics, a stop-the-world of a few microseconds that
// also blurs the allocation count) or timing client and server together and subtracting the
// client's separately measured cost (the difference of two noisy figures), full-* first begins
// b.N ceremonies and has the authenticator answer each, untimed. The timed loop then runs, per
// iteration, one BeginSignIn (its challenge goes unanswered, as an abandoned or autofill
// ceremony's does) and one FinishSignIn of a prepared answer: exactly a ceremony's server work.
// The prepared challenges live for passkey.CeremonyTimeout (5 min), far longer than any run.
//
// The other leaves check the method and split the figure:
//   - client-assert: what full-* leaves out, the authenticator signing one answer (options JSON,
//     parse, P-256 signature, response JSON). In-memory only.
//   - full-*-with-client: the naive loop, client signing included; it should come out near
//     full-* plus client-assert.
//   - begin-* and finish-*: BeginSignIn alone and FinishSignIn alone. (BeginSignIn("") writes
//     nothing since challenges became self-contained, so both begin-* should be CPU only.)
func BenchmarkSignIn(b *testing.B) {
	ctx := context.Background()
	for _, kind := range benchStores {
		// Each leaf opens its own store: a leaf function runs more than once (b.N = 1 first),
		// and setup is not timed.
		b.Run("full-"+kind, func(b *testing.B) {
			env := newBenchEnv(b, kind)
			bodies := env.answers(b, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := env.svc.BeginSignIn(ctx, ""); err != nil {
					b.Fatal(err)
				}
				if _, err := env.svc.FinishSignIn(ctx, bodies[i], benchClient); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("client-assert", func(b *testing.B) {
		wa, err := passkey.NewWebAuthn(benchOrigin, "Latchkey bench")
		if err != nil {
			b.Fatal(err)
		}
		assertion, _, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			b.Fatal(err)
		}
		authn, err := loadtest.NewAuthenticator(benchOrigin, false)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			options, err := json.Marshal(assertion) // the server's answer to /options, as the browser receives it
			if err != nil {
				b.Fatal(err)
			}
			if _, err := authn.Assert(options); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, kind := range benchStores {
		b.Run("full-"+kind+"-with-client", func(b *testing.B) {
			env := newBenchEnv(b, kind)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := env.svc.FinishSignIn(ctx, env.answer(b), benchClient); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, kind := range benchStores {
		b.Run("begin-"+kind, func(b *testing.B) {
			env := newBenchEnv(b, kind)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := env.svc.BeginSignIn(ctx, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("finish-"+kind, func(b *testing.B) {
			env := newBenchEnv(b, kind)
			bodies := env.answers(b, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := env.svc.FinishSignIn(ctx, bodies[i], benchClient); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignInParts measures the pieces of a sign-in on their own.
//
//   - verify-only: go-webauthn's ValidatePasskeyLogin of an already parsed answer against an
//     in-memory user and passkey, with the session data FinishSignIn builds: the floor of any
//     go-webauthn server (COSE key decoding, client data and authenticator data checks, the
//     ECDSA signature check).
//   - ecdsa-p256-verify: the bare signature check inside it (SHA-256 + ecdsa.VerifyASN1).
//   - parse-only: protocol.ParseCredentialRequestResponseBytes of the request body.
//   - challenge-new, challenge-open: making and checking a self-contained (HMAC) challenge.
//   - session-token: NewToken + SessionID, the session's secret and its store key.
//   - store-sqlite/*, store-postgres/*: each store call alone (see benchStoreRoundTrips).
//   - slog-request-line: one request log line as the server writes it, TextHandler to io.Discard.
func BenchmarkSignInParts(b *testing.B) {
	ctx := context.Background()

	b.Run("verify-only", func(b *testing.B) {
		env := newBenchEnv(b, "sqlite") // for its registered passkey; the store is not used below
		wa := env.svc.WebAuthn
		parsed, err := protocol.ParseCredentialRequestResponseBytes(env.answer(b))
		if err != nil {
			b.Fatal(err)
		}
		sd := webauthn.SessionData{Challenge: parsed.Response.CollectedClientData.Challenge,
			Expires: time.Now().Add(passkey.CeremonyTimeout), UserVerification: protocol.VerificationRequired}
		user, pk := env.user, env.pk
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			wu := passkey.User{User: user, Passkeys: []*latchkey.Passkey{pk}}
			_, cred, err := wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return wu, nil }, sd, parsed)
			if err != nil {
				b.Fatal(err)
			}
			if cred.Authenticator.CloneWarning {
				b.Fatal("clone warning")
			}
		}
	})

	b.Run("ecdsa-p256-verify", func(b *testing.B) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		signed := make([]byte, 37+sha256.Size) // authenticatorData || SHA-256(clientDataJSON)
		rand.Read(signed)
		digest := sha256.Sum256(signed)
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		pub := &key.PublicKey
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			d := sha256.Sum256(signed)
			if !ecdsa.VerifyASN1(pub, d[:], sig) {
				b.Fatal("signature does not verify")
			}
		}
	})

	b.Run("parse-only", func(b *testing.B) {
		env := newBenchEnv(b, "sqlite")
		body := env.answer(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := protocol.ParseCredentialRequestResponseBytes(body); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("challenge-new", func(b *testing.B) {
		env := newBenchEnv(b, "sqlite") // the challenge key is read once, then kept
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, _, err := env.svc.newSignInChallenge(ctx, ""); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("challenge-open", func(b *testing.B) {
		env := newBenchEnv(b, "sqlite")
		challenge := benchChallengeID(b, env.svc)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := env.svc.openSignInChallenge(ctx, challenge); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("session-token", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if SessionID(NewToken()) == "" {
				b.Fatal("empty session id")
			}
		}
	})

	for _, kind := range benchStores {
		b.Run("store-"+kind, func(b *testing.B) { benchStoreRoundTrips(b, kind) })
	}

	b.Run("slog-request-line", func(b *testing.B) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		r := httptest.NewRequest("POST", "/api/v1/webauthn/authentication/verify", nil)
		rec := struct{ status int }{200}
		cid := benchClient.CorrelationID
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"durationMs", float64(time.Since(start).Microseconds())/1000, "correlationId", cid)
		}
	})
}

// benchStoreRoundTrips measures, on one fresh store of kind, each store call of a sign-in, with
// the arguments the service passes. Inputs that must differ per call (IDs, sign counts) are made
// before the timer starts.
//
// A usernameless sign-in today makes two: FindPasskeyForSignIn (passkey, owner, groups and
// settings in one query) and CompletePasskeySignIn (one transaction: challenge use, sign count,
// session, event). The others are calls that path replaced (BeginSignIn's CreateChallenge;
// FinishSignIn's TakeChallenge, FindUserByID, CreateSession and RecordSignIn, each its own round
// trip), kept for comparison; TAP sign-in and registration still use CreateSession, RecordSignIn
// and the challenge calls.
func benchStoreRoundTrips(b *testing.B, kind string) {
	ctx := context.Background()
	env := newBenchEnv(b, kind)
	st := env.svc.Store
	data := benchSessionData(b)
	user, pk := env.user, env.pk
	svc := env.svc
	challenges := func(n int) []*latchkey.Challenge {
		chs := make([]*latchkey.Challenge, n)
		expires := time.Now().UTC().Add(passkey.CeremonyTimeout)
		for i := range chs {
			// A go-webauthn challenge is 32 random bytes, base64url, like a token.
			chs[i] = &latchkey.Challenge{ID: NewToken(), Ceremony: latchkey.CeremonyAuthentication, Data: data, ExpiresAt: expires}
		}
		return chs
	}

	b.Run("CreateChallenge", func(b *testing.B) {
		chs := challenges(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := st.CreateChallenge(ctx, chs[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TakeChallenge", func(b *testing.B) {
		chs := challenges(b.N)
		for _, c := range chs {
			if err := st.CreateChallenge(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		now := time.Now().UTC()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := st.TakeChallenge(ctx, chs[i].ID, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindPasskeyForSignIn", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := st.FindPasskeyForSignIn(ctx, pk.CredentialID, MethodsPolicyKey, passkey.MDSVersionKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindUserByID", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := st.FindUserByID(ctx, user.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	count := pk.SignCount // rises across the runs of the leaves below
	platform := benchClient.platformName()
	newSession := func(now time.Time) *latchkey.Session {
		return &latchkey.Session{ID: SessionID(NewToken()), UserID: user.ID, Methods: []string{latchkey.MethodPasskey},
			PasskeyID: pk.ID, CreatedAt: now, AuthenticatedAt: now, ExpiresAt: now.Add(SessionLifetime),
			IP: benchClient.IP, UserAgent: benchClient.UserAgent}
	}
	newEvent := func(now time.Time) *latchkey.SignInEvent {
		return &latchkey.SignInEvent{ID: latchkey.NewID(), CreatedAt: now, UserID: user.ID, UPN: user.UserPrincipalName,
			IP: benchClient.IP, UserAgent: benchClient.UserAgent, Method: latchkey.MethodPasskey, PasskeyID: pk.ID,
			PasskeyKind: pk.Kind, AAGUID: pk.AAGUID, Result: latchkey.SignInSuccess, CorrelationID: benchClient.CorrelationID}
	}
	b.Run("CompletePasskeySignIn", func(b *testing.B) {
		now := time.Now().UTC()
		writes := make([]*latchkey.PasskeySignIn, b.N)
		for i := range writes {
			count++
			writes[i] = &latchkey.PasskeySignIn{ChallengeID: benchChallengeID(b, svc), ChallengeExpiresAt: now.Add(passkey.CeremonyTimeout),
				PasskeyID: pk.ID, SignCount: count, UsedAt: now, Platform: platform, Session: newSession(now), Event: newEvent(now)}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := st.CompletePasskeySignIn(ctx, writes[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateSession", func(b *testing.B) {
		now := time.Now().UTC()
		sessions := make([]*latchkey.Session, b.N)
		for i := range sessions {
			sessions[i] = newSession(now)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := st.CreateSession(ctx, sessions[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RecordSignIn", func(b *testing.B) {
		now := time.Now().UTC()
		events := make([]*latchkey.SignInEvent, b.N)
		for i := range events {
			events[i] = newEvent(now)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := st.RecordSignIn(ctx, events[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchChallengeID returns a fresh usernameless sign-in challenge of svc as it appears in
// clientDataJSON (base64url).
func benchChallengeID(b *testing.B, svc *Service) string {
	b.Helper()
	c, _, err := svc.newSignInChallenge(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(c)
}

// benchSessionData returns the JSON of a usernameless sign-in's session data, as registration
// ceremonies store it in a challenge.
func benchSessionData(b *testing.B) []byte {
	b.Helper()
	wa, err := passkey.NewWebAuthn(benchOrigin, "Latchkey bench")
	if err != nil {
		b.Fatal(err)
	}
	_, sd, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		b.Fatal(err)
	}
	data, err := json.Marshal(sd)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkSessionCheck is the per-request session check as the server runs it for every signed-in
// page and API call: Authenticate of the cookie's token (FindSession, then FindUserByID), on a
// session made by a passkey sign-in, on each store.
func BenchmarkSessionCheck(b *testing.B) {
	ctx := context.Background()
	for _, kind := range benchStores {
		b.Run(kind, func(b *testing.B) {
			env := newBenchEnv(b, kind)
			si, err := env.svc.FinishSignIn(ctx, env.answer(b), benchClient)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, _, err := env.svc.Authenticate(ctx, si.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
