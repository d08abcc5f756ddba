package scim

import (
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// PATCH (RFC 7644 §3.5.2) is applied to the resource's SCIM document, the same map GET
// returns, and the document is then read back as a POST body is read. Beyond the RFC it takes
// what Entra and Okta send: op in any case; a path-less value object whose keys are paths
// ("name.givenName", "urn:...:enterprise:2.0:User:employeeNumber") or nested objects;
// add/replace on emails[type eq "work"].value when there is no work address yet (it is made);
// remove on members with a value list (only those members go); manager as a string, an object
// or a one-element array; a null or empty value on replace as a removal.

// patchOp is one operation of a PatchOp request.
type patchOp struct {
	op       string // "add", "replace" or "remove"
	path     string
	value    any
	hasValue bool
}

// readPatch reads the operations of a PatchOp body.
func readPatch(body map[string]any) ([]patchOp, error) {
	raw, ok := get(body, "Operations").([]any)
	if !ok || len(raw) == 0 {
		return nil, invalid(CodeInvalidSyntax, "The request has no Operations.", "PatchOp without an Operations array")
	}
	ops := make([]patchOp, 0, len(raw))
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, invalid(CodeInvalidSyntax, "Each operation must be an object.", fmt.Sprintf("Operations[%d] is not an object", i))
		}
		op, _ := get(m, "op").(string)
		op = strings.ToLower(strings.TrimSpace(op))
		if op != "add" && op != "replace" && op != "remove" {
			return nil, invalid(CodeInvalidSyntax, "An operation must be add, replace or remove.", fmt.Sprintf("Operations[%d].op is %q", i, clip(op)))
		}
		path, isString := get(m, "path").(string)
		if !isString && get(m, "path") != nil {
			return nil, invalid(CodeInvalidPath, "An operation's path must be a string.", fmt.Sprintf("Operations[%d].path is not a string", i))
		}
		_, hasValue := getKey(m, "value")
		ops = append(ops, patchOp{op: op, path: strings.TrimSpace(path), value: get(m, "value"), hasValue: hasValue})
	}
	return ops, nil
}

// apply applies op to doc, a resource document of rt.
func (op patchOp) apply(rt *resourceType, doc map[string]any) error {
	if op.path != "" {
		return applyPath(rt, doc, op.op, op.path, op.value, op.hasValue)
	}
	if op.op == "remove" {
		return invalid(CodeNoTarget, "A remove operation needs a path.", "remove without path")
	}
	obj, ok := op.value.(map[string]any)
	if !ok {
		return invalid(CodeInvalidValue, "An operation without a path needs an object as its value.", "path-less "+op.op+" with a non-object value")
	}
	for k, v := range obj {
		sub, isObj := v.(map[string]any)
		if ext := rt.extension(k); ext != nil && isObj {
			for sk, sv := range sub {
				if err := applyPath(rt, doc, op.op, ext.id+":"+sk, sv, true); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyPath(rt, doc, op.op, k, v, true); err != nil {
			return err
		}
	}
	return nil
}

// parsePatchPath reads a PATCH path: attrPath [ "[" filter "]" [ "." subAttr ] ]. known is false
// for an attribute Latchkey does not keep.
func parsePatchPath(rt *resourceType, s string) (p attrPath, f *filter, known bool, err error) {
	if len(s) > maxFilterLength {
		return p, nil, false, invalid(CodeInvalidPath, "The path is too long.", "path longer than the limit")
	}
	bad := func(e error) error {
		return invalid(CodeInvalidPath, "The path could not be read: "+e.Error()+".", fmt.Sprintf("path %q: %v", clip(s), e))
	}
	toks, err := tokenize(s)
	if err != nil || len(toks) == 0 || toks[0].quoted {
		return p, nil, false, bad(fmt.Errorf("it is not an attribute path"))
	}
	ps := &parser{rt: rt, toks: toks, pos: 1}
	var ok bool
	if p, ok = rt.resolve(toks[0].text); !ok {
		return p, nil, false, nil
	}
	if ps.keyword("[") {
		if p.sub != nil || p.attr.typ != attrTypeComplex {
			return p, nil, false, bad(fmt.Errorf("%s cannot be filtered", toks[0].text))
		}
		br, err := (&parser{rt: rt, toks: toks, pos: ps.pos, parent: &p}).bracket()
		if err != nil {
			return p, nil, false, bad(err)
		}
		ps.pos, f = br.pos, br.f
		if t, ok := ps.peek(); ok && !t.quoted && strings.HasPrefix(t.text, ".") {
			ps.pos++
			if p.sub = find(p.attr.sub, t.text[1:]); p.sub == nil {
				return p, nil, false, nil
			}
		}
	}
	if t, ok := ps.peek(); ok {
		return p, nil, false, bad(fmt.Errorf("unexpected %q", t.text))
	}
	return p, f, true, nil
}

// applyPath applies one operation on the attribute path s with value to doc.
func applyPath(rt *resourceType, doc map[string]any, op, s string, value any, hasValue bool) error {
	p, f, known, err := parsePatchPath(rt, s)
	if err != nil || !known {
		return err // an attribute Latchkey does not keep is ignored
	}
	a := p.attr
	if a.mutability == "readOnly" {
		if a.name == "id" && op != "remove" {
			if id, ok := value.(string); ok && id != doc["id"] {
				return invalid(CodeMutability, "The id of a resource cannot change.", fmt.Sprintf("id %q is not %v", clip(id), doc["id"]))
			}
		}
		return nil // meta, groups, a matching id: ignored
	}
	if a.name == "manager" && p.sub == nil {
		value = managerValue(value)
	}
	// A null value removes; so does an empty one on a complex attribute or one of its
	// sub-attributes (Entra clears the manager with an empty replace).
	if op != "remove" && (value == nil || value == "" && a.typ == attrTypeComplex) {
		op, hasValue = "remove", false
	}
	c := container(doc, p)
	if c == nil {
		if op == "remove" {
			return nil
		}
		c = map[string]any{}
		doc[p.urn] = c
	}
	if op == "remove" {
		remove(c, p, f, value, hasValue)
		return nil
	}
	switch {
	case f != nil:
		setFiltered(c, p, f, op, value)
	case p.sub != nil:
		elems := asElements(c[a.name])
		if len(elems) == 0 {
			elems = []map[string]any{{}}
		}
		for _, e := range elems {
			e[p.sub.name] = value
		}
		storeElements(c, a, elems)
	case a.multi:
		items := asElements(value)
		if op == "add" {
			items = append(asElements(c[a.name]), items...)
		}
		storeElements(c, a, items)
	case a.typ == attrTypeComplex:
		m, ok := value.(map[string]any)
		if !ok {
			return invalid(CodeInvalidValue, a.name+" must be an object.", fmt.Sprintf("%s value is %T", a.name, value))
		}
		cur, _ := c[a.name].(map[string]any)
		if cur == nil || a.name == "manager" {
			cur = map[string]any{}
		}
		for k, v := range m {
			if sub := find(a.sub, k); sub != nil {
				cur[sub.name] = v
			}
		}
		c[a.name] = cur
	default:
		c[a.name] = value
	}
	return nil
}

// remove removes what p (and filter f, or Entra's value list) names from c.
func remove(c map[string]any, p attrPath, f *filter, value any, hasValue bool) {
	a := p.attr
	elems := asElements(c[a.name])
	switch {
	case f != nil || (a.multi && hasValue && p.sub == nil):
		keep := elems[:0:0]
		for _, e := range elems {
			hit := f != nil && f.eval(nil, e)
			if f == nil {
				hit = valueListed(value, e["value"])
			}
			switch {
			case hit && p.sub != nil:
				delete(e, p.sub.name)
				keep = append(keep, e)
			case !hit:
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 && !a.multi {
			delete(c, a.name)
			return
		}
		storeElements(c, a, keep)
	case p.sub != nil:
		for _, e := range elems {
			delete(e, p.sub.name)
		}
		storeElements(c, a, elems)
	default:
		delete(c, a.name)
	}
}

// setFiltered sets the elements that f selects, or makes one from f's equalities when none
// matches (Entra's add/replace on emails[type eq "work"].value for a person without one).
func setFiltered(c map[string]any, p attrPath, f *filter, op string, value any) {
	a := p.attr
	elems := asElements(c[a.name])
	hit := false
	for _, e := range elems {
		if f.eval(nil, e) {
			hit = true
			setElement(e, p, value)
		}
	}
	if !hit {
		e := map[string]any{}
		equalities(f, e)
		setElement(e, p, value)
		if a.multi {
			elems = append(elems, e)
		} else {
			elems = []map[string]any{e}
		}
	}
	storeElements(c, a, elems)
}

func setElement(e map[string]any, p attrPath, value any) {
	if p.sub != nil {
		e[p.sub.name] = value
		return
	}
	if m, ok := value.(map[string]any); ok {
		for k, v := range m {
			if sub := find(p.attr.sub, k); sub != nil {
				e[sub.name] = v
			}
		}
	}
}

// equalities copies the sub-attribute equalities of a value filter into e.
func equalities(f *filter, e map[string]any) {
	switch f.kind {
	case fAnd:
		equalities(f.l, e)
		equalities(f.r, e)
	case fCompare:
		if f.op == "eq" && f.elem && f.path.sub != nil {
			e[f.path.sub.name] = f.value
		}
	}
}

// valueListed reports whether v is the "value" of one of the objects in list (or list itself).
func valueListed(list, v any) bool {
	for _, e := range asElements(list) {
		if s, ok := e["value"].(string); ok && s == v {
			return true
		}
	}
	return false
}

// asElements reads a multi-valued (or single complex) value as its objects.
func asElements(v any) []map[string]any {
	switch x := v.(type) {
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	case []map[string]any:
		return x
	case map[string]any:
		return []map[string]any{x}
	}
	return nil
}

// storeElements puts elems back: a list for a multi-valued attribute, the one object (or
// nothing) for a single complex one.
func storeElements(c map[string]any, a *attr, elems []map[string]any) {
	if a.multi {
		list := make([]any, len(elems))
		for i, e := range elems {
			list[i] = e
		}
		c[a.name] = list
		return
	}
	if len(elems) == 0 {
		delete(c, a.name)
		return
	}
	c[a.name] = elems[0]
}

// managerValue reads the manager as Entra and Okta send it: an id string, {"value": id}, or
// [{"value": id, "$ref": ...}]; nil for none.
func managerValue(v any) any {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return map[string]any{"value": x}
	case []any:
		if len(x) == 0 {
			return nil
		}
		return managerValue(x[0])
	case map[string]any:
		if s, _ := get(x, "value").(string); s != "" {
			return map[string]any{"value": s}
		}
		return nil
	}
	return v
}

// getKey returns m's value for key in any case (attribute names are case-insensitive).
func getKey(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// get returns m's value for key in any case, nil when absent.
func get(m map[string]any, key string) any {
	v, _ := getKey(m, key)
	return v
}

// invalid is a 400 refusal with a SCIM code.
func invalid(code, message, detail string) error {
	return latchkey.Errorf(latchkey.EINVALID, code, message, "%s", detail)
}
