package passkey

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// aaguids.json is the passkeydeveloper/passkey-authenticator-aaguids catalogue of passkey
// providers, bundled so that provider names work offline.
//
//go:embed aaguids.json
var aaguidsJSON []byte

// extraProviders are AAGUIDs the community catalogue does not carry but the field guide names.
var extraProviders = map[string]string{
	"de1e552d-db1d-4423-a619-566b625cdc84": "Microsoft Authenticator (Android)",
	"90a3ccdf-635c-4729-a248-9b709135078f": "Microsoft Authenticator (iOS)",
}

var catalogue = loadCatalogue()

func loadCatalogue() map[string]string {
	m := map[string]string{}
	if err := json.Unmarshal(aaguidsJSON, &m); err != nil {
		panic("passkey: bundled aaguids.json is invalid: " + err.Error())
	}
	for k, v := range extraProviders {
		m[k] = v
	}
	return m
}

// ProviderName returns the name of the passkey provider with the given AAGUID from the bundled
// catalogue, or "" when it is not known.
func ProviderName(aaguid string) string {
	return catalogue[strings.ToLower(aaguid)]
}
