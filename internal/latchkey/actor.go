package latchkey

import "time"

// Actor kinds.
const (
	ActorPerson = "user"
	ActorToken  = "token"
	ActorSystem = "system"
)

// Actor is who makes a change: a person with roles (through a session or the server's CLI), an
// API token with scopes, or Latchkey itself. Services take the actor and ask authz.Decide
// whether it may act; the audit log records it.
type Actor struct {
	// Kind is ActorPerson, ActorToken or ActorSystem.
	Kind string
	// For a person: their id, user principal name, role assignments and the ids of the
	// administrative units their roles' scopes name members of (resolved by the service).
	UserID string
	UPN    string
	Roles  []RoleAssignment
	// Session facts for a person signed in through the pages or API: when and how.
	AuthenticatedAt time.Time
	// PhishingResistant reports whether the session was made with a phishing-resistant
	// method (a passkey); a pass or password session is not.
	PhishingResistant bool
	// CLI reports whether the person acts through `latchkey` on the server itself (break glass:
	// `latchkey tap issue` may issue a pass for oneself).
	CLI bool

	// For a token: its id, name and scopes.
	TokenID   string
	TokenName string
	Scopes    []string
}

// SystemActor is Latchkey acting on its own (bootstrap, onboarding, sealing).
var SystemActor = Actor{Kind: ActorSystem}

// CLIActor is the operator at the server's command line (`latchkey user add`, `latchkey tap
// issue`): whoever can run the binary against the store already holds every secret in it, so
// it acts as the system, and the audit log names it "cli".
var CLIActor = Actor{Kind: ActorSystem, CLI: true}

// Name returns how logs and the audit log name the actor: a person's user principal name, a
// token's name, or "system".
func (a Actor) Name() string {
	switch a.Kind {
	case ActorPerson:
		return a.UPN
	case ActorToken:
		return "token:" + a.TokenName
	}
	if a.CLI {
		return "cli"
	}
	return "system"
}

// ID returns the actor's id: the person's or the token's; "system" for Latchkey.
func (a Actor) ID() string {
	switch a.Kind {
	case ActorPerson:
		return a.UserID
	case ActorToken:
		return a.TokenID
	}
	return "system"
}
