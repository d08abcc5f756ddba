package scim

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// userDoc renders u as a SCIM User: the core schema, the enterprise extension (employeeNumber,
// department, manager as {"value": id}) and Latchkey's (startDate), each extension only when it
// holds something. The work mail is emails[type eq "work"], the personal one type "home".
func userDoc(r *http.Request, u *latchkey.User) map[string]any {
	schemas := []any{SchemaUser}
	doc := map[string]any{
		"id": u.ID, "userName": u.UserPrincipalName, "displayName": u.DisplayName, "active": u.Enabled,
		"meta": map[string]any{"resourceType": resourceUser, "created": u.CreatedAt.UTC().Format(time.RFC3339),
			"lastModified": u.CreatedAt.UTC().Format(time.RFC3339), "location": location(r, "/Users", u.ID)},
	}
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	name := map[string]any{}
	for k, v := range map[string]string{"givenName": u.GivenName, "familyName": u.Surname,
		"formatted": strings.TrimSpace(u.GivenName + " " + u.Surname)} {
		if v != "" {
			name[k] = v
		}
	}
	if len(name) > 0 {
		doc["name"] = name
	}
	var emails []any
	if u.Mail != "" {
		emails = append(emails, map[string]any{"value": u.Mail, "type": "work", "primary": true})
	}
	if u.PersonalMail != "" {
		emails = append(emails, map[string]any{"value": u.PersonalMail, "type": "home", "primary": u.Mail == ""})
	}
	if emails != nil {
		doc["emails"] = emails
	}
	ent := map[string]any{}
	if u.EmployeeID != "" {
		ent["employeeNumber"] = u.EmployeeID
	}
	if u.Department != "" {
		ent["department"] = u.Department
	}
	if u.ManagerID != "" {
		ent["manager"] = map[string]any{"value": u.ManagerID, "$ref": location(r, "/Users", u.ManagerID)}
	}
	if len(ent) > 0 {
		doc[SchemaEnterprise] = ent
		schemas = append(schemas, SchemaEnterprise)
	}
	if u.StartDate != "" {
		doc[SchemaLatchkey] = map[string]any{"startDate": u.StartDate}
		schemas = append(schemas, SchemaLatchkey)
	}
	doc["schemas"] = schemas
	return doc
}

// userFields are what Latchkey keeps of a SCIM User document. The extension fields are nil
// when the document has no object for their extension (a PUT without it leaves them as they
// are).
type userFields struct {
	userName, externalID, givenName, familyName, displayName, mail, personalMail string
	active                                                                       *bool
	employeeNumber, department, manager                                          *string
	startDate                                                                    *string
}

// readUser reads a SCIM User document (a POST or PUT body, or a patched document). Attributes
// Latchkey does not keep are ignored, and so is a password: it is never stored or returned.
func readUser(doc map[string]any) (userFields, error) {
	var f userFields
	var err error
	str := func(m map[string]any, key string) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = stringAttr(m, key)
		return s
	}
	f.userName, f.externalID, f.displayName = str(doc, "userName"), str(doc, "externalId"), str(doc, "displayName")
	if name, ok := get(doc, "name").(map[string]any); ok {
		f.givenName, f.familyName = str(name, "givenName"), str(name, "familyName")
	} else if get(doc, "name") != nil {
		return f, invalid(CodeInvalidValue, "name must be an object.", "name is not an object")
	}
	if err != nil {
		return f, err
	}
	if f.mail, f.personalMail, err = readEmails(get(doc, "emails")); err != nil {
		return f, err
	}
	if v := get(doc, "active"); v != nil {
		b, ok := boolOf(v)
		if !ok {
			return f, invalid(CodeInvalidValue, "active must be true or false.", fmt.Sprintf("active is %v", clip(fmt.Sprint(v))))
		}
		f.active = &b
	}
	if ent, ok := extensionObject(doc, SchemaEnterprise); ok {
		en, dep := str(ent, "employeeNumber"), str(ent, "department")
		f.employeeNumber, f.department = &en, &dep
		m := ""
		if v, ok := managerValue(get(ent, "manager")).(map[string]any); ok {
			m, _ = v["value"].(string)
		} else if v != nil {
			return f, invalid(CodeInvalidValue, "manager must be a person's id.", "manager is not a string or {value}")
		}
		f.manager = &m
	}
	if lk, ok := extensionObject(doc, SchemaLatchkey); ok {
		d, derr := startDate(str(lk, "startDate"))
		if derr != nil {
			return f, derr
		}
		f.startDate = &d
	}
	return f, err
}

// extensionObject returns doc's object for the extension urn (the key in any case).
func extensionObject(doc map[string]any, urn string) (map[string]any, bool) {
	m, ok := get(doc, urn).(map[string]any)
	return m, ok
}

// stringAttr reads a string attribute: absent or null is "", anything but a string is refused.
func stringAttr(m map[string]any, key string) (string, error) {
	switch v := get(m, key).(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	default:
		return "", invalid(CodeInvalidValue, key+" must be text.", fmt.Sprintf("%s is %T", key, v))
	}
}

// readEmails picks the work address (type "work", or untyped) and the home address; a later
// address of a type wins over an earlier one, and a typed work address over an untyped one.
func readEmails(v any) (work, home string, err error) {
	if v == nil {
		return "", "", nil
	}
	list, ok := v.([]any)
	if !ok {
		return "", "", invalid(CodeInvalidValue, "emails must be a list.", "emails is not an array")
	}
	untyped := ""
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return "", "", invalid(CodeInvalidValue, "Each email must be an object.", "an emails element is not an object")
		}
		value, err := stringAttr(m, "value")
		if err != nil {
			return "", "", err
		}
		typ, _ := get(m, "type").(string)
		switch strings.ToLower(typ) {
		case "work":
			work = value
		case "home":
			home = value
		case "":
			untyped = value
		}
	}
	if work == "" {
		work = untyped
	}
	return work, home, nil
}

// startDate reads a start date: a calendar date, or a date-time taken by the date as written
// (Entra sends 2027-01-04T00:00:00Z).
func startDate(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) >= 10 {
		if _, err := time.Parse(time.DateOnly, s[:10]); err == nil && (len(s) == 10 || s[10] == 'T' || s[10] == 't' || s[10] == ' ') {
			return s[:10], nil
		}
	}
	return "", invalid(CodeInvalidValue, "The start date must be a date such as 2027-01-04.", fmt.Sprintf("startDate %q", clip(s)))
}

// newUser returns the person f describes, created by SCIM.
func (f userFields) newUser() *latchkey.User {
	u := &latchkey.User{UserPrincipalName: f.userName, DisplayName: f.displayName, GivenName: f.givenName,
		Surname: f.familyName, Mail: f.mail, PersonalMail: f.personalMail, Enabled: true,
		ExternalID: f.externalID, Source: latchkey.UserSourceSCIM}
	if f.active != nil {
		u.Enabled = *f.active
	}
	for _, p := range []struct{ to, from *string }{{&u.EmployeeID, f.employeeNumber}, {&u.Department, f.department}, {&u.StartDate, f.startDate}} {
		if p.from != nil {
			*p.to = *p.from
		}
	}
	return u
}

// changes returns what must change for u to hold f. A display name left out is the given and
// family name, or the user name.
func (f userFields) changes(u *latchkey.User) directory.UserChanges {
	var ch directory.UserChanges
	if f.displayName == "" {
		if f.displayName = strings.TrimSpace(f.givenName + " " + f.familyName); f.displayName == "" {
			f.displayName = f.userName
		}
	}
	set := func(to **string, now string, want *string) {
		if want != nil && *want != now {
			*to = want
		}
	}
	set(&ch.UserPrincipalName, u.UserPrincipalName, &f.userName)
	set(&ch.ExternalID, u.ExternalID, &f.externalID)
	set(&ch.DisplayName, u.DisplayName, &f.displayName)
	set(&ch.GivenName, u.GivenName, &f.givenName)
	set(&ch.Surname, u.Surname, &f.familyName)
	set(&ch.Mail, u.Mail, &f.mail)
	set(&ch.PersonalMail, u.PersonalMail, &f.personalMail)
	set(&ch.EmployeeID, u.EmployeeID, f.employeeNumber)
	set(&ch.Department, u.Department, f.department)
	set(&ch.Manager, u.ManagerID, f.manager)
	set(&ch.StartDate, u.StartDate, f.startDate)
	return ch
}

// empty reports whether ch changes nothing.
func empty(ch directory.UserChanges) bool {
	return ch == directory.UserChanges{}
}
