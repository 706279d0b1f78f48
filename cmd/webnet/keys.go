package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
)

const keysUsage = `Usage: webnet keys <subcommand> [flags]

Subcommands:
  rotate      add a new credential key and re-encrypt every secret under it
  reencrypt   re-encrypt every secret not under the current key (after a failed rotation,
              or after adding a key to WEBNET_SECRET_KEY)
`

// keys runs the credential key subcommands: rotate and reencrypt.
func (c cli) keys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, keysUsage)
		return usageError{errors.New("missing subcommand")}
	}
	switch args[0] {
	case "rotate":
		return c.keysRotate(ctx, args[1:], true)
	case "reencrypt":
		return c.keysRotate(ctx, args[1:], false)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stderr, keysUsage)
		return flag.ErrHelp
	default:
		fmt.Fprint(c.stderr, keysUsage)
		return usageError{fmt.Errorf("unknown subcommand %q", args[0])}
	}
}

const rotateSummary = `Add a new random key to the data directory's secret.keys, make it the key that encrypts
new values, and re-encrypt every stored credential secret under it, in one transaction
(on any failure nothing is re-encrypted; the old keys stay, so every value still decrypts).
Restart running webnet processes afterwards: until they reload the keys they cannot
decrypt values under the new key.

With WEBNET_SECRET_KEY set, webnet cannot change the keys: add the new key to the variable
yourself ("1:<old key>,2:<new key>"), then run this command, which only re-encrypts.`

const reencryptSummary = `Re-encrypt every stored credential secret that is not under the current key (the highest
id in secret.keys or WEBNET_SECRET_KEY), in one transaction: on any failure nothing changes.
Use it after a rotation whose re-encryption failed, or after adding a key to
WEBNET_SECRET_KEY. Restart running webnet processes first if the key is new to them.`

// keysRotate adds a key to the data dir's key file (when rotate is true) and re-encrypts every
// stored secret under the current key, as the system subject. With WEBNET_SECRET_KEY set,
// webnet cannot add a key (the variable is the operator's), so it only re-encrypts under the
// highest key the variable lists.
func (c cli) keysRotate(ctx context.Context, args []string, rotate bool) error {
	name, summary := "keys rotate", rotateSummary
	if !rotate {
		name, summary = "keys reencrypt", reencryptSummary
	}
	fs := newFlagSet(name, summary)
	e, err := c.openAdmin(ctx, fs, args, true)
	if err != nil {
		return err
	}
	defer e.Close()
	core, cfg, sys := e.core, e.cfg, e.sys
	if !rotate || cfg.SecretKey != "" {
		if rotate {
			fmt.Fprintln(c.stdout, "WEBNET_SECRET_KEY is set, so webnet cannot add a key: re-encrypting only.")
		}
		n, err := core.ReencryptCredentials(sys)
		if err != nil {
			return fmt.Errorf("re-encrypt credentials: %w", err)
		}
		fmt.Fprintf(c.stdout, "re-encrypted %d values under key id %d\n", n, e.keyring.CurrentID())
		return nil
	}
	n, id, err := core.RotateKeys(sys)
	if err != nil {
		if id != 0 {
			return fmt.Errorf("added key id %d, but re-encryption failed and changed nothing (values still "+
				"decrypt under their old keys; fix the cause, then run \"webnet keys reencrypt\"): %w", id, err)
		}
		return fmt.Errorf("rotate keys: %w", err)
	}
	fmt.Fprintf(c.stdout, "added key id %d and re-encrypted %d values under it\n"+
		"restart every running webnet process so that it loads the new key\n", id, n)
	return nil
}
