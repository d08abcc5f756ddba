package scim

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// The discovery resources (RFC 7644 §4) need a token like every other route; Entra and Okta
// send theirs.

func (s *SCIM) handleServiceProviderConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{schemaSPConfig},
		"documentationUri": "https://" + r.Host + "/",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "Latchkey API token",
			"description": "An API token with User.ReadWrite.All and Group.ReadWrite.All, as Authorization: Bearer TOKEN.", "primary": true}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": "https://" + r.Host + Prefix + "/ServiceProviderConfig"},
	})
}

var allSchemas = []schema{userSchema, enterpriseSchema, latchkeySchema, groupSchema}

// schemaDoc renders sc as a Schema resource (RFC 7643 §7).
func schemaDoc(r *http.Request, sc schema) map[string]any {
	return map[string]any{"schemas": []string{schemaSchema}, "id": sc.id, "name": sc.name, "description": sc.desc,
		"attributes": attrDocs(sc.attrs),
		"meta":       map[string]any{"resourceType": "Schema", "location": "https://" + r.Host + Prefix + "/Schemas/" + sc.id}}
}

func attrDocs(attrs []attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		d := map[string]any{"name": a.name, "type": a.typ, "multiValued": a.multi, "required": a.required,
			"caseExact": a.caseExact, "mutability": or(a.mutability, "readWrite"), "returned": "default",
			"uniqueness": or(a.uniqueness, "none"), "description": a.desc}
		if a.typ == attrTypeRef {
			d["referenceTypes"] = []string{"User", "external"}
		}
		if len(a.sub) > 0 {
			d["subAttributes"] = attrDocs(a.sub)
		}
		out[i] = d
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *SCIM) handleSchemas(w http.ResponseWriter, r *http.Request) {
	docs := make([]map[string]any, len(allSchemas))
	for i, sc := range allSchemas {
		docs[i] = schemaDoc(r, sc)
	}
	writeJSON(w, http.StatusOK, listResponse(docs, 1, len(docs)))
}

func (s *SCIM) handleSchema(w http.ResponseWriter, r *http.Request) {
	for _, sc := range allSchemas {
		if strings.EqualFold(sc.id, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, schemaDoc(r, sc))
			return
		}
	}
	s.writeError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is no such schema.", "no schema %q", clip(r.PathValue("id"))))
}

// resourceTypeDoc renders rt as a ResourceType resource (RFC 7643 §6).
func resourceTypeDoc(r *http.Request, rt *resourceType) map[string]any {
	exts := []any{}
	for _, e := range rt.extensions {
		exts = append(exts, map[string]any{"schema": e.id, "required": false})
	}
	return map[string]any{"schemas": []string{schemaResource}, "id": rt.name, "name": rt.name,
		"endpoint": rt.endpoint, "schema": rt.core.id, "schemaExtensions": exts,
		"meta": map[string]any{"resourceType": "ResourceType", "location": "https://" + r.Host + Prefix + "/ResourceTypes/" + rt.name}}
}

func (s *SCIM) handleResourceTypes(w http.ResponseWriter, r *http.Request) {
	docs := []map[string]any{resourceTypeDoc(r, userType), resourceTypeDoc(r, groupType)}
	writeJSON(w, http.StatusOK, listResponse(docs, 1, len(docs)))
}

func (s *SCIM) handleResourceType(w http.ResponseWriter, r *http.Request) {
	for _, rt := range []*resourceType{userType, groupType} {
		if strings.EqualFold(rt.name, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, resourceTypeDoc(r, rt))
			return
		}
	}
	s.writeError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is no such resource type.", "no resource type %q", clip(r.PathValue("id"))))
}
