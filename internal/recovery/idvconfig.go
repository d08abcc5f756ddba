package recovery

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// IDVSettingKey is the shared setting that holds the identity verification provider.
const IDVSettingKey = "recovery.identityVerification"

// Directory attributes the verified claims can be matched against.
const (
	AttrGivenName      = "givenName"
	AttrFamilyName     = "familyName"
	AttrEmployeeNumber = "employeeNumber"
)

// IDVAttributes are the attributes an admin may require, in the order pages list them.
var IDVAttributes = []string{AttrGivenName, AttrFamilyName, AttrEmployeeNumber}

// DefaultIDVTrustFramework is the trust framework of the "bring your own IDV" profile, in which
// the provider compares the person with the values it was sent and answers VERIFIED.
const DefaultIDVTrustFramework = "IDV-DELEGATED"

// IDVConfig is the identity verification provider an admin configured: an OpenID provider that
// returns verified_claims (OpenID Connect for Identity Assurance), the attributes that must
// match the directory record and the trust frameworks and assurance levels accepted.
type IDVConfig struct {
	// Enabled turns the path on: /recover/verify refuses while it is off.
	Enabled bool `json:"enabled"`
	// Name is how the provider is named to people ("Acme ID check"); empty: its issuer's host.
	Name         string `json:"name,omitempty"`
	Issuer       string `json:"issuer"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// Match lists the attributes (AttrGivenName, ...) that must all match.
	Match []string `json:"match"`
	// TrustFrameworks accepted (verification.trust_framework); at least one.
	TrustFrameworks []string `json:"trustFrameworks"`
	// AssuranceLevels accepted (verification.assurance_level); empty: any, even none.
	AssuranceLevels []string `json:"assuranceLevels,omitempty"`
}

// DisplayName is how people read the provider's name.
func (c IDVConfig) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	if u, err := url.Parse(c.Issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return "the identity check"
}

// Public returns c without its secret, for pages and the CLI; HasSecret tells whether one is set.
func (c IDVConfig) Public() (pub IDVConfig, hasSecret bool) {
	hasSecret = c.ClientSecret != ""
	c.ClientSecret = ""
	return c, hasSecret
}

func invalidIDV(sentence string) *latchkey.Error {
	return latchkey.Errorf(latchkey.EINVALID, "invalid_identity_verification",
		"The identity verification settings are not valid: "+sentence+".", "%s", sentence)
}

// Validate checks c and trims it; a disabled configuration may be incomplete.
func (c *IDVConfig) Validate() *latchkey.Error {
	c.Name, c.Issuer, c.ClientID = strings.TrimSpace(c.Name), strings.TrimSpace(c.Issuer), strings.TrimSpace(c.ClientID)
	c.Match = cleanList(c.Match)
	c.TrustFrameworks, c.AssuranceLevels = cleanList(c.TrustFrameworks), cleanList(c.AssuranceLevels)
	for _, m := range c.Match {
		if !slices.Contains(IDVAttributes, m) {
			return invalidIDV("the attributes to match are " + strings.Join(IDVAttributes, ", ") + ", not " + m)
		}
	}
	if len(c.Name) > latchkey.MaxNameLength {
		return invalidIDV("the provider's name is too long")
	}
	if !c.Enabled {
		return nil
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !loopback(u.Hostname())) {
		return invalidIDV("the issuer must be an https address, like https://idv.example.com")
	}
	switch {
	case c.ClientID == "":
		return invalidIDV("the client id is missing")
	case c.ClientSecret == "":
		return invalidIDV("the client secret is missing")
	case len(c.Match) == 0:
		return invalidIDV("choose at least one attribute that must match")
	case len(c.TrustFrameworks) == 0:
		return invalidIDV("name at least one accepted trust framework, like " + DefaultIDVTrustFramework)
	}
	return nil
}

// loopback reports whether host is this machine (an http issuer is allowed there, for tests).
func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func cleanList(in []string) []string {
	var out []string
	for _, v := range in {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// IDVConfig returns the stored configuration, for an actor who may read the methods policy.
// Callers showing it use Public.
func (s *Service) IDVConfig(ctx context.Context, a latchkey.Actor) (IDVConfig, error) {
	if err := authz.Decide(a, authz.ActionReadMethodsPolicy, authz.Target{Kind: authz.TargetPolicy}); err != nil {
		return IDVConfig{}, err
	}
	return s.idvConfig(ctx)
}

func (s *Service) idvConfig(ctx context.Context) (IDVConfig, error) {
	var c IDVConfig
	raw, err := s.Store.GetSetting(ctx, IDVSettingKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) || (err == nil && len(raw) == 0) {
		return IDVConfig{TrustFrameworks: []string{DefaultIDVTrustFramework}, Match: []string{AttrGivenName, AttrFamilyName}}, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, latchkey.Errorf(latchkey.EINTERNAL, "bad_setting", "Something went wrong on our side.", "decode %s: %v", IDVSettingKey, err)
	}
	return c, nil
}

// SetIDVConfig stores c for an actor who may change the methods policy. An empty ClientSecret
// keeps the stored one. The audit event names the issuer, client id, attributes and frameworks,
// never the secret.
func (s *Service) SetIDVConfig(ctx context.Context, a latchkey.Actor, c IDVConfig) error {
	if err := authz.Decide(a, authz.ActionWriteMethodsPolicy, authz.Target{Kind: authz.TargetPolicy}); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "identityVerification.update", "policy", IDVSettingKey, "Identity verification", map[string]any{
		"enabled": c.Enabled, "issuer": c.Issuer, "clientId": c.ClientID, "match": c.Match,
		"trustFrameworks": c.TrustFrameworks, "assuranceLevels": c.AssuranceLevels, "secretChanged": c.ClientSecret != ""})
	_, err := s.Store.UpdateSetting(ctx, IDVSettingKey, func(cur []byte) ([]byte, error) {
		next := c
		if next.ClientSecret == "" && len(cur) > 0 {
			var old IDVConfig
			if err := json.Unmarshal(cur, &old); err == nil {
				next.ClientSecret = old.ClientSecret
			}
		}
		if err := next.Validate(); err != nil {
			return nil, err
		}
		return json.Marshal(next)
	})
	return err
}
