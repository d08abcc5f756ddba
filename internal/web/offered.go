package web

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Offered is a form field whose values the page offers (a select, radio buttons or checkboxes):
// a value the page does not offer is refused, never read as the default.
type Offered struct {
	Field  string
	Values []string
	Many   bool // checkboxes of one name: several values may come
}

// Yes is what a lone checkbox sends when it is ticked.
var Yes = []string{"yes"}

// CheckOffered refuses a form whose fields carry values the page does not offer, or several
// values where it offers one choice. A field left out is not refused: an unticked checkbox sends
// nothing.
func CheckOffered(r *http.Request, fields ...Offered) error {
	for _, f := range fields {
		vs := r.PostForm[f.Field]
		if len(vs) > 1 && !f.Many {
			return latchkey.Errorf(latchkey.EINVALID, "invalid_choice", "The form sent more than one choice where it offers one. Reload the page and try again.",
				"form field %q has %d values; it takes one of %s", f.Field, len(vs), strings.Join(f.Values, ", "))
		}
		for _, v := range vs {
			if !contains(f.Values, v) {
				return latchkey.Errorf(latchkey.EINVALID, "invalid_choice", "The form sent a choice it does not offer. Reload the page and try again.",
					"form field %q: %q is not one of %s", f.Field, v, strings.Join(f.Values, ", "))
			}
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
