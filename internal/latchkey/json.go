package latchkey

import (
	"bytes"
	"unicode/utf8"
)

// MaxJSONDepth is the deepest nesting of objects and arrays a JSON document may have. Latchkey's
// deepest document, a conditional access policy, needs 4.
const MaxJSONDepth = 64

// CheckJSONText refuses a JSON document that is not UTF-8 (RFC 8259 §8.1; a decoder would
// silently turn the broken bytes into U+FFFD) or that nests objects and arrays deeper than
// MaxJSONDepth, before anything decodes it. It does not check that the document is well-formed.
func CheckJSONText(b []byte) error {
	if !utf8.Valid(b) {
		return Errorf(EINVALID, "malformed_json", "The request is not valid JSON: it must be UTF-8 text.", "the body is not valid UTF-8")
	}
	depth, inString, escaped := 0, false, false
	for i, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > MaxJSONDepth {
				return Errorf(EINVALID, "json_too_deep", "The request is nested too deeply.",
					"objects and arrays nest deeper than %d levels (at byte %d)", MaxJSONDepth, i)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// CheckJSONObject is CheckJSONText for a document that must be one JSON object: null, an array,
// a string or a number is refused rather than read as "nothing changed" or "all defaults".
func CheckJSONObject(b []byte) error {
	if err := CheckJSONText(b); err != nil {
		return err
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		got := t
		if len(got) > 16 {
			got = got[:16]
		}
		return Errorf(EINVALID, "wrong_type", "The request must be a JSON object, in braces { }.", "the body must be a JSON object, got %q", got)
	}
	return nil
}
