// Package recovery is every way someone who lost their passkeys gets back in without a password:
// the kiosk ("I have a new phone"), a manager's pass on My Staff, identity verification through
// an outside provider, and a helpdesk pass that a second admin approves. Each issues a recovery
// pass (signin.IssueOptions.Recovery: one-time, at most 15 minutes), records an audit event and
// mails the person and their manager (Notify), in the pass's own transaction. Every method takes
// the actor and asks authz first, as the directory does.
package recovery

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// Service runs the recovery paths over the directory and the sign-in service.
type Service struct {
	Store  latchkey.Store
	Signin *signin.Service
	Dir    *directory.Service
}

// New returns the recovery service over dir (and its sign-in service and store).
func New(dir *directory.Service) *Service {
	return &Service{Store: dir.Store, Signin: dir.Signin, Dir: dir}
}

// now is the service clock (tests move it).
func (s *Service) now() time.Time { return s.Signin.Now() }

// Recovery paths, as Notice.Path and in audit summaries.
const (
	PathKiosk    = "kiosk"
	PathManager  = "manager"
	PathIDV      = "identityVerification"
	PathHelpdesk = "helpdesk"
)

// MailKindRecovery is the outbox kind of the mail that tells a person (at every address on
// record) and their manager that a recovery pass was issued for them.
const MailKindRecovery = "recovery"

// Notice is what a recovery mail says happened: to whom (UserID), by which path, by whom (the
// actor's name as people read it: "Grace Hopper (your manager)", "you, on your laptop",
// "the identity check at Acme IDV", "Helpdesk: Bob, approved by Carol") and when.
type Notice struct {
	UserID string
	Path   string
	By     string
	At     time.Time
}

// Notify returns ctx carrying the recovery mail of n, so that the store write that issues the
// pass (made with that ctx) queues the mail in the same transaction. The mail is built when it
// is sent (the "recovery" composer); its parameters hold no secret.
func Notify(ctx context.Context, n Notice) context.Context {
	return latchkey.QueueMail(ctx, latchkey.MailItem{Kind: MailKindRecovery, Key: MailKindRecovery + ":" + latchkey.NewID(),
		SubjectID: n.UserID, NotBefore: n.At,
		Params: map[string]string{"path": n.Path, "by": n.By, "at": n.At.UTC().Format(time.RFC3339)}})
}
