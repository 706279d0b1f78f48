// Command webnet is the whole of webnet in one binary: the web UI and API, workers, and
// administration commands. main parses the command line and wires packages; it holds no logic.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/term"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// cli is the process's surroundings, replaceable in tests.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// terminal reports whether stdin and stderr are terminals.
	stdinTerminal, stderrTerminal bool
	// readPassword reads a line from the terminal without echo.
	readPassword func() ([]byte, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stdinTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		stderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		readPassword:   func() ([]byte, error) { return term.ReadPassword(int(os.Stdin.Fd())) }}
	os.Exit(c.run(ctx, os.Args[1:]))
}

const usage = `webnet — inventory, backups, readiness, upgrades and jobs for network devices.

Usage: webnet <command> [flags]

Commands:
  demo              try webnet: a simulated fleet, demo customers and users, a first sync, and serve
  serve             run the web UI and API, with a job worker (migrates the database first)
  worker            run a job worker only (for more processes on PostgreSQL)
  migrate           apply pending database migrations
  import            import devices into a customer from a CSV or JSON file
  devsim            run a fleet of simulated network devices (SSH) for tests and the demo
  createsuperuser   create a superuser account
  init-device-group-permissions
                    write the permission catalog and the default bundles (migrate does it too)
  audit verify      recompute the audit hash chain
  keys rotate       add a new credential key and re-encrypt every secret under it
  version           print the version

Run "webnet <command> --help" for a command's flags. Every flag can also be set by the
WEBNET_* variable named in its help.
`

// run executes one command and returns the process exit code: 0 success, 1 failure,
// 2 bad usage.
func (c cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "demo":
		err = c.demo(ctx, rest)
	case "serve":
		err = c.serve(ctx, rest)
	case "worker":
		err = c.worker(ctx, rest)
	case "migrate":
		err = c.migrate(ctx, rest)
	case "import":
		err = c.importDevices(ctx, rest)
	case "devsim":
		err = c.devsim(ctx, rest)
	case "createsuperuser":
		err = c.createSuperuser(ctx, rest)
	case "init-device-group-permissions":
		err = c.initDeviceGroupPermissions(ctx, rest)
	case "audit":
		err = c.audit(ctx, rest)
	case "keys":
		err = c.keys(ctx, rest)
	case "version":
		err = c.printVersion(rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return 0
	default:
		fmt.Fprintf(c.stderr, "webnet: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(c.stderr, "webnet %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(c.stderr, "webnet %s: %s\n", cmd, describe(err))
		return 1
	}
}

// describe renders an error for the terminal: the message of a webnet error with its fields,
// or the error itself.
func describe(err error) string {
	var e *webnet.Error
	if !errors.As(err, &e) || e.Code == webnet.EInternal {
		return err.Error()
	}
	msg := e.Message
	for f, why := range e.Fields {
		msg += fmt.Sprintf("\n  %s: %s", f, why)
	}
	return msg
}

type usageError struct{ error }

// parse parses a command's flags; extra positional arguments are a usage error.
func (c cli) parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func newFlagSet(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: webnet %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level: %q is not debug, info, warn or error", s)
	}
	return l, nil
}

// logger builds the process logger: text on a terminal, JSON otherwise (or as configured).
func (c cli) logger(cfg Config) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" || (cfg.LogFormat == "auto" && c.stderrTerminal) {
		return slog.New(slog.NewTextHandler(c.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(c.stderr, opts))
}

func (c cli) serve(ctx context.Context, args []string) error {
	var cfg Config
	fs := newFlagSet("serve", "Run the web UI and API. Migrates the database first; on an empty database, creates\n"+
		"the superuser \"admin\" and prints its one-time password. Stops gracefully on SIGINT/SIGTERM.")
	cfg.serveFlags(fs, c.getenv)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return c.runMain(ctx, cfg)
}

func (c cli) worker(ctx context.Context, args []string) error {
	var cfg Config
	fs := newFlagSet("worker", "Run a job worker and the schedules, without the web UI and API: more processes for\n"+
		"more jobs on PostgreSQL. Migrates the database first. On SIGINT/SIGTERM it lets running jobs\n"+
		"finish for a moment, then hands the rest to other workers.")
	cfg.storageFlags(fs, c.getenv)
	cfg.workerFlags(fs, c.getenv)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	cfg.WorkerOnly = true
	return c.runMain(ctx, cfg)
}

// runMain validates cfg, then opens a Main on it and runs it until ctx ends (serve, worker).
func (c cli) runMain(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	m := &Main{Config: cfg, Logger: c.logger(cfg), Stderr: c.stderr}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

func (c cli) migrate(ctx context.Context, args []string) error {
	var cfg Config
	fs := newFlagSet("migrate", "Apply pending database migrations (serve does this too).")
	cfg.storageFlags(fs, c.getenv)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	log := c.logger(cfg)
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "database (%s) at schema version %d\n", db.Dialect(), v)
	return nil
}

func (c cli) createSuperuser(ctx context.Context, args []string) error {
	var cfg Config
	var username, email string
	var fromStdin bool
	fs := newFlagSet("createsuperuser", "Create a superuser. Without --password-stdin, asks for the password on the terminal.")
	cfg.storageFlags(fs, c.getenv)
	fs.StringVar(&username, "username", "", "the new superuser's username (required)")
	fs.StringVar(&email, "email", "", "the new superuser's e-mail address")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	if username == "" {
		return usageError{errors.New("--username is required")}
	}
	pw, err := c.readNewPassword(fromStdin)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Logger: c.logger(cfg)}
	db, err := openDB(ctx, cfg, m.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := newIdentityForCLI(db, m.Logger)
	if err != nil {
		return err
	}
	u, err := id.CreateSuperuser(service.WithSubject(ctx, service.System()), username, email, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "superuser %q created (id %d)\n", u.Username, u.ID)
	return nil
}

// readNewPassword reads the password from stdin's first line, or asks twice on the terminal
// without echo.
func (c cli) readNewPassword(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(c.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usageError{errors.New("--password-stdin: standard input held no password")}
		}
		return pw, nil
	}
	if !c.stdinTerminal {
		return "", usageError{errors.New("no terminal to ask for the password on: use --password-stdin")}
	}
	fmt.Fprint(c.stderr, "Password: ")
	first, err := c.readPassword()
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(c.stderr, "Password (again): ")
	second, err := c.readPassword()
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords differ")
	}
	return string(first), nil
}

func (c cli) printVersion(args []string) error {
	fs := newFlagSet("version", "Print the version.")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "webnet", version())
	return nil
}
