package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/password"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// env is a whole API over a real database: the same wiring as `webnet serve`, on a test
// server, with a manual clock.
type env struct {
	srv    *httptest.Server
	id     *service.Identity
	core   *service.Core
	feed   *service.Feed
	db     *store.DB
	clock  *webnet.ManualClock
	hasher *password.Hasher
	mux    *http.ServeMux
	api    *httpapi.API
	// dataDir is the Core's data dir: firmware images are in its firmware/ subdirectory.
	dataDir string
	// stopFeed stops the live feed, as a shutdown does (the test's end does it anyway).
	stopFeed func()
}

const rootPassword = "correct horse battery staple"

// testFirmwareMaxSize is the firmware size limit of test APIs: small, so that going over it
// is quick.
const testFirmwareMaxSize = 1 << 20

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	return newEnvWith(t, db, nil)
}

// newEnvWith is newEnv with the API's and the live feed's configurations adjusted by tune
// (when not nil).
func newEnvWith(t testing.TB, db *store.DB, tune func(*httpapi.Config, *service.FeedConfig)) *env {
	t.Helper()
	return newEnvTuned(t, db, tune, nil)
}

// newEnvTuned is newEnvWith with the Core's configuration adjusted by tuneCore too (when not
// nil).
func newEnvTuned(t testing.TB, db *store.DB, tune func(*httpapi.Config, *service.FeedConfig), tuneCore func(*service.CoreConfig)) *env {
	t.Helper()
	h, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock := webnet.NewManualClock(time.Now())
	id, err := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: clock,
		Throttle: service.ThrottlePolicy{PerUser: 3, PerAddress: 1000, Window: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.LoadKeyring(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	coreCfg := service.CoreConfig{DB: db, Access: access, Clock: clock, Keyring: keyring,
		Hasher: h, Jobs: service.QueuedJobs{Clock: clock}, DataDir: dataDir, FirmwareMaxSize: testFirmwareMaxSize,
		PublicURL: "http://webnet.test:8080"}
	if tuneCore != nil {
		tuneCore(&coreCfg)
	}
	core, err := service.NewCore(coreCfg)
	if err != nil {
		t.Fatal(err)
	}
	health, _ := service.NewHealth(db)
	cfg := httpapi.Config{Identity: id, Core: core, Health: health, Version: "test", MaxBody: 4096}
	feedCfg := service.FeedConfig{DB: db, Access: access}
	if tune != nil {
		tune(&cfg, &feedCfg)
	}
	feed, err := service.NewFeed(feedCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Live = feed
	api, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	mux.HandleFunc("POST /test/cookie-only", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(httpapi.Wrap(httpapi.JSONFallback(mux), httpapi.MiddlewareConfig{Identity: id}))
	t.Cleanup(srv.Close)
	// The feed stops before the server closes (cleanups run last first): its WebSockets end.
	ctx, stop := context.WithCancel(context.Background())
	fed := make(chan error, 1)
	go func() { fed <- feed.Run(ctx) }()
	stopFeed := sync.OnceFunc(func() {
		stop()
		if err := <-fed; err != nil {
			t.Errorf("feed: %v", err)
		}
	})
	t.Cleanup(stopFeed)
	// Whatever a test did, the audit chain it leaves behind must verify.
	t.Cleanup(func() {
		bad, n, err := db.Read().VerifyChain(context.Background())
		if err != nil || bad != 0 {
			t.Errorf("audit chain after the test: broken at record %d of %d (%v)", bad, n, err)
		}
	})
	if _, err := id.CreateSuperuser(service.WithSubject(context.Background(), service.System()), "root", "", rootPassword); err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, id: id, core: core, feed: feed, stopFeed: stopFeed, db: db, clock: clock, hasher: h, mux: mux, api: api,
		dataDir: dataDir}
}

// tx runs test set-up writes directly in the store (what no API offers, or faster).
func (e *env) tx(t testing.TB, fn func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := e.db.InTx(ctx, func(tx *store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

// customer creates a customer and returns its id.
func (e *env) customer(t testing.TB, slug string) int64 {
	t.Helper()
	c := &webnet.Customer{Name: slug, Slug: slug, CreatedAt: e.clock.Now()}
	e.tx(t, func(ctx context.Context, tx *store.Tx) error { return tx.CreateCustomer(ctx, c) })
	return c.ID
}

// user creates an active user (staff/superuser as flagged) with memberships
// (customer id → role) and returns its id and an API token.
func (e *env) user(t testing.TB, username string, staff, superuser bool, memberships map[int64]webnet.Role) (int64, string) {
	t.Helper()
	hash, err := e.hasher.Hash(context.Background(), "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	u := &webnet.User{Username: username, PasswordHash: hash, IsActive: true, IsStaff: staff, IsSuperuser: superuser, CreatedAt: e.clock.Now()}
	e.tx(t, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		for cid, role := range memberships {
			if err := tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: cid, Role: role, CreatedAt: e.clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	r := e.do(t, "POST", "/api/auth/token/", `{"username":"`+username+`","password":"a long enough password"}`)
	if r.status != 200 {
		t.Fatalf("token for %s: %d %s", username, r.status, r.raw)
	}
	return u.ID, r.body["token"].(string)
}

// as returns the header arguments of a request authenticated by token.
func as(token string) []string { return []string{"Authorization", "Token " + token} }
