// Command storegen writes internal/metrics/store_gen.go (run by go generate in that folder).
package main

import (
	"log"
	"os"

	"github.com/latchkey/latchkey/internal/metrics/internal/storegen"
)

func main() {
	src, err := storegen.Source()
	if err != nil {
		log.Fatalf("generate store wrapper: %v", err)
	}
	if err := os.WriteFile("store_gen.go", src, 0o644); err != nil {
		log.Fatalf("write store_gen.go: %v", err)
	}
}
