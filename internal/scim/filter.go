package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// The filter grammar of RFC 7644 §3.4.2.2, with what Entra and Okta send beyond it: the
// operators and attribute names in any case, a value path followed by a sub-attribute and a
// comparison (`emails[type eq "work"].value eq "a@b"`, which Entra's matching needs), and
// unquoted values (`externalId eq jyoung`, `id eq 54D3 and manager eq 2819`).

// filter is a parsed filter expression.
type filter struct {
	kind  filterKind
	l, r  *filter // and, or; l alone for not
	path  attrPath
	elem  bool // path is a sub-attribute of the enclosing value path's element
	op    string
	value any     // string, bool, float64 or nil
	inner *filter // valuePath
}

type filterKind int

const (
	fAnd filterKind = iota
	fOr
	fNot
	fCompare
	fPresent
	fValuePath
)

// maxFilterLength bounds a filter or path; real ones are well under it.
const maxFilterLength = 4096

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

// token is one lexical token: a punctuation mark, a quoted string or a word.
type token struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.IndexByte("()[]", c) >= 0:
			out = append(out, token{text: s[i : i+1]})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at byte %d", i)
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, fmt.Errorf("bad string at byte %d", i)
			}
			out = append(out, token{text: v, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n()[]\"", s[j]) < 0 {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// parser reads a token list for resource type rt.
type parser struct {
	rt   *resourceType
	toks []token
	pos  int
	// parent is the multi-valued attribute whose element a bracketed filter looks at, or nil.
	parent *attrPath
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *parser) next() (token, bool) {
	t, ok := p.peek()
	if ok {
		p.pos++
	}
	return t, ok
}

// keyword reports whether the next token is the unquoted word w (in any case) and consumes it.
func (p *parser) keyword(w string) bool {
	if t, ok := p.peek(); ok && !t.quoted && strings.EqualFold(t.text, w) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(w string) error {
	if !p.keyword(w) {
		return fmt.Errorf("expected %q", w)
	}
	return nil
}

// parseFilter parses a filter for rt; the error is a 400 invalidFilter.
func parseFilter(rt *resourceType, s string) (*filter, error) {
	f, err := parseFilterText(rt, s)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, CodeInvalidFilter, "The filter could not be read: "+err.Error()+".", "filter %q: %v", clip(s), err)
	}
	return f, nil
}

func parseFilterText(rt *resourceType, s string) (*filter, error) {
	if len(s) > maxFilterLength {
		return nil, fmt.Errorf("it is longer than %d characters", maxFilterLength)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{rt: rt, toks: toks}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if t, ok := p.peek(); ok {
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
	return f, nil
}

func (p *parser) or() (*filter, error) {
	l, err := p.and()
	for err == nil && p.keyword("or") {
		var r *filter
		if r, err = p.and(); err == nil {
			l = &filter{kind: fOr, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (*filter, error) {
	l, err := p.not()
	for err == nil && p.keyword("and") {
		var r *filter
		if r, err = p.not(); err == nil {
			l = &filter{kind: fAnd, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (*filter, error) {
	if t, ok := p.peek(); ok && !t.quoted && strings.EqualFold(t.text, "not") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].text == "(" {
		p.pos++
		f, err := p.atom()
		return &filter{kind: fNot, l: f}, err
	}
	return p.atom()
}

func (p *parser) atom() (*filter, error) {
	if p.keyword("(") {
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		return f, p.expect(")")
	}
	t, ok := p.next()
	if !ok {
		return nil, fmt.Errorf("it ends too early")
	}
	if t.quoted || strings.IndexByte("()[]", t.text[0]) >= 0 {
		return nil, fmt.Errorf("expected an attribute, found %q", t.text)
	}
	path, elem, err := p.path(t.text)
	if err != nil {
		return nil, err
	}
	if p.keyword("[") {
		if p.parent != nil || !path.attr.multi && path.attr.typ != attrTypeComplex {
			return nil, fmt.Errorf("%s cannot be filtered with [ ]", t.text)
		}
		inner, err := (&parser{rt: p.rt, toks: p.toks, pos: p.pos, parent: &path}).bracket()
		if err != nil {
			return nil, err
		}
		p.pos = inner.pos
		vp := &filter{kind: fValuePath, path: path, inner: inner.f}
		// Entra: emails[type eq "work"].value eq "a@b"
		if t, ok := p.peek(); ok && !t.quoted && strings.HasPrefix(t.text, ".") {
			p.pos++
			sub := find(path.attr.sub, t.text[1:])
			if sub == nil {
				return nil, fmt.Errorf("%s has no sub-attribute %s", path.attr.name, t.text[1:])
			}
			c, err := p.comparison(attrPath{urn: path.urn, attr: path.attr, sub: sub}, true)
			if err != nil {
				return nil, err
			}
			vp.inner = &filter{kind: fAnd, l: vp.inner, r: c}
		}
		return vp, nil
	}
	return p.comparison(path, elem)
}

// bracketResult is a parsed bracketed filter and the position after its "]".
type bracketResult struct {
	f   *filter
	pos int
}

func (p *parser) bracket() (bracketResult, error) {
	f, err := p.or()
	if err != nil {
		return bracketResult{}, err
	}
	return bracketResult{f: f, pos: p.pos}, p.expect("]")
}

// path resolves an attribute name, relative to the enclosing value path's attribute inside
// brackets.
func (p *parser) path(name string) (attrPath, bool, error) {
	if p.parent != nil {
		sub := find(p.parent.attr.sub, name)
		if sub == nil {
			return attrPath{}, false, fmt.Errorf("%s has no sub-attribute %s", p.parent.attr.name, name)
		}
		return attrPath{urn: p.parent.urn, attr: p.parent.attr, sub: sub}, true, nil
	}
	ap, ok := p.rt.resolve(name)
	if !ok {
		return attrPath{}, false, fmt.Errorf("%s is not an attribute Latchkey can filter on", name)
	}
	return ap, false, nil
}

// comparison reads "pr" or an operator and a value after path.
func (p *parser) comparison(path attrPath, elem bool) (*filter, error) {
	t, ok := p.next()
	if !ok || t.quoted {
		return nil, fmt.Errorf("expected an operator after the attribute")
	}
	op := strings.ToLower(t.text)
	if op == "pr" {
		return &filter{kind: fPresent, path: path, elem: elem}, nil
	}
	if !compareOps[op] {
		return nil, fmt.Errorf("%q is not an operator", t.text)
	}
	v, ok := p.next()
	if !ok || (!v.quoted && strings.IndexByte("()[]", v.text[0]) >= 0) {
		return nil, fmt.Errorf("expected a value after %s", t.text)
	}
	f := &filter{kind: fCompare, path: path, elem: elem, op: op, value: v.text}
	if !v.quoted {
		switch strings.ToLower(v.text) {
		case "true":
			f.value = true
		case "false":
			f.value = false
		case "null":
			f.value = nil
		default:
			if n, err := strconv.ParseFloat(v.text, 64); err == nil && path.attr.typ != attrTypeString && (path.sub == nil || path.sub.typ != attrTypeString) {
				f.value = n
			}
		}
	}
	return f, nil
}

// matches reports whether the resource doc (see userDoc, groupDoc) passes f.
func (f *filter) matches(doc map[string]any) bool { return f.eval(doc, nil) }

func (f *filter) eval(doc, elem map[string]any) bool {
	switch f.kind {
	case fAnd:
		return f.l.eval(doc, elem) && f.r.eval(doc, elem)
	case fOr:
		return f.l.eval(doc, elem) || f.r.eval(doc, elem)
	case fNot:
		return !f.l.eval(doc, elem)
	case fValuePath:
		for _, e := range elements(doc, f.path) {
			if f.inner.eval(doc, e) {
				return true
			}
		}
		return false
	}
	var vals []any
	if f.elem && elem != nil {
		if v, ok := elem[f.path.sub.name]; ok && v != nil {
			vals = []any{v}
		}
	} else {
		vals = values(doc, f.path)
	}
	if f.kind == fPresent {
		for _, v := range vals {
			if s, ok := v.(string); !ok || s != "" {
				return true
			}
		}
		return false
	}
	exact := f.path.attr.caseExact
	if f.path.sub != nil {
		exact = f.path.sub.caseExact
	}
	if f.op == "ne" {
		return !anyCompare(vals, "eq", f.value, exact)
	}
	if f.value == nil {
		return f.op == "eq" && len(vals) == 0
	}
	return anyCompare(vals, f.op, f.value, exact)
}

func anyCompare(vals []any, op string, want any, exact bool) bool {
	for _, v := range vals {
		if compare(v, op, want, exact) {
			return true
		}
	}
	return false
}

// compare applies op to one attribute value and the filter's value.
func compare(v any, op string, want any, exact bool) bool {
	if b, ok := v.(bool); ok {
		w, ok := boolOf(want)
		return ok && op == "eq" && b == w
	}
	s, w := fmt.Sprint(v), fmt.Sprint(want)
	if !exact {
		s, w = strings.ToLower(s), strings.ToLower(w)
	}
	switch op {
	case "eq":
		return s == w
	case "co":
		return strings.Contains(s, w)
	case "sw":
		return strings.HasPrefix(s, w)
	case "ew":
		return strings.HasSuffix(s, w)
	case "gt":
		return s > w
	case "ge":
		return s >= w
	case "lt":
		return s < w
	case "le":
		return s <= w
	}
	return false
}

// container returns the map that holds p's attribute in doc: doc itself, or its extension's.
func container(doc map[string]any, p attrPath) map[string]any {
	if p.urn == "" || p.urn == SchemaUser || p.urn == SchemaGroup {
		return doc
	}
	m, _ := doc[p.urn].(map[string]any)
	return m
}

// elements returns the complex values of p's attribute: each element of a multi-valued one,
// the one value of a single complex one.
func elements(doc map[string]any, p attrPath) []map[string]any {
	var out []map[string]any
	switch v := container(doc, p)[p.attr.name].(type) {
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case map[string]any:
		out = append(out, v)
	}
	return out
}

// values returns the values a comparison on p looks at: the attribute's, its sub-attribute's
// in each element, or for a complex attribute named alone the "value" of each element.
func values(doc map[string]any, p attrPath) []any {
	if p.attr.typ != attrTypeComplex {
		if v, ok := container(doc, p)[p.attr.name]; ok && v != nil {
			return []any{v}
		}
		return nil
	}
	sub := "value"
	if p.sub != nil {
		sub = p.sub.name
	}
	var out []any
	for _, e := range elements(doc, p) {
		if v, ok := e[sub]; ok && v != nil {
			out = append(out, v)
		}
	}
	return out
}

// boolOf reads a boolean as Entra sends it: true, or "True", "true", "False", "false".
func boolOf(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// clip shortens s for an admin's detail.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
