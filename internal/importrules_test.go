// Package internal_test holds the import rules of DESIGN §3 as a test: the pure core imports no
// adapter and no service, adapters never import each other, and nothing that `latchkey serve`
// links pulls in the load generator or the test authenticator.
package internal_test

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/latchkey/latchkey/"

// The packages by role, without the module prefix. Names not (yet) in the module are harmless.
var (
	// pure is the domain and the pure core: plain values and functions, no I/O.
	pure = []string{"internal/latchkey", "internal/policy", "internal/authz", "internal/device", "internal/passhash",
		"internal/passwordrules", "internal/formtoken", "internal/policydoc"}
	// services decide and change things through the store interfaces.
	services = []string{"internal/signin", "internal/directory", "internal/policyadmin", "internal/recovery",
		"internal/audit", "internal/federation", "internal/report", "internal/mail", "internal/health",
		"internal/registered"}
	// adapters speak a protocol or a database; they never import each other.
	adapters = []string{"internal/sqlite", "internal/postgres", "internal/api", "internal/web", "internal/oidc",
		"internal/scim", "internal/passkey", "internal/totpcode"}
	// httpPkgs are the packages that serve HTTP (internal/provisioning: the middleware around SCIM,
	// and what the provisioning page and API read); services never import them.
	httpPkgs = []string{"internal/server", "internal/api", "internal/web", "internal/web/policypages", "internal/oidc", "internal/scim", "internal/httpedge",
		"internal/provisioning"}
	// testOnly are linked only by `latchkey loadtest` and by tests.
	testOnly = []string{"internal/loadtest", "internal/passkey/passkeytest"}
	// mayLinkTestOnly are the packages allowed to depend on testOnly ones.
	mayLinkTestOnly = []string{"internal/loadtest", "internal/passkey/passkeytest", "cmd/latchkey"}
)

// pkg is one package of the module as `go list` sees it (test files left out).
type pkg struct {
	path    string   // without the module prefix
	imports []string // direct imports inside the module
	deps    []string // every dependency inside the module
}

// violations returns every broken rule of the graph pkgs, one sentence each.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		switch {
		case slices.Contains(pure, p.path):
			for _, d := range p.deps {
				if !slices.Contains(pure, d) {
					out = append(out, p.path+" is pure but depends on "+d)
				}
			}
		case slices.Contains(services, p.path):
			for _, d := range p.deps {
				if slices.Contains(httpPkgs, d) {
					out = append(out, p.path+" is a service but depends on the HTTP package "+d)
				}
			}
		}
		if p.path == "internal/signin" {
			for _, d := range p.deps {
				if d == "internal/policyadmin" || d == "internal/directory" {
					out = append(out, "internal/signin depends on "+d+", which builds on it")
				}
			}
		}
		if slices.Contains(adapters, p.path) {
			for _, i := range p.imports {
				if slices.Contains(adapters, i) {
					out = append(out, "adapter "+p.path+" imports adapter "+i)
				}
			}
		}
		if !slices.Contains(mayLinkTestOnly, p.path) {
			for _, d := range p.deps {
				if slices.Contains(testOnly, d) {
					out = append(out, p.path+" links "+d+", which only `latchkey loadtest` and tests may")
				}
			}
		}
	}
	return out
}

// modulePackages lists the module's packages with `go list`.
func modulePackages(t *testing.T) []pkg {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}|{{join .Deps \",\"}}", "./...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	inModule := func(list string) []string {
		var out []string
		for _, s := range strings.Split(list, ",") {
			if rest, ok := strings.CutPrefix(s, module); ok {
				out = append(out, rest)
			}
		}
		return out
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 3 {
			t.Fatalf("go list line %q", sc.Text())
		}
		pkgs = append(pkgs, pkg{path: strings.TrimPrefix(f[0], module), imports: inModule(f[1]), deps: inModule(f[2])})
	}
	return pkgs
}

func TestImportRules(t *testing.T) {
	pkgs := modulePackages(t)
	var names []string
	for _, p := range pkgs {
		names = append(names, p.path)
	}
	for _, want := range []string{"internal/latchkey", "internal/policy", "internal/device", "internal/signin", "internal/sqlite", "internal/server", "cmd/latchkey"} {
		if !slices.Contains(names, want) {
			t.Fatalf("go list did not list %s (got %v): the rules would check nothing", want, names)
		}
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestServeDoesNotLinkLoadtest: the binary has a loadtest subcommand, so cmd/latchkey links
// internal/loadtest; only its loadtest.go may import it, so that `serve` and every other command
// go through code that does not (and internal/server, which serve assembles, is checked above).
func TestServeDoesNotLinkLoadtest(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "cmd", "latchkey", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in cmd/latchkey: %v", err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			path, _ := strconv.Unquote(is.Path.Value)
			rest, ok := strings.CutPrefix(path, module)
			if !ok || !slices.Contains(testOnly, rest) {
				continue
			}
			if rest != "internal/loadtest" || filepath.Base(f) != "loadtest.go" {
				t.Errorf("%s imports %s; only cmd/latchkey/loadtest.go may import internal/loadtest", filepath.Base(f), rest)
			}
		}
	}
}

// TestViolationsFindEachBrokenRule: each rule reports a graph that breaks it, and a graph that
// keeps them all passes.
func TestViolationsFindEachBrokenRule(t *testing.T) {
	good := []pkg{
		{path: "internal/latchkey"},
		{path: "internal/policy", imports: []string{"internal/latchkey"}, deps: []string{"internal/latchkey"}},
		{path: "internal/signin", imports: []string{"internal/passkey"}, deps: []string{"internal/passkey", "internal/latchkey"}},
		{path: "internal/api", imports: []string{"internal/signin", "internal/httpedge"}, deps: []string{"internal/signin", "internal/httpedge", "internal/passkey"}},
		{path: "cmd/latchkey", deps: []string{"internal/loadtest", "internal/api"}},
	}
	if v := violations(good); len(v) != 0 {
		t.Fatalf("a graph that keeps the rules: %v", v)
	}
	for name, bad := range map[string]pkg{
		"pure imports a service":       {path: "internal/policy", imports: []string{"internal/signin"}, deps: []string{"internal/signin"}},
		"pure imports an adapter":      {path: "internal/device", deps: []string{"internal/sqlite"}},
		"adapter imports adapter":      {path: "internal/web", imports: []string{"internal/api"}, deps: []string{"internal/api"}},
		"store imports store":          {path: "internal/sqlite", imports: []string{"internal/postgres"}, deps: []string{"internal/postgres"}},
		"service imports HTTP":         {path: "internal/directory", imports: []string{"internal/httpedge"}, deps: []string{"internal/httpedge"}},
		"signin imports policyadmin":   {path: "internal/signin", imports: []string{"internal/policyadmin"}, deps: []string{"internal/policyadmin"}},
		"server links loadtest":        {path: "internal/server", deps: []string{"internal/passkey", "internal/loadtest"}},
		"oidc links the test passkeys": {path: "internal/oidc", deps: []string{"internal/passkey/passkeytest"}},
	} {
		if v := violations(append(slices.Clone(good), bad)); len(v) == 0 {
			t.Errorf("%s: no violation reported", name)
		}
	}
}
