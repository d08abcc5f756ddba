// Command latchkey is the Latchkey identity provider: `latchkey serve` runs it, the other
// subcommands manage its directory and passes from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Latchkey: a passkey identity provider.

Usage:
  latchkey serve [--data DIR] [--listen ADDR] [--public-url URL] [--database URL] [--metrics-listen ADDR] [--pprof ADDR] [--smtp URL] [--mail-from ADDR]
  latchkey user add UPN [--display-name N] [--given-name N] [--surname N] [--employee-id ID] [--department D] [--manager USER] [--start-date 2027-01-04] [--mail ADDR] [--personal-mail ADDR] [--guest] [--global-admin] [--json]
  latchkey user list [--json]
  latchkey user show USER [--json]
  latchkey user set USER [--display-name N] [--given-name N] [--surname N] [--employee-id ID] [--department D] [--manager USER|""] [--start-date 2027-01-04] [--mail ADDR] [--personal-mail ADDR] [--json]
  latchkey user disable|enable|delete USER [--json]
  latchkey user signout USER [--json]
  latchkey group add NAME [--description TEXT] [--json]
  latchkey group add-member|remove-member GROUP USER
  latchkey group rename GROUP NEW-NAME
  latchkey group delete GROUP
  latchkey group list [--json]
  latchkey role assign|remove USER ROLE [--unit UNIT]
  latchkey role list [USER] [--json]
  latchkey unit add NAME [--json]
  latchkey unit add-member UNIT USER|GROUP
  latchkey unit list [--json]
  latchkey tap issue USER [--lifetime 1h] [--one-time] [--start 2026-12-01T09:00] [--public-url URL] [--json]
  latchkey tap revoke USER [--json]
  latchkey mds import FILE [--test-root ROOT.pem] [--json]
  latchkey mds show [--json]
  latchkey passkey inspect FILE [--challenge C] [--origin O] [--rp-id R] [--allow-cross-origin] [--user USER] [--json]
  latchkey passkey remove USER PASSKEY_ID [--json]
  latchkey policy show [--json]
  latchkey policy set FILE [--lockout-override N]
  latchkey policy profile add NAME [--groups G1,G2] [--types deviceBound|synced|both] [--attestation disabled|registrationOnly] [--allow AAGUID,... | --block AAGUID,...] [--default] [--lockout-override N] [--json]
  latchkey policy profile remove NAME [--lockout-override N]
  latchkey policy ca list|show ID|remove ID [--json]
  latchkey policy ca add FILE | set ID FILE [--lockout-override N] [--json]
  latchkey policy ca state ID enabled|disabled|reportOnly [--lockout-override N]
  latchkey policy strength list [--json] | add FILE | remove ID
  latchkey policy location list [--json] | add NAME CIDR... [--trusted] | remove ID
  latchkey policy lint [--json]
  latchkey policy whatif --user UPN (--app CLIENT_ID|NAME | --action registerSecurityInformation) [--platform windows] [--platform-version 10.0.22631] [--ip 203.0.113.7] [--client-type browser] [--json]
  latchkey app add NAME --redirect-uri URI [--redirect-uri URI ...] [--post-logout-redirect-uri URI ...] [--public] [--json]
  latchkey app list [--json]
  latchkey keys list [--json]
  latchkey keys rotate [--json]
  latchkey app remove CLIENT_ID
  latchkey token create NAME --scopes SCOPE,SCOPE [--expires 90d|2027-01-31|never] [--json]
  latchkey token list [--json]
  latchkey token revoke ID
  latchkey audit verify [--checkpoint FILE] [--json]
  latchkey audit checkpoint [--json]
  latchkey audit list [--actor A] [--action A] [--target T] [--since 2026-12-01] [--until 2026-12-02] [--json]
  latchkey recovery idv set [--issuer URL] [--client-id ID] [--client-secret-file FILE] [--name N] [--match givenName,familyName,employeeNumber] [--trust-frameworks F,...] [--assurance-levels L,...] [--enable] [--disable] [--json]
  latchkey recovery idv show [--json]
  latchkey mail test ADDRESS [--smtp URL] [--mail-from ADDR]
  latchkey loadtest --token TOKEN [--url URL ...] [--concurrency 32] [--duration 10s] [--users N] [--synced] [--baseline] [--server-pid PID ...] [--cpuprofile FILE] [--quiet] [--json]

Every command takes --data DIR (default ./latchkey-data), --database URL
(default: SQLite in the data folder; postgres://... for PostgreSQL) and --json
(print JSON, for the commands that print a result).
Each serve flag not given can be set in the environment as LATCHKEY_<FLAG>
(--public-url: LATCHKEY_PUBLIC_URL); the other commands read LATCHKEY_DATA,
LATCHKEY_DATABASE, for tap issue LATCHKEY_PUBLIC_URL (default
http://localhost:8080), and for mail test LATCHKEY_SMTP and LATCHKEY_MAIL_FROM.
The command line wins. Give the mail server as LATCHKEY_SMTP rather than
--smtp: its password then stays out of the process list.
"latchkey COMMAND --help" prints this text.
`

// Main runs the command line args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "user":
		err = runUser(ctx, args[1:], stdout)
	case "group":
		err = runGroup(ctx, args[1:], stdout)
	case "role":
		err = runRole(ctx, args[1:], stdout)
	case "unit":
		err = runUnit(ctx, args[1:], stdout)
	case "tap":
		err = runTAP(ctx, args[1:], stdout)
	case "passkey":
		err = runPasskey(ctx, args[1:], os.Stdin, stdout)
	case "policy":
		err = runPolicy(ctx, args[1:], os.Stdin, stdout)
	case "mds":
		err = runMDS(ctx, args[1:], stdout)
	case "app":
		err = runApp(ctx, args[1:], stdout)
	case "keys":
		err = runKeys(ctx, args[1:], stdout)
	case "token":
		err = runToken(ctx, args[1:], stdout)
	case "audit":
		err = runAudit(ctx, args[1:], stdout)
	case "recovery":
		err = runRecovery(ctx, args[1:], stdout)
	case "mail":
		err = runMail(ctx, args[1:], stdout)
	case "loadtest":
		err = runLoadtest(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usageError("unknown command %q", args[0])
	}
	var ue *usageErr
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue) && slices.ContainsFunc(args[1:], isHelp):
		// `latchkey policy ca --help`: a subcommand word, not a flag set, met the help.
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "latchkey: %s. %s\n", strings.TrimSuffix(err.Error(), "."), helpHint(args[0]))
		return 2
	}
	fmt.Fprintf(stderr, "latchkey: %v\n", describeError(err))
	return 1
}

// isHelp reports whether arg asks for the usage text.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// helpHint says, after a usage error, how to see the usage: for a known command, its --help.
func helpHint(command string) string {
	if slices.Contains(commands, command) {
		return fmt.Sprintf("Run %q for the usage.", "latchkey "+command+" --help")
	}
	return `Run "latchkey help" for the usage.`
}

// commands are the subcommands Main knows.
var commands = []string{"serve", "user", "group", "role", "unit", "tap", "passkey", "policy", "mds", "app", "keys", "token", "mail", "loadtest"}

type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &usageErr{fmt.Sprintf(format, args...)}
}

// parsingFlags, when set (by tests), sees every flag set a command is about to parse.
var parsingFlags func(*flag.FlagSet)

// parseArgs parses flags that may come before, between or after positional arguments, and
// returns the positional ones. The store flags (--data, --database) not given take their
// environment variables (LATCHKEY_DATA, LATCHKEY_DATABASE).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	if parsingFlags != nil {
		parsingFlags(fs)
	}
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, flagsFromEnv(fs, "data", "database")
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
