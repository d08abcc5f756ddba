package provisioning

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Redacted stands in for every value the log does not keep.
const Redacted = "[redacted]"

// notJSON is what the log keeps of a refused request's body that is not JSON: without its
// structure the passwords in it cannot be found, so none of it is kept.
const notJSON = "[not kept: the body is not JSON]"

// truncated ends a body cut at latchkey.MaxProvisioningBody.
const truncated = " …[cut: longer than 8 KiB]"

// secretQueryParams are query parameters whose values the log never keeps.
var secretQueryParams = []string{"password", "access_token", "token"}

// jsonValue is a JSON value that keeps the order of object members, so that the redacted body
// reads as the client sent it.
type jsonValue struct {
	obj    []jsonMember
	arr    []*jsonValue
	isObj  bool
	isArr  bool
	scalar any // string, json.Number, bool or nil
}

type jsonMember struct {
	key string
	val *jsonValue
}

var errTooDeep = errors.New("json nests too deep")

// parseJSON reads one JSON document, keeping the order of object members.
func parseJSON(body []byte) (*jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON document")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (*jsonValue, error) {
	if depth > latchkey.MaxJSONDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return &jsonValue{scalar: tok}, nil
	}
	v := &jsonValue{isObj: d == '{', isArr: d == '['}
	for dec.More() {
		var key string
		if v.isObj {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ = k.(string)
		}
		item, err := parseValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		if v.isObj {
			v.obj = append(v.obj, jsonMember{key, item})
		} else {
			v.arr = append(v.arr, item)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return nil, err
	}
	return v, nil
}

// namesPassword reports whether a SCIM attribute path names the password ("password",
// "PASSWORD", "urn:ietf:params:scim:schemas:core:2.0:User:password").
func namesPassword(path string) bool {
	path = strings.TrimSpace(path)
	if i := strings.LastIndexByte(path, ':'); i >= 0 {
		path = path[i+1:]
	}
	return strings.EqualFold(path, "password")
}

// redact replaces, at any depth, the value of every member named password (in any case) and
// the value of a SCIM PATCH operation whose path names the password. It returns the text of
// every string it removed, so that the caller can remove them wherever else they appear.
func (v *jsonValue) redact() (removed []string) {
	switch {
	case v.isObj:
		patchesPassword := false
		for _, m := range v.obj {
			if s, ok := m.val.scalar.(string); ok && strings.EqualFold(m.key, "path") && namesPassword(s) {
				patchesPassword = true
			}
		}
		for i, m := range v.obj {
			if strings.EqualFold(m.key, "password") || patchesPassword && strings.EqualFold(m.key, "value") {
				removed = append(removed, m.val.strings()...)
				v.obj[i].val = &jsonValue{scalar: Redacted}
				continue
			}
			removed = append(removed, m.val.redact()...)
		}
	case v.isArr:
		for _, item := range v.arr {
			removed = append(removed, item.redact()...)
		}
	}
	return removed
}

// strings returns every string value in v (not the keys: a key such as "value" is no secret,
// and removing it everywhere would garble the body).
func (v *jsonValue) strings() []string {
	var out []string
	if s, ok := v.scalar.(string); ok {
		out = append(out, s)
	}
	for _, m := range v.obj {
		out = append(out, m.val.strings()...)
	}
	for _, item := range v.arr {
		out = append(out, item.strings()...)
	}
	return out
}

// scrub replaces every secret in every string of v, keys included.
func (v *jsonValue) scrub(secrets []string) {
	if s, ok := v.scalar.(string); ok {
		v.scalar = scrubText(s, secrets)
	}
	for i := range v.obj {
		v.obj[i].key = scrubText(v.obj[i].key, secrets)
		v.obj[i].val.scrub(secrets)
	}
	for _, item := range v.arr {
		item.scrub(secrets)
	}
}

// encode writes v as compact JSON, without escaping <, > and & (the page escapes for HTML).
func (v *jsonValue) encode(b *bytes.Buffer) {
	switch {
	case v.isObj:
		b.WriteByte('{')
		for i, m := range v.obj {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeString(b, m.key)
			b.WriteByte(':')
			m.val.encode(b)
		}
		b.WriteByte('}')
	case v.isArr:
		b.WriteByte('[')
		for i, item := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			item.encode(b)
		}
		b.WriteByte(']')
	default:
		switch s := v.scalar.(type) {
		case string:
			encodeString(b, s)
		case json.Number:
			b.WriteString(s.String())
		case bool:
			if s {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		default:
			b.WriteString("null")
		}
	}
}

func encodeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

// scrubText replaces every occurrence of a secret in s. Secrets of fewer than 4 bytes are left:
// replacing every "a" would make the text unreadable and protects nothing.
func scrubText(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// RedactBody returns what the log keeps of a refused request's body: the JSON with every
// password removed (see jsonValue.redact) and every secret replaced, cut at
// latchkey.MaxProvisioningBody; notJSON for a body that is not one JSON document. It also
// returns the password values it removed, for the caller to remove from the rest of the
// record.
func RedactBody(body []byte, secrets []string) (string, []string) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	v, err := parseJSON(body)
	if err != nil {
		return notJSON, nil
	}
	removed := v.redact()
	v.scrub(append(removed, secrets...))
	var b bytes.Buffer
	v.encode(&b)
	return capText(b.String(), latchkey.MaxProvisioningBody), removed
}

// capText cuts s to at most limit bytes, at a character boundary, saying that it did.
func capText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(truncated)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncated
}

// RedactURI returns the request's path and query as the log keeps them: the values of secret
// query parameters replaced, and every secret removed.
func RedactURI(u *url.URL, secrets []string) string {
	out := u.EscapedPath()
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return out + "?" + Redacted
		}
		for k := range q {
			for _, name := range secretQueryParams {
				if strings.EqualFold(k, name) {
					q[k] = []string{Redacted}
				}
			}
		}
		out += "?" + q.Encode()
	}
	// A secret may also appear escaped in the URI.
	for _, sec := range secrets {
		out = scrubText(out, []string{sec, url.QueryEscape(sec), url.PathEscape(sec)})
	}
	return out
}
