package latchkey

import "github.com/google/uuid"

// NewID returns a random identifier (a version 4 UUID), so several nodes never collide.
func NewID() string { return uuid.NewString() }

// NewTimeOrderedID returns a random identifier that sorts by creation time (a version 7 UUID),
// for records written in time order such as sign-in events: new rows land at the end of the
// index instead of on a random page.
func NewTimeOrderedID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
