package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sync/errgroup"

	"webnet/internal/httpapi"
	"webnet/internal/jobs"
	"webnet/internal/kinds"
	"webnet/internal/password"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/ui"
	"webnet/internal/webnet"
)

// Main is a running webnet: database, services and HTTP server. End-to-end tests start one
// on port :0 with a temporary data dir, exactly as `webnet serve` does.
type Main struct {
	Config Config
	Logger *slog.Logger
	// Stderr receives the one-time password of the bootstrap superuser.
	Stderr io.Writer
	// HashParams are the argon2id parameters for new password hashes (default: OWASP's).
	HashParams password.Params
	Clock      webnet.Clock

	db        *store.DB
	identity  *service.Identity
	core      *service.Core
	handler   http.Handler
	ln        net.Listener
	runner    *jobs.Runner // nil with --no-worker
	scheduler *jobs.Scheduler
	feed      *service.Feed // live updates (nil for a worker)
}

// Open connects to the database, migrates it, wires the services, bootstraps the first
// superuser on an empty database and binds the listen address. Close undoes it.
func (m *Main) Open(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	if m.HashParams == (password.Params{}) {
		m.HashParams = password.DefaultParams
	}
	if m.Clock == nil {
		m.Clock = webnet.SystemClock{}
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.db, err = openDB(ctx, m.Config, m.Logger); err != nil {
		return err
	}
	hasher, err := password.NewHasher(m.HashParams, max(1, runtime.GOMAXPROCS(0)/2))
	if err != nil {
		return err
	}
	proxies, err := m.Config.trustedProxies()
	if err != nil {
		return err
	}
	m.identity, err = service.NewIdentity(service.IdentityConfig{DB: m.db, Hasher: hasher, Clock: m.Clock, Logger: m.Logger,
		SessionIdle: m.Config.SessionIdle, SessionAbsolute: m.Config.SessionAbsolute, LoginTokenTTL: m.Config.LoginTokenTTL})
	if err != nil {
		return err
	}
	health, err := service.NewHealth(m.db)
	if err != nil {
		return err
	}
	keyring, err := secret.LoadKeyring(m.Config.DataDir, m.Config.SecretKey)
	if err != nil {
		return fmt.Errorf("credential keys: %w", err)
	}
	access, err := service.NewAccess(m.db)
	if err != nil {
		return err
	}
	// The server binds before the services are built: the address it got (port :0 in
	// tests) is the default base of the firmware URLs devices fetch from.
	if !m.Config.WorkerOnly {
		if m.ln, err = net.Listen("tcp", m.Config.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
		}
	}
	m.core, err = service.NewCore(service.CoreConfig{DB: m.db, Access: access, Clock: m.Clock, Keyring: keyring,
		Hasher: hasher, Jobs: service.QueuedJobs{Clock: m.Clock}, Logger: m.Logger,
		Retention: webnet.Retention{Keep: m.Config.BackupKeep, KeepFor: m.Config.BackupKeepFor},
		DataDir:   m.Config.DataDir, FirmwareMaxSize: m.Config.FirmwareMaxSize, PublicURL: m.publicURL()})
	if err != nil {
		return err
	}
	// Every process scans the schedules: the database makes each tick run once.
	if m.scheduler, err = jobs.NewScheduler(jobs.SchedulerConfig{Runner: m.core, Logger: m.Logger}); err != nil {
		return err
	}
	if !m.Config.NoWorker {
		queue, err := service.NewJobQueue(service.JobQueueConfig{DB: m.db, Clock: m.Clock})
		if err != nil {
			return err
		}
		m.runner, err = jobs.New(jobs.Config{Queue: queue, Kinds: m.jobKinds(), Jobs: m.Config.WorkerJobs,
			Concurrency: m.Config.WorkerConcurrency, Lease: m.Config.JobLease, Clock: m.Clock, Logger: m.Logger})
		if err != nil {
			return err
		}
	}
	if m.Config.WorkerOnly {
		return nil
	}
	if m.feed, err = service.NewFeed(service.FeedConfig{DB: m.db, Access: access, Logger: m.Logger}); err != nil {
		return err
	}
	api, err := httpapi.New(httpapi.Config{Identity: m.identity, Core: m.core, Health: health, Logger: m.Logger,
		Version: version(), Live: m.feed})
	if err != nil {
		return err
	}
	pages, err := ui.New(ui.Config{Identity: m.identity, Core: m.core, Logger: m.Logger, Version: version()})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	api.Register(mux)
	pages.Register(mux)
	m.handler = httpapi.Wrap(httpapi.JSONFallback(mux),
		httpapi.MiddlewareConfig{Identity: m.identity, Logger: m.Logger, TrustedProxies: proxies})

	sys := service.WithSubject(ctx, service.System())
	pw, err := m.identity.EnsureInitialSuperuser(sys)
	if err != nil {
		return fmt.Errorf("bootstrap superuser: %w", err)
	}
	if pw != "" {
		fmt.Fprintf(m.Stderr, "\n  webnet created the superuser \"admin\" with this one-time password:\n\n      %s\n\n"+
			"  It is shown only now. Sign in and keep it somewhere safe.\n\n", pw)
		m.Logger.Info("created superuser admin on an empty database; its password was printed once on stderr")
		// Hashing it took argon2id's 19 MiB; give them back now rather than idle on them.
		debug.FreeOSMemory()
	}
	return nil
}

// publicURL is the base URL devices reach webnet at: --public-url, else http:// and the
// listen address when it names a host devices can use (not 0.0.0.0 or [::]), else "" (image
// URLs then need --public-url; a worker without it cannot make them).
func (m *Main) publicURL() string {
	if m.Config.PublicURL != "" || m.ln == nil {
		return m.Config.PublicURL
	}
	addr, ok := m.ln.Addr().(*net.TCPAddr)
	if !ok || addr.IP.IsUnspecified() {
		return ""
	}
	return "http://" + addr.String()
}

// jobKinds are the job kinds this build's workers run.
func (m *Main) jobKinds() []jobs.Kind {
	device := kinds.Config{Core: m.core}
	return []jobs.Kind{jobs.Noop(), kinds.Sync(device), kinds.ConfigPush(device), kinds.Compliance(device),
		kinds.Readiness(device), kinds.Upgrade(device, kinds.UpgradeConfig{})}
}

// openDB opens and migrates the configured database.
func openDB(ctx context.Context, cfg Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "versions", applied, "backend", string(db.Dialect()))
	}
	return db, nil
}

// Addr is the address the server listens on (useful with port :0); "" for a worker.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Handler is the whole HTTP handler, middleware included.
func (m *Main) Handler() http.Handler { return m.handler }

// Run serves until ctx is done, then shuts down gracefully; background maintenance stops
// with it.
func (m *Main) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	if m.ln != nil {
		g.Go(func() error {
			return httpapi.Serve(gctx, m.ln, m.handler, httpapi.ServeConfig{Logger: m.Logger, ShutdownTimeout: m.Config.ShutdownTimeout})
		})
		g.Go(func() error { m.janitor(gctx); return nil })
		g.Go(func() error { return m.feed.Run(gctx) })
	}
	g.Go(func() error { return m.db.Listen(gctx) })
	g.Go(func() error { return m.scheduler.Run(gctx) })
	if m.runner != nil {
		g.Go(func() error { return m.runner.Run(gctx) })
	}
	if m.ln != nil {
		m.Logger.Info("webnet ready", "listen", "http://"+m.Addr(), "backend", string(m.db.Dialect()), "version", version(),
			"worker", m.runner != nil)
	} else {
		m.Logger.Info("webnet worker ready", "worker", m.runner.Name(), "backend", string(m.db.Dialect()), "version", version())
	}
	err := g.Wait()
	m.Logger.Info("webnet stopped")
	return err
}

// janitor removes expired sessions and throttle windows every ten minutes and indexes new
// audit records every half minute (reads index what is left, so this only keeps them quick).
func (m *Main) janitor(ctx context.Context) {
	sys := service.WithSubject(ctx, service.System())
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	audit := time.NewTicker(30 * time.Second)
	defer audit.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-audit.C:
			if err := m.core.IndexAudit(sys); err != nil && !errors.Is(err, context.Canceled) {
				m.Logger.Warn("index audit log", "err", err)
			}
		case <-t.C:
			if n, err := m.identity.DeleteExpired(sys); err != nil && !errors.Is(err, context.Canceled) {
				m.Logger.Warn("delete expired sessions", "err", err)
			} else if n > 0 {
				m.Logger.Debug("deleted expired sessions and throttle windows", "rows", n)
			}
		}
	}
}

// Close releases the listener and the database.
func (m *Main) Close() error {
	var errs []error
	if m.ln != nil {
		if err := m.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
	}
	return errors.Join(errs...)
}

// newIdentityForCLI builds the identity service for administration commands.
func newIdentityForCLI(db *store.DB, log *slog.Logger) (*service.Identity, error) {
	hasher, err := password.NewHasher(password.DefaultParams, 1)
	if err != nil {
		return nil, err
	}
	return service.NewIdentity(service.IdentityConfig{DB: db, Hasher: hasher, Clock: webnet.SystemClock{}, Logger: log})
}
