package main

import (
	"flag"
)

// command is a subcommand's parsed flags, positional arguments and open store.
type command struct {
	fs    *flag.FlagSet
	store storeFlags
	json  bool
	args  []string
}

func newCommand(name string) *command {
	c := &command{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.store.register(c.fs)
	c.fs.BoolVar(&c.json, "json", false, "print JSON")
	return c
}

// parse parses args and requires exactly n positional arguments.
func (c *command) parse(args []string, n int, what string) error {
	rest, err := parseArgs(c.fs, args)
	if err != nil {
		return err
	}
	if len(rest) != n {
		return usageError("%s: expected %s", c.fs.Name(), what)
	}
	c.args = rest
	return nil
}
