package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notifications tell every process of a deployment that something changed, so that caches
// can drop what they hold. A transaction queues them with Tx.Notify; they are delivered only
// if it commits: to this process's subscribers right after the commit, and on PostgreSQL to
// every other process through NOTIFY, which PostgreSQL also delivers only on commit.

// notifyChannel is the PostgreSQL channel of a schema's notifications: "webnet_events" in
// the public schema, a name derived from the schema elsewhere, so that deployments (and test
// runs) sharing a database in different schemas do not hear each other's changes. The topic
// travels in the payload.
func notifyChannel(schema string) string {
	if schema == "" || schema == "public" {
		return "webnet_events"
	}
	sum := sha256.Sum256([]byte(schema))
	return "webnet_events_" + hex.EncodeToString(sum[:8])
}

// Notification is one change: a topic (say "auth") and a short payload (say "user:5").
// PostgreSQL limits payloads to 8000 bytes: carry ids, never rows.
type Notification struct {
	Topic   string
	Payload string
	// Reset, when true, means notifications may have been lost (the listener's connection
	// dropped or was re-established): subscribers must drop everything they cached.
	Reset bool
	// async marks a notification queued with Tx.Announce.
	async bool
}

// hub fans notifications out to this process's subscribers.
type hub struct {
	mu     sync.RWMutex
	next   int
	subs   map[int]func(Notification)
	remote atomic.Bool // PostgreSQL: the listener is connected, so remote changes arrive
}

func (h *hub) publish(n Notification) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, fn := range h.subs {
		fn(n)
	}
}

// Subscribe calls fn for every notification delivered to this process (fn must be quick
// and must not block) and returns a function that ends the subscription.
func (db *DB) Subscribe(fn func(Notification)) (cancel func()) {
	h := db.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.next
	h.next++
	h.subs[id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}
}

// NotifyChannel is the PostgreSQL channel of this database's notifications (empty on
// SQLite), for operators who want to LISTEN along.
func (db *DB) NotifyChannel() string { return db.channel }

// NotificationsReliable reports whether a change committed by any process reaches this
// process's subscribers: always on SQLite (one process), and on PostgreSQL while Listen is
// connected. Caches must not serve entries while this is false.
func (db *DB) NotificationsReliable() bool {
	return db.dialect == SQLite || db.hub.remote.Load()
}

// Notify queues a notification, delivered if and only if tx commits.
func (tx *Tx) Notify(ctx context.Context, topic, payload string) error {
	if strings.ContainsRune(topic, ' ') || len(topic)+len(payload) > 7000 {
		return fmt.Errorf("notify: bad topic %q or payload too long", topic)
	}
	for _, n := range *tx.pending {
		if n.Topic == topic && n.Payload == payload {
			return nil // already queued: once per transaction is enough
		}
	}
	if tx.d == Postgres {
		if _, err := tx.exec(ctx, `SELECT pg_notify(?, ?)`, tx.channel, topic+" "+payload); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	*tx.pending = append(*tx.pending, Notification{Topic: topic, Payload: payload})
	return nil
}

// Announce queues a notification sent after tx commits: to this process's subscribers at once
// and, on PostgreSQL, to other processes by a NOTIFY of its own, coalesced with others in one
// statement. Unlike Notify, it does not put a NOTIFY in the transaction: PostgreSQL
// serialises the commits of notifying transactions (each holds a global lock across its WAL
// flush), which capped job throughput at one commit at a time. The price: a process that
// dies between its commit and the send leaves other processes unannounced. So Announce is for
// hints whose receivers read the rows anyway and also poll (job progress, the queue); cache
// invalidation (TopicAuth) and cancellation use Notify.
func (tx *Tx) Announce(topic, payload string) error {
	if strings.ContainsRune(topic, ' ') || len(topic)+len(payload) > 7000 {
		return fmt.Errorf("announce: bad topic %q or payload too long", topic)
	}
	for _, n := range *tx.pending {
		if n.Topic == topic && n.Payload == payload {
			return nil
		}
	}
	*tx.pending = append(*tx.pending, Notification{Topic: topic, Payload: payload, async: true})
	return nil
}

// outbox holds announcements waiting to be sent to other processes, without duplicates, in
// the order first queued. Only a running sender (Listen, on PostgreSQL) accepts them.
type outbox struct {
	mu      sync.Mutex
	active  bool
	order   []string
	queued  map[string]bool
	waiting chan struct{}
}

func (o *outbox) add(n Notification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.active {
		return
	}
	msg := n.Topic + " " + n.Payload
	if o.queued[msg] {
		return
	}
	o.queued[msg] = true
	o.order = append(o.order, msg)
	select {
	case o.waiting <- struct{}{}:
	default:
	}
}

func (o *outbox) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.order
	o.order, o.queued = nil, map[string]bool{}
	return out
}

func (o *outbox) setActive(on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.active = on
	if !on {
		o.order, o.queued = nil, map[string]bool{}
	}
}

// sendAnnouncements sends queued announcements until ctx ends: everything waiting in one
// NOTIFY statement (its own short transaction, which writes no WAL).
func (db *DB) sendAnnouncements(ctx context.Context) {
	o := db.outbox
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.waiting:
		}
		msgs := o.take()
		for len(msgs) > 0 && ctx.Err() == nil {
			_, err := db.w.ExecContext(ctx, `SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m`, db.channel, msgs)
			if err == nil {
				break
			}
			db.log.Warn("announce changes to other processes; retrying", "err", err, "count", len(msgs))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Listen delivers other processes' notifications to this process's subscribers until ctx is
// done, reconnecting with backoff, and sends this process's announcements (Tx.Announce) to
// theirs. On SQLite it returns at once: there is no other process.
// Every (re)connection and every loss is announced to subscribers as a Reset.
func (db *DB) Listen(ctx context.Context) error {
	if db.dialect != Postgres {
		return nil
	}
	db.outbox.setActive(true) // from now on, announcements wait for the sender
	defer db.outbox.setActive(false)
	sendCtx, stopSending := context.WithCancel(ctx)
	var sender sync.WaitGroup
	sender.Go(func() { db.sendAnnouncements(sendCtx) })
	defer func() { stopSending(); sender.Wait() }()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx)
		db.hub.remote.Store(false)
		db.hub.publish(Notification{Reset: true})
		if ctx.Err() != nil {
			return nil
		}
		db.log.Warn("notification listener disconnected; retrying", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, db.url)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+db.channel); err != nil {
		return err
	}
	// Changes made before LISTEN took effect were not heard: drop caches, then trust.
	db.hub.publish(Notification{Reset: true})
	db.hub.remote.Store(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		topic, payload, _ := strings.Cut(n.Payload, " ")
		db.hub.publish(Notification{Topic: topic, Payload: payload})
	}
}
