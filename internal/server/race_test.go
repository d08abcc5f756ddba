package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/signin"
)

// racers is how many requests each race sends at once.
const racers = 20

// raceJSON sends, at the same moment, body[i] as a JSON POST to path from clients[i], and returns
// the answers in the same order. Each client first opens its connection (GET /healthz), then the
// requests are built and released together, so that they reach the server as close together as
// a test can make them. Nothing in a racing goroutine calls t.Fatal.
func raceJSON(t *testing.T, path string, clients []*client, bodies []string) []*response {
	t.Helper()
	for _, c := range clients {
		if r := c.get("/healthz"); r.status != http.StatusOK {
			t.Fatalf("GET /healthz: %d", r.status)
		}
	}
	reqs := make([]*http.Request, len(clients))
	for i, c := range clients {
		req, err := http.NewRequest(http.MethodPost, c.h.origin+path, bytes.NewReader([]byte(bodies[i])))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", c.h.origin)
		reqs[i] = req
	}
	out := make([]*response, len(clients))
	errs := make([]error, len(clients))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			resp, err := clients[i].http.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out[i], errs[i] = &response{status: resp.StatusCode, header: resp.Header, body: b, resp: resp}, err
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// winner checks that exactly one answer is 200 and every other one is a refusal in the error
// JSON with the given status and code, and returns the index of the 200.
func winner(t *testing.T, rs []*response, status int, code string) int {
	t.Helper()
	won := -1
	for i, r := range rs {
		if r.status == http.StatusOK {
			if won >= 0 {
				t.Errorf("requests %d and %d both succeeded", won, i)
			}
			won = i
			continue
		}
		if r.status != status {
			t.Errorf("request %d: status %d, want %d (body %s)", i, r.status, status, r.body)
		}
		checkErrorShape(t, r, code)
	}
	if won < 0 {
		t.Fatalf("no request succeeded")
	}
	return won
}

// clients returns n fresh browsers.
func (h *harness) clients(n int) []*client {
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = h.newClient()
	}
	return cs
}

func repeated(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestRaceOneAssertionManyTimes verifies one valid assertion 20 times at once: it signs in
// once, and the passkey is not taken for a clone. A few rounds, since a race window is narrow.
func TestRaceOneAssertionManyTimes(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	pk := c.mustRegister(d)
	for round := 1; round <= 5; round++ {
		d.cred.Counter++
		assertion := d.assert(t, h.newClient().authenticationOptions(""))
		cs := h.clients(racers)
		rs := raceJSON(t, "/api/v1/webauthn/authentication/verify", cs, repeated(assertion, racers))
		won := winner(t, rs, http.StatusBadRequest, "challenge_not_found")
		checkPasskeySignIn(t, rs[won], u)
		for i, c := range cs {
			if i != won {
				checkNoSession(t, c)
			}
		}
		if r := cs[won].get("/api/v1/me"); r.status != http.StatusOK {
			t.Errorf("round %d: the winner has no session: %d %s", round, r.status, r.body)
		}
		stored, err := h.store.FindPasskeyByID(context.Background(), pk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.SignCount != d.cred.Counter || stored.PossibleClone {
			t.Fatalf("round %d: sign count %d (possible clone %v), want %d and not flagged", round, stored.SignCount, stored.PossibleClone, d.cred.Counter)
		}
	}
}

// TestRaceOneTimeTAP redeems one one-time pass 20 times at once: it signs in once.
func TestRaceOneTimeTAP(t *testing.T) {
	h := newHarness(t)
	u := h.createUser("alice@example.com", false)
	pass := h.issueTAP(u.ID, signin.IssueOptions{OneTime: true})

	// Each from an address of its own: from one address only the 5 free attempts would be checked.
	cs := make([]*client, racers)
	for i := range cs {
		cs[i] = h.newClientAt(fmt.Sprintf("127.0.1.%d", i+1))
	}
	body := `{"username":"alice@example.com","tap":"` + pass + `"}`
	rs := raceJSON(t, "/api/v1/signin/tap", cs, repeated(body, racers))
	won := winner(t, rs, http.StatusUnauthorized, "tap_used")
	for i, c := range cs {
		if i != won {
			checkNoSession(t, c)
		}
	}
	if r := cs[won].get("/api/v1/me"); r.status != http.StatusOK {
		t.Errorf("the winner has no session: %d %s", r.status, r.body)
	}
	// The refusals were for a used pass, not wrong guesses.
	if th, err := h.store.FindThrottle(context.Background(), "tap:user:"+u.ID); err != nil || th.Failures != 0 {
		t.Errorf("throttle %+v (%v), want no failures", th, err)
	}
}

// TestRaceOneRegistrationChallenge answers one registration challenge with 20 different
// authenticators at once: one passkey is stored, the winner's. A few rounds, since a race
// window is narrow.
func TestRaceOneRegistrationChallenge(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	// Twenty browsers holding c's session: the challenge belongs to it.
	cs := h.clients(racers)
	for _, other := range cs {
		other.jar.SetCookies(h.originURL(), []*http.Cookie{c.sessionCookie()})
	}
	for round := 1; round <= 10; round++ {
		opts := c.registrationOptions()
		bodies := make([]string, racers)
		for i := range bodies {
			bodies[i] = h.newDevice().attest(t, opts)
		}
		rs := raceJSON(t, "/api/v1/webauthn/registration/verify", cs, bodies)
		won := winner(t, rs, http.StatusBadRequest, "challenge_not_found")
		var got api.PasskeyJSON
		rs[won].decode(t, &got)
		pks := h.passkeys(u.ID)
		if len(pks) != round || pks[round-1].ID != got.ID {
			t.Fatalf("round %d: stored passkeys %v, want one more, the winner's %s", round, pks, got.ID)
		}
	}
}

// TestAuthenticationChallengeUsedTwice answers one sign-in challenge with alice's passkey and
// then with bob's: the second is refused and signs nobody in.
func TestAuthenticationChallengeUsedTwice(t *testing.T) {
	h := newHarness(t)
	ac, alice := h.signedInClient("alice@example.com", false)
	aliceKey := h.newDevice()
	ac.mustRegister(aliceKey)
	bc, bob := h.signedInClient("bob@example.com", false)
	bobKey := h.newDevice()
	bobPK := bc.mustRegister(bobKey)

	opts := h.newClient().authenticationOptions("")
	aliceKey.cred.Counter++
	bobKey.cred.Counter++
	first, second := aliceKey.assert(t, opts), bobKey.assert(t, opts)

	checkPasskeySignIn(t, h.newClient().post("/api/v1/webauthn/authentication/verify", first), alice)
	thief := h.newClient()
	errorBody(t, thief.post("/api/v1/webauthn/authentication/verify", second), http.StatusBadRequest, "challenge_not_found")
	checkNoSession(t, thief)
	stored, err := h.store.FindPasskeyByID(context.Background(), bobPK.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SignCount != 0 || stored.LastUsedAt != nil {
		t.Errorf("bob's passkey was used: sign count %d, last used %v", stored.SignCount, stored.LastUsedAt)
	}
	// Bob's assertion was sound; only the challenge was spent.
	bobKey.cred.Counter++
	checkPasskeySignIn(t, h.newClient().signIn(bobKey, ""), bob)
}
