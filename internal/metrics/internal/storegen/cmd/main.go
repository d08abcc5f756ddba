// Command storegen writes internal/metrics/store_gen_*.go (run by go generate in that folder),
// removing wrapper files the store no longer needs.
package main

import (
	"log"
	"os"
	"path/filepath"

	"github.com/latchkey/latchkey/internal/metrics/internal/storegen"
)

func main() {
	srcs, err := storegen.Sources("../latchkey")
	if err != nil {
		log.Fatalf("generate store wrapper: %v", err)
	}
	old, err := filepath.Glob(storegen.Prefix + "*.go")
	if err != nil {
		log.Fatalf("list store wrapper files: %v", err)
	}
	for _, name := range append(old, "store_gen.go") {
		if _, keep := srcs[name]; !keep {
			if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
				log.Fatalf("remove %s: %v", name, err)
			}
		}
	}
	for name, src := range srcs {
		if err := os.WriteFile(name, src, 0o644); err != nil {
			log.Fatalf("write %s: %v", name, err)
		}
	}
}
