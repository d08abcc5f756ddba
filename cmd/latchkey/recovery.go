package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/recovery"
)

// runRecovery is `latchkey recovery idv set|show`: the identity verification provider of
// self-service recovery. The client secret is read from a file, never from the command line
// (which other users of the machine can see), and never printed.
func runRecovery(ctx context.Context, args []string, out io.Writer) error {
	if len(args) < 2 || args[0] != "idv" {
		return usageError("recovery: expected idv set or idv show")
	}
	c := newCommand("recovery idv " + args[1])
	switch args[1] {
	case "show":
		if err := c.parse(args[2:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			conf, err := recovery.New(dir).IDVConfig(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			pub, has := conf.Public()
			if c.json {
				return printJSON(out, map[string]any{"settings": pub, "clientSecretSet": has})
			}
			printIDV(out, pub, has)
			return nil
		})
	case "set":
		var issuer, clientID, secretFile, name, match, frameworks, levels string
		var enabled, disable bool
		c.fs.StringVar(&issuer, "issuer", "", "the provider's issuer URL")
		c.fs.StringVar(&clientID, "client-id", "", "Latchkey's client id at the provider")
		c.fs.StringVar(&secretFile, "client-secret-file", "", "a file holding the client secret (never the secret itself)")
		c.fs.StringVar(&name, "name", "", "the provider's name as people read it")
		c.fs.StringVar(&match, "match", "", "attributes that must all match: "+strings.Join(recovery.IDVAttributes, ","))
		c.fs.StringVar(&frameworks, "trust-frameworks", "", "accepted trust frameworks, comma-separated")
		c.fs.StringVar(&levels, "assurance-levels", "", `accepted assurance levels, comma-separated ("" for any)`)
		c.fs.BoolVar(&enabled, "enable", false, "turn identity verification on")
		c.fs.BoolVar(&disable, "disable", false, "turn identity verification off")
		if err := c.parse(args[2:], 0, "flags only"); err != nil {
			return err
		}
		if enabled && disable {
			return usageError("recovery idv set: --enable or --disable, not both")
		}
		var secret string
		if secretFile != "" {
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return fmt.Errorf("read client secret file: %w", err)
			}
			if secret = strings.TrimSpace(string(b)); secret == "" {
				return usageError("recovery idv set: %s is empty", secretFile)
			}
		}
		given := map[string]bool{}
		c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		return c.withDirectory(ctx, func(_ latchkey.Store, dir *directory.Service) error {
			svc := recovery.New(dir)
			conf, err := svc.IDVConfig(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			conf.ClientSecret = secret // empty keeps the stored one
			for flagName, set := range map[string]func(){
				"issuer": func() { conf.Issuer = issuer }, "client-id": func() { conf.ClientID = clientID },
				"name": func() { conf.Name = name }, "match": func() { conf.Match = []string{match} },
				"trust-frameworks": func() { conf.TrustFrameworks = []string{frameworks} },
				"assurance-levels": func() { conf.AssuranceLevels = []string{levels} },
			} {
				if given[flagName] {
					set()
				}
			}
			if enabled || disable {
				conf.Enabled = enabled
			} else if given["issuer"] {
				conf.Enabled = true // setting up a provider turns it on
			}
			if err := svc.SetIDVConfig(ctx, latchkey.CLIActor, conf); err != nil {
				return err
			}
			conf, err = svc.IDVConfig(ctx, latchkey.CLIActor)
			if err != nil {
				return err
			}
			pub, has := conf.Public()
			if c.json {
				return printJSON(out, map[string]any{"settings": pub, "clientSecretSet": has})
			}
			printIDV(out, pub, has)
			return nil
		})
	}
	return usageError("recovery idv: expected set or show, not %q", args[1])
}

func printIDV(out io.Writer, c recovery.IDVConfig, hasSecret bool) {
	state := "off"
	if c.Enabled {
		state = "on"
	}
	secret := "not set"
	if hasSecret {
		secret = "set"
	}
	levels := strings.Join(c.AssuranceLevels, ",")
	if levels == "" {
		levels = "any"
	}
	fmt.Fprintf(out, "Identity verification: %s\n  provider %s (issuer %s, client id %s, client secret %s)\n  must match: %s\n  trust frameworks: %s; assurance levels: %s\n",
		state, c.DisplayName(), c.Issuer, c.ClientID, secret, strings.Join(c.Match, ","), strings.Join(c.TrustFrameworks, ","), levels)
}
