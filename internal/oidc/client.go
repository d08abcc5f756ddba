package oidc

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// NewClient builds an application (OpenID Connect client) ready to store: a new client id and,
// for a confidential client, a new secret, returned here once and kept only as its hash. Every
// redirect URI must be an absolute http(s) URL without a fragment; refusals are latchkey.Errors
// with plain messages.
func NewClient(name string, redirectURIs, postLogout []string, public bool) (*latchkey.Client, string, error) {
	if err := latchkey.ValidateName("application name", name); err != nil {
		return nil, "", err
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

// CreateClient builds a client with NewClient and stores it in st, refusing a name that another
// application has regardless of case (people and policies pick applications by name). It
// returns the client and its secret (empty for a public client).
func CreateClient(ctx context.Context, st latchkey.OIDCStore, name string, redirectURIs, postLogout []string, public bool) (*latchkey.Client, string, error) {
	cl, secret, err := NewClient(name, redirectURIs, postLogout, public)
	if err != nil {
		return nil, "", err
	}
	others, err := st.ListClients(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, o := range others {
		if strings.EqualFold(o.Name, cl.Name) {
			return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "app_exists", "An application with this name already exists. Choose another name.",
				"application %q (client id %s) already has the name %q", o.Name, o.ID, o.Name)
		}
	}
	for _, e := range latchkey.AuditEvents(ctx) { // the caller's event names the new client
		if e.TargetKind == "application" && e.TargetID == "" {
			e.TargetID = cl.ID
		}
	}
	if err := st.CreateClient(ctx, cl); err != nil {
		return nil, "", err
	}
	return cl, secret, nil
}

func validRedirectURI(u string) error {
	p, err := url.Parse(u)
	if !utf8.ValidString(u) || strings.IndexFunc(u, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0 {
		err = errors.New("invalid UTF-8 or an invisible formatting character")
	}
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.Fragment != "" {
		return latchkey.Errorf(latchkey.EINVALID, "invalid_redirect_uri",
			"Redirect URI "+strconv.Quote(u)+" is not usable: enter an absolute http:// or https:// address without a # part.",
			"redirect URI %q: not an absolute http(s) URL without a fragment", u)
	}
	return nil
}
