package main

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

// TestUsageListsEveryFlag runs every command with --help, sees the flags it defines, and
// requires each to be named in that command's usage lines (--data, --database and --json in the
// text under them, which every command takes).
func TestUsageListsEveryFlag(t *testing.T) {
	for _, common := range []string{"--data DIR", "--database URL", "--json"} {
		if !strings.Contains(usage[strings.Index(usage, "Every command takes"):], common) {
			t.Errorf("usage does not say every command takes %s", common)
		}
	}
	var lines []string
	for l := range strings.SplitSeq(usage, "\n") {
		if strings.HasPrefix(l, "  latchkey ") {
			lines = append(lines, strings.TrimPrefix(l, "  "))
		}
	}
	for _, cmd := range [][]string{
		{"serve"}, {"user", "add"}, {"user", "list"}, {"user", "show"}, {"user", "set"},
		{"user", "disable"}, {"user", "enable"}, {"user", "delete"},
		{"group", "add"}, {"group", "add-member"}, {"group", "remove-member"}, {"group", "rename"}, {"group", "delete"}, {"group", "list"},
		{"role", "assign"}, {"role", "remove"}, {"role", "list"},
		{"unit", "add"}, {"unit", "add-member"}, {"unit", "list"},
		{"tap", "issue"}, {"mds", "import"}, {"mds", "show"}, {"passkey", "inspect"},
		{"policy", "show"}, {"policy", "set"}, {"policy", "profile", "add"}, {"policy", "profile", "remove"},
		{"policy", "ca", "list"}, {"policy", "ca", "show"}, {"policy", "ca", "remove"}, {"policy", "ca", "add"},
		{"policy", "ca", "set"}, {"policy", "ca", "state"},
		{"policy", "strength", "list"}, {"policy", "strength", "add"}, {"policy", "strength", "remove"},
		{"policy", "location", "list"}, {"policy", "location", "add"}, {"policy", "location", "remove"},
		{"policy", "lint"}, {"policy", "whatif"},
		{"app", "add"}, {"app", "list"}, {"app", "remove"}, {"keys", "list"}, {"keys", "rotate"},
		{"token", "create"}, {"token", "list"}, {"token", "revoke"}, {"mail", "test"}, {"loadtest"},
		{"recovery", "idv", "set"}, {"recovery", "idv", "show"},
	} {
		name := strings.Join(cmd, " ")
		var defined []string
		parsingFlags = func(fs *flag.FlagSet) {
			fs.VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })
		}
		out, _, code := run(t, append(cmd, "--help")...)
		parsingFlags = nil
		if code != 0 || !strings.Contains(out, "Usage:") || len(defined) == 0 {
			t.Errorf("%s --help: exit %d, %d flags seen; want the usage and exit 0", name, code, len(defined))
			continue
		}
		// The command's lines: they start with its first word and name every other word.
		var text string
		for _, l := range lines {
			words := strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '|' || r == '[' || r == ']' })
			if words[1] == cmd[0] && !slices.ContainsFunc(cmd[1:], func(w string) bool { return !slices.Contains(words, w) }) {
				text += l + "\n"
			}
		}
		if text == "" {
			t.Errorf("%s: no usage line", name)
			continue
		}
		for _, f := range defined {
			if f == "data" || f == "database" || f == "json" {
				continue
			}
			if !strings.Contains(text, "--"+f+" ") && !strings.Contains(text, "--"+f+"]") && !strings.HasSuffix(strings.TrimSpace(text), "--"+f) {
				t.Errorf("%s: the usage does not list --%s:\n%s", name, f, text)
			}
		}
	}
}
