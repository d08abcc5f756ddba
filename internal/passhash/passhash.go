// Package passhash hashes and checks the secrets people type (temporary access passes and
// passwords) with argon2id, in the PHC string format, and bounds how many hashes run at once in
// the process so that a burst of guesses cannot take the server's memory.
package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for pass and password hashes (OWASP's minimum: 19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// MaxConcurrent bounds how many argon2id hashes run at once in this process, whoever asks
// (sign-ins with a pass or password, and the stand-in hash for an unknown name), so that a burst
// of guesses cannot take the server's memory: each hash holds argonMemory (19 MiB) while it runs
// and leaves it as garbage when done. The server runs the collector at GOGC=400 (cmd/latchkey,
// tuneGC), so the heap may grow to 5 times what was live at the last collection before the next.
// The budget for live argon2 memory is 20 MiB: 20 / 19 = 1 hash at a time, 19 MiB live; with the
// server's own ~10 MiB live the heap peaks near 5 × (19 + 10) ≈ 145 MiB, well under 400 MB
// however many guesses arrive together (measured 149 MiB for 200 at once: TestGuessBurstMemory).
// Two at a time would allow 5 × (38 + 10) ≈ 240 MiB, and measured up to 356 MiB. One at a time
// checks some 20 passes or passwords a second, far more than people sign in with them (passkey
// sign-ins never hash). Callers beyond the bound wait their turn, bounded by their request's
// context, and are never refused.
const MaxConcurrent = (20 << 10) / argonMemory

// slots holds one token per running hash; it is process-wide, as memory is.
var slots = make(chan struct{}, MaxConcurrent)

// running counts the hashes running now, for the callers' onHash.
var running atomic.Int64

// argon2idKey runs argon2id once a slot is free, or returns the context's error while waiting.
// A hash asking for more memory than argonMemory (which this server never makes) is refused
// rather than run, since the bound above assumes no hash needs more. onHash, when set, is called
// as the hash starts, with how many run in the process at that moment.
func argon2idKey(ctx context.Context, onHash func(running int), pass string, salt []byte, t, m uint32, p uint8, keyLen uint32) ([]byte, error) {
	if m > argonMemory || t > 16 || p > 16 {
		return nil, fmt.Errorf("argon2id parameters m=%d,t=%d,p=%d exceed what this server makes", m, t, p)
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a password hash slot: %w", ctx.Err())
	}
	defer func() { <-slots }()
	n := running.Add(1)
	defer running.Add(-1)
	if onHash != nil {
		onHash(int(n))
	}
	return argon2.IDKey([]byte(pass), salt, t, m, p, keyLen), nil
}

// Hash returns the argon2id hash of pass in the PHC string format; an error only when the
// context ended while waiting for a slot. onHash, when set, is called as the hash starts, with
// how many run in the process at that moment (at most MaxConcurrent).
func Hash(ctx context.Context, pass string, onHash func(running int)) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic("passhash: crypto/rand failed: " + err.Error())
	}
	key, err := argon2idKey(ctx, onHash, pass, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Check reports whether pass matches a hash made by Hash; a hash that is not one does not match.
// It returns an error when the context ended while waiting for a slot, or when the hash asks for
// more than this server makes (which is refused rather than run); onHash is as for Hash.
func Check(ctx context.Context, hash, pass string, onHash func(running int)) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, nil
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false, nil
	}
	got, err := argon2idKey(ctx, onHash, pass, salt, t, m, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
