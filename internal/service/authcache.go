package service

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// authCache keeps recently authenticated API tokens in memory, so that the token path of a
// request is a map lookup rather than a database round trip (budget: 20 µs).
//
// It is correct across processes: every change to a user's standing commits a store
// notification, which drops that user's entries here (at once in this process, through
// LISTEN/NOTIFY in others), and the cache serves nothing while notifications from other
// processes might be missed (the PostgreSQL listener is down). A time limit bounds the life
// of any entry all the same.
type authCache struct {
	mu       sync.Mutex
	entries  map[string]*cachedToken // by key hash
	reliable func() bool
	maxAge   time.Duration
	maxSize  int
	gen      uint64 // counts invalidations
}

type cachedToken struct {
	token    webnet.Token
	user     webnet.User
	cachedAt time.Time
}

func newAuthCache(db *store.DB) *authCache {
	c := &authCache{entries: map[string]*cachedToken{}, reliable: db.NotificationsReliable,
		maxAge: time.Minute, maxSize: 10000}
	db.Subscribe(c.notified)
	return c
}

// get returns a copy of the cached token and user for keyHash, if fresh.
func (c *authCache) get(keyHash string, now time.Time) (webnet.Token, webnet.User, bool) {
	if !c.reliable() {
		return webnet.Token{}, webnet.User{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[keyHash]
	if !ok || now.Sub(e.cachedAt) >= c.maxAge || now.Before(e.cachedAt) {
		return webnet.Token{}, webnet.User{}, false
	}
	return e.token, e.user, true
}

// put caches what the database said about keyHash. gen is the generation read before the
// database query: if an invalidation happened since, the read may be stale and is dropped.
func (c *authCache) put(keyHash string, t webnet.Token, u webnet.User, now time.Time, gen uint64) {
	if !c.reliable() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.maxSize {
		clear(c.entries)
	}
	c.entries[keyHash] = &cachedToken{token: t, user: u, cachedAt: now}
}

// generation returns the invalidation count, to be read before a database query whose
// result will be put.
func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// touched records a last-use time written to the database.
func (c *authCache) touched(keyHash string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[keyHash]; ok {
		e.token.LastUsedAt = &at
	}
}

func (c *authCache) notified(n store.Notification) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if n.Reset {
		clear(c.entries)
		return
	}
	if n.Topic != store.TopicAuth {
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(n.Payload, "user:"), 10, 64)
	if err != nil {
		clear(c.entries)
		return
	}
	for k, e := range c.entries {
		if e.user.ID == id {
			delete(c.entries, k)
		}
	}
}
