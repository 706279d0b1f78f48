package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Access compiles users' authorization grants from the database and caches them per user.
// A cached entry is dropped by the store notification every RBAC change commits (in every
// process), and nothing is cached while notifications could be missed.
type Access struct {
	db *store.DB

	mu      sync.Mutex
	entries map[int64]*authz.Grants
	gen     uint64
}

// NewAccess returns an Access over db.
func NewAccess(db *store.DB) (*Access, error) {
	if db == nil {
		return nil, errors.New("access: DB is required")
	}
	a := &Access{db: db, entries: map[int64]*authz.Grants{}}
	db.Subscribe(a.notified)
	return a, nil
}

func (a *Access) notified(n store.Notification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	if n.Reset || n.Topic != store.TopicAuth {
		if n.Reset {
			clear(a.entries)
		}
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(n.Payload, "user:"), 10, 64)
	if err != nil {
		clear(a.entries)
		return
	}
	delete(a.entries, id)
}

// Grants returns the compiled grants of the subject in ctx (loading them once per request).
// The system subject gets grants that allow everything.
func (a *Access) Grants(ctx context.Context) (*authz.Grants, error) {
	sub := SubjectFrom(ctx)
	if sub == nil {
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Authentication credentials were not provided.")
	}
	if sub.IsSystem() {
		return systemGrants, nil
	}
	if sub.User == nil {
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Authentication credentials were not provided.")
	}
	sub.grantsOnce.Do(func() { sub.grants, sub.grantsErr = a.load(ctx, sub.User) })
	return sub.grants, sub.grantsErr
}

// systemGrants let the system subject past every check: it is never a user's.
var systemGrants = &authz.Grants{Active: true, Superuser: true, Customers: map[int64]*authz.CustomerGrants{}}

// GrantsOf compiles the grants of any user (for the access explainer and scheduled jobs).
func (a *Access) GrantsOf(ctx context.Context, u *webnet.User) (*authz.Grants, error) {
	return a.load(ctx, u)
}

func (a *Access) load(ctx context.Context, u *webnet.User) (*authz.Grants, error) {
	reliable := a.db.NotificationsReliable()
	a.mu.Lock()
	if g, ok := a.entries[u.ID]; ok && reliable && g.Active == u.IsActive && g.Staff == u.IsStaff && g.Superuser == u.IsSuperuser {
		a.mu.Unlock()
		return g, nil
	}
	gen := a.gen
	a.mu.Unlock()

	rows, err := a.db.Read().GrantRows(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	g, err := Compile(u, rows)
	if err != nil {
		return nil, err
	}
	if reliable {
		a.mu.Lock()
		if gen == a.gen {
			if len(a.entries) > 50000 {
				clear(a.entries)
			}
			a.entries[u.ID] = g
		}
		a.mu.Unlock()
	}
	return g, nil
}

// Compile builds a user's grants from the grant facts the store returned.
func Compile(u *webnet.User, rows []store.GrantRow) (*authz.Grants, error) {
	g := authz.NewGrants(u)
	for _, r := range rows {
		src := authz.Source{Kind: r.SourceKind, ID: r.SourceID, Name: r.SourceName, Via: r.ViaGroupID, ViaName: r.ViaGroupName}
		switch r.Kind {
		case "role":
			role := webnet.Role(r.Code)
			if !role.Valid() {
				return nil, fmt.Errorf("compile grants: unknown role %q", r.Code)
			}
			g.AddMembership(r.CustomerID, role)
		case "wide":
			p, ok := webnet.ParsePerm(r.Code)
			if !ok {
				return nil, fmt.Errorf("compile grants: unknown permission %q", r.Code)
			}
			g.AddWide(r.CustomerID, webnet.PermSet(p), src)
		case "group_role":
			var perms webnet.PermSet
			for code := range strings.SplitSeq(r.Code, ",") {
				if code == "" {
					continue
				}
				p, ok := webnet.ParsePerm(code)
				if !ok {
					return nil, fmt.Errorf("compile grants: unknown group permission %q", code)
				}
				perms = perms.Add(p)
			}
			g.AddGroupRole(r.CustomerID, r.DeviceGroupID, perms, src)
		}
	}
	return g, nil
}
