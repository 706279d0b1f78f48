package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// adminEnv is what an administration command works with: the configuration, the migrated
// database and a Core, and a context carrying the system subject it acts as (audited as
// "system").
type adminEnv struct {
	cfg  Config
	log  *slog.Logger
	db   *store.DB
	core *service.Core
	sys  context.Context
	// keyring is the credential keyring, when the command asked for it.
	keyring *secret.Keyring
}

// Close releases the database.
func (e *adminEnv) Close() { e.db.Close() }

// openAdmin registers the storage flags on fs (the command may have added its own before),
// parses args, opens and migrates the database and builds a Core; withKeys loads the
// credential keyring too.
func (c cli) openAdmin(ctx context.Context, fs *flag.FlagSet, args []string, withKeys bool) (*adminEnv, error) {
	e := &adminEnv{}
	e.cfg.storageFlags(fs, c.getenv)
	if err := c.parse(fs, args); err != nil {
		return nil, err
	}
	if err := e.cfg.validate(); err != nil {
		return nil, usageError{err}
	}
	e.log = c.logger(e.cfg)
	var keyring *secret.Keyring
	if withKeys {
		var err error
		if keyring, err = secret.LoadKeyring(e.cfg.DataDir, e.cfg.SecretKey); err != nil {
			return nil, fmt.Errorf("credential keys: %w", err)
		}
	}
	db, err := openDB(ctx, e.cfg, e.log)
	if err != nil {
		return nil, err
	}
	access, err := service.NewAccess(db)
	if err == nil {
		e.core, err = service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: webnet.SystemClock{}, Keyring: keyring, Logger: e.log})
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	e.db, e.sys, e.keyring = db, service.WithSubject(ctx, service.System()), keyring
	return e, nil
}
