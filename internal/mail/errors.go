package mail

import (
	"fmt"
	"strings"
)

// SendError is a failed send: what the mail server or the connection to it answered. Its text
// never holds a password or a message body.
type SendError struct {
	Err error
}

// Error says that the send failed, and what the server or connection answered.
func (e *SendError) Error() string { return "send mail: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// Plain returns the server's answer as one short line for the admin.
func (e *SendError) Plain() string {
	s := strings.Join(strings.Fields(e.Err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprintf("It answered: %s", s)
}
