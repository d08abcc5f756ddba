package recovery

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Verified is one verified_claims element as Latchkey reads it: the verification's trust
// framework and assurance level and the claims the provider vouches for. A claim's value is
// the string the provider returned, read out of a {"value": ...} wrapper (the "bring your own
// IDV" profile's response shape).
type Verified struct {
	TrustFramework      string
	AssuranceLevel      string
	VerificationProcess string
	// Time is when the verification completed (verification.time); zero when not given.
	Time   time.Time
	Claims map[string]string
}

// IDVMaxAge is how long before the callback a verification may have completed: an older one
// (a result the provider had kept) is refused.
const IDVMaxAge = time.Hour

// claimOf maps a directory attribute to the verified claim that carries it. The employee
// number has no registered claim; Latchkey reads "employee_number".
var claimOf = map[string]string{
	AttrGivenName:      "given_name",
	AttrFamilyName:     "family_name",
	AttrEmployeeNumber: "employee_number",
}

// parseVerifiedClaims reads the verified_claims claim: an object or an array of objects, each
// with verification.{trust_framework, assurance_level} and claims.
func parseVerifiedClaims(raw any) ([]Verified, error) {
	if raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		items = []json.RawMessage{b}
	}
	var out []Verified
	for _, it := range items {
		var v struct {
			Verification struct {
				TrustFramework      any `json:"trust_framework"`
				AssuranceLevel      any `json:"assurance_level"`
				VerificationProcess any `json:"verification_process"`
				Time                any `json:"time"`
			} `json:"verification"`
			Claims map[string]any `json:"claims"`
		}
		if err := json.Unmarshal(it, &v); err != nil {
			return nil, err
		}
		vc := Verified{TrustFramework: scalar(v.Verification.TrustFramework), AssuranceLevel: scalar(v.Verification.AssuranceLevel),
			VerificationProcess: scalar(v.Verification.VerificationProcess), Claims: map[string]string{}}
		if ts := scalar(v.Verification.Time); ts != "" {
			t, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				return nil, fmt.Errorf("verification time %q: %w", ts, err)
			}
			vc.Time = t
		}
		for k, c := range v.Claims {
			vc.Claims[k] = scalar(c)
		}
		out = append(out, vc)
	}
	return out, nil
}

// scalar returns a claim's value as a string: a string or number as it is, the "value" of a
// {"value": ...} wrapper (the profile's response shape), "" otherwise.
func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64, bool:
		b, _ := json.Marshal(t)
		return string(b)
	case map[string]any:
		return scalar(t["value"])
	}
	return ""
}

// Normalize is the matching rule's form of a name or number: compatibility decomposition
// (Unicode NFKD) with the combining marks removed (accents: "Zoë" is "Zoe"), lower case,
// hyphens, apostrophes and dots read as spaces, and runs of spaces made one, trimmed.
func Normalize(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)))
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	folded = strings.ToLower(folded)
	folded = strings.Map(func(r rune) rune {
		if r == '-' || r == '\'' || r == '’' || r == '.' || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, folded)
	return strings.Join(strings.Fields(folded), " ")
}

// directoryValue returns the attribute of u the claims are matched against.
func directoryValue(u *latchkey.User, attr string) string {
	switch attr {
	case AttrGivenName:
		return u.GivenName
	case AttrFamilyName:
		return u.Surname
	case AttrEmployeeNumber:
		return u.EmployeeID
	}
	return ""
}

// matchOutcome is why verified claims were accepted or not; the reason is for the admin.
type matchOutcome struct {
	ok       bool
	reason   string
	verified Verified
}

// matchVerified applies the matching rule: some element of vcs has an accepted trust framework
// and assurance level, was completed within IDVMaxAge before now (when it says when), and every configured attribute of the directory record is non-empty and
// equals its claim after Normalize; from a "bring your own IDV" provider (trust framework
// IDV-DELEGATED) the assurance level must be VERIFIED. A "MATCHED" in place of a value is not
// accepted: Latchkey sends no values to compare with (see claimsRequest). The reason of a refusal names
// the attribute or the verification, never a value.
func matchVerified(c IDVConfig, u *latchkey.User, vcs []Verified, now time.Time) matchOutcome {
	if len(vcs) == 0 {
		return matchOutcome{reason: "the provider returned no verified_claims"}
	}
	out := matchOutcome{reason: "no verified_claims element had an accepted trust framework and assurance level", verified: vcs[0]}
	for _, v := range vcs {
		if !slices.Contains(c.TrustFrameworks, v.TrustFramework) ||
			(len(c.AssuranceLevels) > 0 && !slices.Contains(c.AssuranceLevels, v.AssuranceLevel)) {
			continue
		}
		out.verified = v
		delegated := v.TrustFramework == DefaultIDVTrustFramework
		if delegated && v.AssuranceLevel != "VERIFIED" {
			out.reason = "the provider did not answer VERIFIED (" + v.AssuranceLevel + ")"
			continue
		}
		if !v.Time.IsZero() && (v.Time.Before(now.Add(-IDVMaxAge)) || v.Time.After(now.Add(5*time.Minute))) {
			out.reason = "the verification was completed at " + v.Time.UTC().Format(time.RFC3339) + ", not within the last hour"
			continue
		}
		if u == nil {
			out.reason = "no such user, or the account is turned off"
			return out
		}
		out.ok, out.reason = true, "every configured attribute matched"
		for _, attr := range c.Match {
			want, got := Normalize(directoryValue(u, attr)), v.Claims[claimOf[attr]]
			if want == "" {
				return matchOutcome{reason: "the directory record has no " + attr, verified: v}
			}
			if Normalize(got) != want {
				return matchOutcome{reason: "the verified " + claimOf[attr] + " does not match the directory's " + attr, verified: v}
			}
		}
		return out
	}
	return out
}
