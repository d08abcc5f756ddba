package latchkey

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateName refuses the garbage of the hardening issue and accepts real names of any
// script, as given.
func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"plain", "Engineering", true},
		{"accents and scripts", "Équipe Ωμέγα 東京 Ölçü", true},
		{"inner spaces", "Sales and marketing", true},
		{"emoji", "Team 🚀", true},
		{"256 characters", strings.Repeat("é", 256), true},
		{"257 characters", strings.Repeat("é", 257), false},
		{"60,000 characters", strings.Repeat("a", 60000), false},
		{"empty", "", false},
		{"spaces only", "   ", false},
		{"leading space", " Sales", false},
		{"trailing space", "Sales ", false},
		{"trailing no-break space", "Sales\u00a0", false},
		{"NUL", "Sa\x00les", false},
		{"CRLF", "Sales\r\nX-Injected: 1", false},
		{"tab", "Sa\tles", false},
		{"DEL", "Sales\x7f", false},
		{"C1", "Sales\u0085", false},
		{"zero-width space", "Sa\u200bles", false},
		{"zero-width joiner", "Sa\u200dles", false},
		{"word joiner", "Sa\u2060les", false},
		{"byte order mark", "\ufeffSales", false},
		{"right-to-left override", "Sales\u202egnp.exe", false},
		{"left-to-right embedding", "\u202aSales", false},
		{"isolate", "Sales\u2067", false},
		{"right-to-left mark", "Sales\u200f", false},
		{"Arabic letter mark", "Sales\u061c", false},
		{"line separator", "Sales\u2028", false},
		{"replacement character", "Sales\ufffd", false},
		{"invalid UTF-8", "Sales\xff", false},
		{"truncated UTF-8", "Sales\xc3", false},
	} {
		err := ValidateName("group name", tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("%s: ValidateName = %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		e := &Error{}
		if !IsKind(err, EINVALID) || ErrorCode(err) != "invalid_name" {
			t.Errorf("%s: %v, want EINVALID invalid_name", tc.name, err)
		} else if errors.As(err, &e); e.Message == "" || e.Detail == "" || !strings.Contains(e.Message, "group name") {
			t.Errorf("%s: refusal %+v lacks a plain sentence naming the group name or a detail", tc.name, e)
		}
		if len(e.Detail) > 300 {
			t.Errorf("%s: detail of %d bytes repeats the whole input", tc.name, len(e.Detail))
		}
	}
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"block-legacy", "tier0", "phishing_resistant.v2~x", strings.Repeat("a", 128)} {
		if err := ValidateID("policy id", id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", "a b", "a/b", "..", ".", "a\x00", "é", "a?b", "a#b", "%2F", strings.Repeat("a", 129)} {
		if err := ValidateID("policy id", id); ErrorCode(err) != "invalid_id" {
			t.Errorf("%q: %v, want invalid_id", id, err)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	deep := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	for name, tc := range map[string]struct {
		body   string
		object bool
		code   string
	}{
		"object":                {`{"a":{"b":[1,2,{"c":"[[[["}]}}`, true, ""},
		"64 levels":             {strings.Repeat("[", 63) + "{}" + strings.Repeat("]", 63), false, ""},
		"65 levels":             {strings.Repeat("[", 65) + strings.Repeat("]", 65), false, "json_too_deep"},
		"9,000 levels":          {`{"a":` + deep + `}`, true, "json_too_deep"},
		"brackets in a string":  {`{"a":"` + strings.Repeat("[", 100) + `\"` + strings.Repeat("{", 100) + `"}`, true, ""},
		"invalid UTF-8":         {"{\"a\":\"\xff\"}", true, "malformed_json"},
		"null":                  {"null", true, "wrong_type"},
		"array":                 {" [] ", true, "wrong_type"},
		"string":                {`"x"`, true, "wrong_type"},
		"empty (decoder's job)": {"", true, ""},
	} {
		check := CheckJSONText
		if tc.object {
			check = CheckJSONObject
		}
		err := check([]byte(tc.body))
		if err != nil {
			if ErrorCode(err) != tc.code || !IsKind(err, EINVALID) {
				t.Errorf("%s: %v, want %q", name, err, tc.code)
			}
		} else if tc.code != "" {
			t.Errorf("%s: accepted, want %q", name, tc.code)
		}
	}
}
