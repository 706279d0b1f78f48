package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"webnet/internal/authz"
	"webnet/internal/firmware"
	"webnet/internal/password"
	"webnet/internal/secret"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// CoreConfig configures Core. DB, Access and Clock are required; Keyring is required for
// credentials and Hasher for creating users and changing their passwords.
type CoreConfig struct {
	DB      *store.DB
	Access  *Access
	Clock   webnet.Clock
	Keyring *secret.Keyring
	Hasher  *password.Hasher
	Jobs    JobService
	Logger  *slog.Logger
	// Retention says which configuration backups to keep (zero: all).
	Retention webnet.Retention
	// DataDir holds the firmware images (its firmware/ subdirectory); without it the
	// firmware methods fail.
	DataDir string
	// FirmwareMaxSize is the largest firmware image accepted (default
	// DefaultFirmwareMaxSize).
	FirmwareMaxSize int64
	// PublicURL is the base URL devices reach webnet at (http(s)://host[:port][/path]), for
	// the signed firmware URLs of FirmwareURL; empty, FirmwareURL is unavailable.
	PublicURL string
}

// Core is the service for tenant data: customers, users and their grants, device groups and
// roles, devices, credentials, custom actions and the audit log. Every method authorizes the
// subject in ctx, and every change writes its audit record in the same transaction.
type Core struct {
	db      *store.DB
	access  *Access
	clock   webnet.Clock
	keyring *secret.Keyring
	hasher  *password.Hasher
	jobs    JobService
	log     *slog.Logger
	retain  webnet.Retention
	// firmware is the image files' directory (nil without a data dir); publicURL the base
	// of signed firmware URLs (nil when not configured).
	firmware  *firmware.Store
	publicURL *url.URL
}

// NewCore returns a Core, refusing a config without its dependencies.
func NewCore(cfg CoreConfig) (*Core, error) {
	if cfg.DB == nil || cfg.Access == nil || cfg.Clock == nil {
		return nil, errors.New("core: DB, Access and Clock are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Jobs == nil {
		cfg.Jobs = QueuedJobs{}
	}
	c := &Core{db: cfg.DB, access: cfg.Access, clock: cfg.Clock, keyring: cfg.Keyring, hasher: cfg.Hasher, jobs: cfg.Jobs, log: cfg.Logger,
		retain: cfg.Retention}
	if cfg.DataDir != "" {
		if cfg.FirmwareMaxSize <= 0 {
			cfg.FirmwareMaxSize = DefaultFirmwareMaxSize
		}
		fw, err := firmware.NewStore(firmware.Config{DataDir: cfg.DataDir, MaxSize: cfg.FirmwareMaxSize, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
		c.firmware = fw
	}
	if cfg.PublicURL != "" {
		u, err := parsePublicURL(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
		c.publicURL = u
	}
	return c, nil
}

// entry is an audit record in the making.
type entry struct {
	action     string
	objectType string
	objectID   int64
	repr       string
	customerID int64 // 0: none
	details    map[string]any
	// actor and actorName override the subject of the context: sign-in records name the
	// user who signed in, or the username that was tried.
	actor     *webnet.User
	actorName string
}

// activity turns an entry into a store record with the actor and request of ctx.
func (c *Core) activity(ctx context.Context, e entry, result string) *store.Activity {
	return newActivity(ctx, c.clock, e, result)
}

// newActivity turns an entry into a store record with the actor and request of ctx (or the
// entry's own actor, for sign-in where nobody is in the context yet).
func newActivity(ctx context.Context, clock webnet.Clock, e entry, result string) *store.Activity {
	a := &store.Activity{At: clock.Now(), Action: e.action, ObjectType: e.objectType, ObjectRepr: e.repr, Result: result}
	if e.objectID != 0 {
		a.ObjectID = store.ActivityIDString(e.objectID)
	}
	if e.customerID != 0 {
		id := e.customerID
		a.CustomerID = &id
	}
	sub := SubjectFrom(ctx)
	switch {
	case e.actor != nil:
		id := e.actor.ID
		a.ActorID, a.ActorUsername = &id, e.actor.Username
	case e.actorName != "":
		a.ActorUsername = e.actorName
	case sub.IsSystem():
		a.ActorUsername = "system"
	case sub != nil && sub.User != nil:
		id := sub.User.ID
		a.ActorID, a.ActorUsername = &id, sub.User.Username
	default:
		a.ActorUsername = "anonymous"
	}
	req := RequestFrom(ctx)
	a.IP, a.RequestID = req.ClientAddr, req.ID
	if e.details != nil {
		b, err := json.Marshal(e.details)
		if err == nil {
			a.Details = b
		}
	}
	return a
}

// audit writes a successful change's record in the change's transaction.
func (c *Core) audit(ctx context.Context, tx *store.Tx, e entry) error {
	return tx.AppendActivity(ctx, c.activity(ctx, e, "success"))
}

// denied records a refused mutation or custom action in its own transaction (the refused
// change never had one) and returns err, the refusal, unchanged.
func (c *Core) denied(ctx context.Context, e entry, err error) error {
	code := webnet.ErrorCode(err)
	if code != webnet.EForbidden && code != webnet.ENotFound {
		return err
	}
	if code == webnet.ENotFound {
		// The object is invisible to the actor: the record is the actor's alone. Filing it
		// under the object's customer would show that customer's admins who probed them and
		// name their objects to the record's readers.
		e.customerID, e.objectID, e.repr = 0, 0, ""
		e.details = nil
	}
	if e.details == nil {
		e.details = map[string]any{}
	}
	e.details["error"] = webnet.ErrorMessage(err)
	if werr := c.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendActivity(ctx, c.activity(ctx, e, "denied"))
	}); werr != nil {
		c.log.ErrorContext(ctx, "audit a denial", "action", e.action, "err", werr)
	}
	return err
}

// grants returns the grants of the subject in ctx.
func (c *Core) grants(ctx context.Context) (*authz.Grants, error) {
	return c.access.Grants(ctx)
}

// changes returns the before/after of the fields that differ, for the audit details.
func changes(before, after map[string]any) map[string]any {
	out := map[string]any{}
	for k, a := range after {
		b := before[k]
		if fmt.Sprint(a) != fmt.Sprint(b) {
			out[k] = map[string]any{"before": b, "after": a}
		}
	}
	return out
}

// redacted stands for a secret in audit details.
const redacted = "[redacted]"

func notFoundErr(what string) error { return webnet.Errorf(webnet.ENotFound, "%s not found.", what) }

func forbidden(format string, args ...any) error {
	return webnet.Errorf(webnet.EForbidden, format, args...)
}
