package main

import (
	"flag"
	"net/url"
	"strings"
)

// defaultPublicURL is the address people use when --public-url is not given to a command that
// is not serve (serve uses the port it listens on).
const defaultPublicURL = "http://localhost:8080"

// checkPublicURL refuses a --public-url that is not an absolute http(s) URL with a host, as a
// usage error naming the flag and its environment variable. Commands call it before they open
// the store, so that a refused URL creates nothing.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return usageError("--public-url (%s) must be like https://id.example.com, got %q", envName("public-url"), s)
	}
	return nil
}

// publicURLFlag registers --public-url on fs for a command other than serve.
func publicURLFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "public-url", "", "the address people use to reach Latchkey, as serve's --public-url (default "+defaultPublicURL+")")
}

// resolvePublicURL returns the public URL a command other than serve uses: the flag, else
// LATCHKEY_PUBLIC_URL, else defaultPublicURL; refused when it is not a valid address.
func resolvePublicURL(fs *flag.FlagSet, given string) (string, error) {
	if err := flagsFromEnv(fs, "public-url"); err != nil {
		return "", err
	}
	if v := fs.Lookup("public-url").Value.String(); v != "" {
		given = v
	}
	if given == "" {
		given = defaultPublicURL
	}
	if err := checkPublicURL(given); err != nil {
		return "", err
	}
	return strings.TrimSuffix(given, "/"), nil
}

// tapSignInURL is the address where the person signs in with a pass, their user name filled in.
func tapSignInURL(publicURL, upn string) string {
	return publicURL + "/signin/tap?" + url.Values{"username": {upn}}.Encode()
}
