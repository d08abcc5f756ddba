package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// runMDS manages the FIDO Metadata Service BLOB shared by every node.
func runMDS(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("mds: expected import or show")
	}
	c := newCommand("mds " + args[0])
	switch args[0] {
	case "import":
		var rootPath string
		c.fs.StringVar(&rootPath, "test-root", "", "PEM root certificate to verify a test BLOB against, instead of the FIDO Alliance MDS root")
		if err := c.parse(args[1:], 1, "one BLOB file (the JWT from https://mds.fidoalliance.org)"); err != nil {
			return err
		}
		blob, err := os.ReadFile(c.args[0])
		if err != nil {
			return latchkey.Errorf(latchkey.EINVALID, "mds_file", "Could not read the metadata BLOB file.", "%v", err)
		}
		var root *x509.Certificate
		if rootPath != "" {
			pemData, err := os.ReadFile(rootPath)
			if err != nil {
				return latchkey.Errorf(latchkey.EINVALID, "mds_test_root", "Could not read the test root certificate.", "%v", err)
			}
			if root, err = passkey.ParseCertificatePEM(pemData); err != nil {
				return latchkey.Errorf(latchkey.EINVALID, "mds_test_root", "Could not read the test root certificate.", "%s: %v", rootPath, err)
			}
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			md, err := passkey.ImportMDS(ctx, st, blob, root, time.Now())
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(out, md)
			}
			fmt.Fprintf(out, "Imported metadata BLOB %s.\n", describeMDS(md))
			return nil
		})
	case "show":
		if err := c.parse(args[1:], 0, "no arguments"); err != nil {
			return err
		}
		return c.withStore(ctx, func(st latchkey.Store, _ *signin.Service) error {
			md, err := passkey.LoadMetadata(ctx, st, time.Now())
			if err != nil {
				return err
			}
			if c.json {
				if md == nil {
					return printJSON(out, nil)
				}
				return printJSON(out, md)
			}
			if md == nil {
				fmt.Fprintln(out, "No metadata BLOB imported; `latchkey mds import FILE` imports one.")
				return nil
			}
			fmt.Fprintf(out, "Metadata BLOB %s.\n", describeMDS(md))
			return nil
		})
	}
	return usageError("mds: unknown subcommand %q; expected import or show", args[0])
}

func describeMDS(md *passkey.Metadata) string {
	s := fmt.Sprintf("number %d, next update %s, %d entries", md.Number, md.NextUpdate.Format(time.DateOnly), md.Entries)
	if md.Skipped > 0 {
		s += fmt.Sprintf(" (%d unreadable entries skipped)", md.Skipped)
	}
	if md.TestRoot {
		s += ", verified against a test root"
	}
	return s
}
