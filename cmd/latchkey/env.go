package main

import (
	"flag"
	"os"
	"slices"
	"strings"
)

// envPrefix starts the name of every environment variable that sets a flag.
const envPrefix = "LATCHKEY_"

// envName is the environment variable of a flag: --public-url is LATCHKEY_PUBLIC_URL.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flagsFromEnv sets each flag of fs named in names (every flag when names is empty) that the
// command line did not set from its environment variable (envName), when that variable is set
// and not empty. The command line wins; a value the flag refuses is a usage error that names
// the variable. Call it after fs has parsed the command line.
func flagsFromEnv(fs *flag.FlagSet, names ...string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] || (len(names) > 0 && !slices.Contains(names, f.Name)) {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = usageError("%s=%q: %v", envName(f.Name), v, serr)
		}
	})
	return err
}
