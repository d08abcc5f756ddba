package passhash

import (
	"context"
	"testing"
)

// TestHashWaitEndsWithTheRequest: a caller waiting for a hash slot gives up when its request's
// context ends, with an error, rather than waiting on.
func TestHashWaitEndsWithTheRequest(t *testing.T) {
	for range MaxConcurrent {
		slots <- struct{}{}
	}
	defer func() {
		for range MaxConcurrent {
			<-slots
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Hash(ctx, "some pass", nil)
		done <- err
	}()
	cancel()
	if err := <-done; err == nil || ctx.Err() == nil {
		t.Fatalf("Hash with every slot taken and the context ended = %v, want the context's error", err)
	}
}
