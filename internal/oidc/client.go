package oidc

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// NewClient builds an application (OpenID Connect client) ready to store: a new client id and,
// for a confidential client, a new secret, returned here once and kept only as its hash. Every
// redirect URI must be an absolute http(s) URL without a fragment; refusals are latchkey.Errors
// with plain messages.
func NewClient(name string, redirectURIs, postLogout []string, public bool) (*latchkey.Client, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "invalid_name", "Give the application a name.", "application name is empty")
	}
	if len(redirectURIs) == 0 {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "invalid_redirect_uri",
			"Add at least one redirect URI: the address the application sends people back to after they sign in.",
			"no redirect URI given")
	}
	for _, u := range append(append([]string{}, redirectURIs...), postLogout...) {
		if err := validRedirectURI(u); err != nil {
			return nil, "", err
		}
	}
	cl := &latchkey.Client{ID: latchkey.NewID(), Name: name, Public: public,
		RedirectURIs: append([]string{}, redirectURIs...), PostLogoutRedirectURIs: append([]string{}, postLogout...),
		CreatedAt: time.Now().UTC()}
	var secret string
	if !public {
		secret = NewSecret()
		cl.SecretHash = Hash(secret)
	}
	return cl, secret, nil
}

func validRedirectURI(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.Fragment != "" {
		return latchkey.Errorf(latchkey.EINVALID, "invalid_redirect_uri",
			"Redirect URI "+strconv.Quote(u)+" is not usable: enter an absolute http:// or https:// address without a # part.",
			"redirect URI %q: not an absolute http(s) URL without a fragment", u)
	}
	return nil
}
