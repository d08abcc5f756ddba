package scim

import "strings"

// Schema and message URNs (RFC 7643, RFC 7644, and Latchkey's own extension).
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// SchemaLatchkey is Latchkey's user extension: the start date.
	SchemaLatchkey = "urn:ietf:params:scim:schemas:extension:latchkey:2.0:User"
	SchemaGroup    = "urn:ietf:params:scim:schemas:core:2.0:Group"

	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	schemaResource   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSPConfig   = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	contentType      = "application/scim+json"
	contentTypeUTF8  = "application/scim+json; charset=utf-8"
	resourceUser     = "User"
	resourceGroup    = "Group"
	attrTypeString   = "string"
	attrTypeBoolean  = "boolean"
	attrTypeComplex  = "complex"
	attrTypeDateTime = "dateTime"
	attrTypeRef      = "reference"
)

// attr describes one attribute Latchkey keeps: it drives /Schemas, the resolution of PATCH
// paths and the attributes a filter may name.
type attr struct {
	name       string
	typ        string
	multi      bool
	caseExact  bool
	required   bool
	mutability string // "" is readWrite
	uniqueness string // "" is none
	desc       string
	sub        []attr
}

// schema is one schema of a resource type: its URN and attributes.
type schema struct {
	id, name, desc string
	attrs          []attr
}

// common attributes every resource has (RFC 7643 §3.1); they are in no schema's list.
var commonAttrs = []attr{
	{name: "id", typ: attrTypeString, caseExact: true, mutability: "readOnly", uniqueness: "server", desc: "Latchkey's id, assigned on creation."},
	{name: "externalId", typ: attrTypeString, caseExact: true, desc: "The provisioning client's id, kept as sent."},
	{name: "meta", typ: attrTypeComplex, mutability: "readOnly", desc: "Resource metadata.", sub: []attr{
		{name: "resourceType", typ: attrTypeString, mutability: "readOnly"},
		{name: "created", typ: attrTypeDateTime, mutability: "readOnly"},
		{name: "lastModified", typ: attrTypeDateTime, mutability: "readOnly"},
		{name: "location", typ: attrTypeRef, mutability: "readOnly"},
	}},
}

var userSchema = schema{id: SchemaUser, name: "User", desc: "A person who signs in to Latchkey.", attrs: []attr{
	{name: "userName", typ: attrTypeString, required: true, uniqueness: "server", desc: "The user principal name; unique regardless of case."},
	{name: "name", typ: attrTypeComplex, desc: "The person's name.", sub: []attr{
		{name: "formatted", typ: attrTypeString, mutability: "readOnly", desc: "Given and family name."},
		{name: "givenName", typ: attrTypeString},
		{name: "familyName", typ: attrTypeString},
	}},
	{name: "displayName", typ: attrTypeString, desc: "The name shown for the person."},
	{name: "active", typ: attrTypeBoolean, desc: "false turns the account off: every session ends and the pass is revoked."},
	{name: "emails", typ: attrTypeComplex, multi: true, desc: `Mail addresses: type "work" is the person's mail, type "home" a personal address.`, sub: []attr{
		{name: "value", typ: attrTypeString},
		{name: "type", typ: attrTypeString, desc: `"work" or "home"; others are ignored.`},
		{name: "primary", typ: attrTypeBoolean},
		{name: "display", typ: attrTypeString},
	}},
	{name: "groups", typ: attrTypeComplex, multi: true, mutability: "readOnly", desc: "Groups the person is in; change them on /Groups.", sub: []attr{
		{name: "value", typ: attrTypeString, mutability: "readOnly"},
		{name: "display", typ: attrTypeString, mutability: "readOnly"},
	}},
}}

var enterpriseSchema = schema{id: SchemaEnterprise, name: "EnterpriseUser", desc: "Enterprise user attributes.", attrs: []attr{
	{name: "employeeNumber", typ: attrTypeString},
	{name: "department", typ: attrTypeString},
	{name: "manager", typ: attrTypeComplex, desc: "The person's manager, by Latchkey id or userName.", sub: []attr{
		{name: "value", typ: attrTypeString},
		{name: "$ref", typ: attrTypeRef},
		{name: "displayName", typ: attrTypeString, mutability: "readOnly"},
	}},
}}

var latchkeySchema = schema{id: SchemaLatchkey, name: "LatchkeyUser", desc: "Latchkey's user attributes.", attrs: []attr{
	{name: "startDate", typ: attrTypeString, desc: "The day the person starts, YYYY-MM-DD; a date-time is taken by the date as written."},
}}

var groupSchema = schema{id: SchemaGroup, name: "Group", desc: "A named set of people that policies target.", attrs: []attr{
	{name: "displayName", typ: attrTypeString, required: true, uniqueness: "server", desc: "Unique regardless of case."},
	{name: "members", typ: attrTypeComplex, multi: true, desc: "The people in the group.", sub: []attr{
		{name: "value", typ: attrTypeString, mutability: "immutable"},
		{name: "$ref", typ: attrTypeRef, mutability: "immutable"},
		{name: "display", typ: attrTypeString, mutability: "readOnly"},
		{name: "type", typ: attrTypeString, mutability: "immutable"},
	}},
}}

// resourceType is what a path resolves against: the core schema and its extensions.
type resourceType struct {
	name, endpoint string
	core           schema
	extensions     []schema
}

var (
	userType  = &resourceType{name: resourceUser, endpoint: "/Users", core: userSchema, extensions: []schema{enterpriseSchema, latchkeySchema}}
	groupType = &resourceType{name: resourceGroup, endpoint: "/Groups", core: groupSchema}
)

// find returns the attribute named name (in any case) in attrs.
func find(attrs []attr, name string) *attr {
	for i := range attrs {
		if strings.EqualFold(attrs[i].name, name) {
			return &attrs[i]
		}
	}
	return nil
}

// splitURN splits a path that starts with one of rt's schema URNs (in any case) into the URN
// and the rest; ok is false when p names no URN of rt. The longest URN wins, so that a core URN
// does not swallow an extension's.
func (rt *resourceType) splitURN(p string) (urn, rest string, ok bool) {
	for _, s := range append([]schema{rt.core}, rt.extensions...) {
		if len(p) > len(s.id) && strings.EqualFold(p[:len(s.id)], s.id) && p[len(s.id)] == ':' && len(s.id) > len(urn) {
			urn, rest, ok = s.id, p[len(s.id)+1:], true
		}
	}
	return urn, rest, ok
}

// extension returns rt's extension schema whose URN is urn (in any case), or nil.
func (rt *resourceType) extension(urn string) *schema {
	for i := range rt.extensions {
		if strings.EqualFold(rt.extensions[i].id, urn) {
			return &rt.extensions[i]
		}
	}
	return nil
}

// attrPath names an attribute: its schema (the core schema's URN for a core or common
// attribute), the attribute and an optional sub-attribute, all in their canonical case.
type attrPath struct {
	urn  string
	attr *attr
	sub  *attr
}

// resolve resolves a dotted attribute path, optionally URN-qualified ("name.givenName",
// "urn:...:enterprise:2.0:User:manager.value"); ok is false when Latchkey does not keep it.
func (rt *resourceType) resolve(p string) (attrPath, bool) {
	urn, rest := rt.core.id, p
	if u, r, ok := rt.splitURN(p); ok {
		urn, rest = u, r
	}
	name, subName, hasSub := strings.Cut(rest, ".")
	var attrs []attr
	if urn == rt.core.id {
		attrs = append(append(attrs, commonAttrs...), rt.core.attrs...)
	} else {
		attrs = rt.extension(urn).attrs
	}
	a := find(attrs, name)
	if a == nil {
		// Entra's manager reference query names the enterprise manager without its URN.
		if ext := rt.extension(SchemaEnterprise); ext != nil && urn == rt.core.id && strings.EqualFold(name, "manager") {
			return rt.resolve(SchemaEnterprise + ":" + p)
		}
		return attrPath{}, false
	}
	out := attrPath{urn: urn, attr: a}
	if hasSub {
		if out.sub = find(a.sub, subName); out.sub == nil {
			return attrPath{}, false
		}
	}
	return out, true
}
