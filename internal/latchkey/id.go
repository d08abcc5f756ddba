package latchkey

import "github.com/google/uuid"

// NewID returns a random identifier (a version 4 UUID), so several nodes never collide.
func NewID() string { return uuid.NewString() }
