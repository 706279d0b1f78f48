package service

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Live updates (GET /api/ws). The Feed turns store notifications into shared, unfiltered
// state: for each watched job its summary, its targets with their devices' places and its
// newest log lines; for the "jobs" and "devices" subscriptions a short history of events.
// Each connection's Watcher (livewatch.go) pulls from that state what its user may see and
// encodes it. The split is the point:
//
//   - the Feed reads the database once per change, however many watchers there are, and never
//     waits for a watcher: it only flips each one's wake-up flag;
//   - a slow watcher never holds anything up and needs no queue: when it gets to run, it
//     takes what is new (lines by seq, state by version), reading older lines from the
//     database if the shared window has moved past it. Nothing is lost, nothing is sent
//     twice, and the client's after=seq resumes a dropped connection the same way;
//   - authorization is applied per watcher with its own compiled grants, by the rules of
//     jobview.go (design.md §2): a line about a device the user cannot see is never sent.
//
// Notifications carry ids only (PostgreSQL limits payloads); the Feed fetches rows. Between
// processes they travel by LISTEN/NOTIFY, so a job run by another process's worker shows up
// here too. While the listener is down the Feed re-reads watched jobs every PollInterval;
// when it reconnects (a Reset: changes may have been missed, authorization changes among
// them) every watcher is closed with a request to reconnect and resume.

// FeedConfig configures a Feed. DB and Access are required.
type FeedConfig struct {
	DB     *store.DB
	Access *Access
	Logger *slog.Logger
	// RecentLines is how many of a watched job's newest log lines are kept in memory for its
	// watchers; one further behind reads from the database (default 1024).
	RecentLines int
	// RecentEvents is how many job and device events are kept for the "jobs" and "devices"
	// subscriptions; a watcher further behind is told to resync (default 4096).
	RecentEvents int
	// MaxSubscriptions caps one watcher's subscriptions (default 32).
	MaxSubscriptions int
	// PollInterval is how often watched jobs are re-read while changes made by other
	// processes might not be heard, and how soon a failed read is retried (default 2s).
	PollInterval time.Duration
}

// Feed is the source of live updates: one per process, started with Run.
type Feed struct {
	db     *store.DB
	access *Access
	log    *slog.Logger
	cfg    FeedConfig
	wake   chan struct{} // capacity 1: Run has work
	cancel func()        // ends the store subscription
	ran    atomic.Bool

	mu           sync.Mutex
	closed       bool
	watchers     map[*Watcher]struct{}
	jobs         map[int64]*jobState // jobs with at least one job:{id} subscription
	dirtyJobs    map[int64]struct{}
	dirtyDevices []store.DeviceChange
	reset        bool // notifications may have been lost
	streams      [2]int

	evMu     sync.RWMutex
	events   []event // the newest events, consecutive seqs; elements are never modified
	eventSeq uint64  // seq of the newest event

	// Owned by Run's goroutine.
	version   uint64
	summaries map[int64][]byte         // last job summary put in events, per job
	places    map[int64][]authz.Target // places of jobs' target devices, for their events
}

// The two event streams a watcher can subscribe to.
const (
	streamJobs    = 0
	streamDevices = 1
)

var streamNames = [2]string{"jobs", "devices"}

// jobState is the shared state of one watched job. Run writes it under mu; watchers read it
// under RLock and keep no pointer into it but to immutable elements.
type jobState struct {
	id       int64
	watchers map[*Watcher]struct{} // guarded by Feed.mu

	mu          sync.RWMutex
	loaded      bool   // read from the database at least once
	missing     bool   // the job does not exist
	version     uint64 // last change of the summary or the targets
	snapshotVer uint64 // last change that needs a fresh snapshot: the target set or a device's place
	summaryVer  uint64
	summary     []byte     // the job without targets, JSON
	job         webnet.Job // the job without targets
	targets     []liveTarget
	latest      int64      // seq of the newest line read
	lines       []liveLine // the newest lines, consecutive seqs ending at latest

	// Owned by Run's goroutine.
	targetsRev int64 // revision of the targets' last change read (store.LiveTargets)
	stale      bool  // the targets must be read whole: a target's device moved or went
}

type liveTarget struct {
	store.LiveTarget
	ver uint64 // last change of status or message
}

// liveLine is one log line, encoded once for every watcher.
type liveLine struct {
	seq    int64
	device int64 // 0: a line about the job, not a device
	json   []byte
}

// event is one entry of the "jobs" and "devices" streams.
type event struct {
	seq    uint64
	stream int
	// stream jobs: a job's summary, its requester and the places of its target devices.
	summary   []byte
	requester int64
	places    []authz.Target
	// stream devices: a device's places before and after (DeviceGroupID store.NoDevice:
	// none) and its JSON, nil when it no longer exists.
	deviceID      int64
	before, after authz.Target
	device        []byte
}

// NewFeed returns a Feed, refusing a config without its dependencies. It listens to the
// store's notifications from now on; Run must be called to serve them.
func NewFeed(cfg FeedConfig) (*Feed, error) {
	if cfg.DB == nil || cfg.Access == nil {
		return nil, errors.New("feed: DB and Access are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RecentLines <= 0 {
		cfg.RecentLines = 1024
	}
	if cfg.RecentEvents <= 0 {
		cfg.RecentEvents = 4096
	}
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = 32
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	f := &Feed{db: cfg.DB, access: cfg.Access, log: cfg.Logger, cfg: cfg, wake: make(chan struct{}, 1),
		watchers: map[*Watcher]struct{}{}, jobs: map[int64]*jobState{}, dirtyJobs: map[int64]struct{}{},
		summaries: map[int64][]byte{}, places: map[int64][]authz.Target{}}
	f.cancel = cfg.DB.Subscribe(f.notified)
	return f, nil
}

// Run reads what changed and wakes the watchers concerned until ctx is done, then closes
// every watcher (ErrFeedClosed) and refuses new ones. It runs once.
func (f *Feed) Run(ctx context.Context) error {
	if f.ran.Swap(true) {
		return errors.New("feed: Run called twice")
	}
	defer f.stop()
	tick := time.NewTicker(f.cfg.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.wake:
		case <-tick.C:
			if !f.db.NotificationsReliable() {
				// Device moves may have gone unheard too: targets are read whole.
				f.markWatchedDirty(true)
				clear(f.places)
			}
		}
		if err := f.pass(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// What failed is still dirty: retry at the next tick, not in a tight loop.
			f.log.Warn("live updates: read changes", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}
}

// stop closes every watcher and the store subscription.
func (f *Feed) stop() {
	f.cancel()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for w := range f.watchers {
		w.fail(ErrFeedClosed)
	}
}

// kick tells Run there is work, without ever waiting.
func (f *Feed) kick() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// notified runs in the goroutine that committed a change (or in the listener): it only
// records what changed and wakes Run.
func (f *Feed) notified(n store.Notification) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case n.Reset:
		f.reset = true
	case n.Topic == store.TopicJob:
		id, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			return
		}
		if _, watched := f.jobs[id]; watched || f.streams[streamJobs] > 0 {
			f.dirtyJobs[id] = struct{}{}
		}
	case n.Topic == store.TopicDevice:
		// Job events carry their devices' places: the "jobs" stream needs device moves too.
		if len(f.jobs) == 0 && f.streams[streamDevices] == 0 && f.streams[streamJobs] == 0 {
			return
		}
		changes, err := store.ParseDeviceChanges(n.Payload)
		if err != nil {
			f.log.Warn("live updates: bad device notification", "payload", n.Payload, "err", err)
			return
		}
		f.dirtyDevices = append(f.dirtyDevices, changes...)
	case n.Topic == store.TopicAuth:
		// A user's credentials or standing changed: their connections authenticate again.
		// Anything else (roles, groups, bundles) only changes grants: recompile them.
		if id, err := strconv.ParseInt(strings.TrimPrefix(n.Payload, "user:"), 10, 64); err == nil {
			for w := range f.watchers {
				if w.user.ID == id {
					w.fail(&ReconnectError{Reason: "Your access changed; reconnect."})
				}
			}
			return
		}
		for w := range f.watchers {
			w.regrant.Store(true)
			w.signal()
		}
		return
	default:
		return
	}
	f.kick()
}

// markWatchedDirty marks every watched job for a re-read, of all its targets when whole. It
// runs in Run's goroutine.
func (f *Feed) markWatchedDirty(whole bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, js := range f.jobs {
		f.dirtyJobs[id] = struct{}{}
		if whole {
			js.stale = true
		}
	}
}

// pass reads everything marked since the last pass and wakes the watchers concerned.
func (f *Feed) pass(ctx context.Context) error {
	f.mu.Lock()
	reset := f.reset
	jobs, devices := f.dirtyJobs, f.dirtyDevices
	f.reset, f.dirtyJobs, f.dirtyDevices = false, map[int64]struct{}{}, nil
	streaming := f.streams
	f.mu.Unlock()
	if reset {
		// Whatever was missed, authorization changes included, reconnecting recovers it: the
		// client authenticates again and resumes from its last seq.
		f.mu.Lock()
		for w := range f.watchers {
			w.fail(&ReconnectError{Reason: "Live updates were interrupted; reconnect and resume."})
		}
		f.mu.Unlock()
		clear(f.summaries)
		clear(f.places)
		f.markWatchedDirty(true)
	}
	if streaming[streamJobs] == 0 {
		// Nobody to tell; a later subscriber starts afresh (device moves went unheard).
		clear(f.summaries)
		clear(f.places)
	}
	if len(devices) > 0 {
		if err := f.devicesChanged(ctx, devices, jobs, streaming[streamDevices] > 0); err != nil {
			f.requeue(slices.Collect(maps.Keys(jobs)), devices)
			return err
		}
	}
	ids := slices.Sorted(maps.Keys(jobs))
	for i, id := range ids {
		f.mu.Lock()
		js := f.jobs[id]
		f.mu.Unlock()
		if js == nil && streaming[streamJobs] == 0 {
			continue
		}
		more, err := f.refreshJob(ctx, id, js, streaming[streamJobs] > 0)
		if err != nil {
			f.requeue(ids[i:], nil)
			return err
		}
		if more { // a long backlog of lines: take turns with the other jobs
			f.requeue([]int64{id}, nil)
			f.kick()
		}
	}
	return nil
}

// requeue marks again what a pass could not finish.
func (f *Feed) requeue(jobs []int64, devices []store.DeviceChange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range jobs {
		f.dirtyJobs[id] = struct{}{}
	}
	f.dirtyDevices = append(devices, f.dirtyDevices...)
}

// devicesChanged marks the watched jobs with a moved or deleted device among their targets
// for a whole re-read, forgets the places of the others and, for the "devices" stream, reads
// the devices and records their events.
func (f *Feed) devicesChanged(ctx context.Context, changes []store.DeviceChange, jobs map[int64]struct{}, stream bool) error {
	changed := map[int64]bool{}
	moved := map[int64]bool{}
	for _, c := range changes {
		changed[c.ID] = true
		if c.Before != c.After {
			moved[c.ID] = true
		}
	}
	if len(moved) > 0 {
		clear(f.places)
		f.mu.Lock()
		watched := make([]*jobState, 0, len(f.jobs))
		for _, js := range f.jobs {
			watched = append(watched, js)
		}
		f.mu.Unlock()
		for _, js := range watched {
			// Run writes js.targets: it reads them without the lock.
			for _, t := range js.targets {
				if moved[t.DeviceID] {
					jobs[js.id] = struct{}{}
					js.stale = true
					break
				}
			}
		}
	}
	if !stream {
		return nil
	}
	ids := slices.Sorted(maps.Keys(changed))
	devices, err := f.db.Read().DevicesByIDs(ctx, ids)
	if err != nil {
		return err
	}
	now := map[int64]*webnet.Device{}
	for i := range devices {
		now[devices[i].ID] = &devices[i]
	}
	// One event per device, from its place before the first change to where it is now.
	first := map[int64]store.DeviceChange{}
	for _, c := range changes {
		if _, seen := first[c.ID]; !seen {
			first[c.ID] = c
		}
	}
	var evs []event
	for _, id := range ids {
		c := first[id]
		ev := event{stream: streamDevices, deviceID: id,
			before: authz.Target{CustomerID: c.CustomerID, DeviceGroupID: c.Before},
			after:  authz.Target{CustomerID: c.CustomerID, DeviceGroupID: store.NoDevice}}
		if d := now[id]; d != nil {
			ev.after = authz.TargetOf(d)
			if ev.device, err = encodeJSON(d); err != nil {
				return err
			}
		}
		evs = append(evs, ev)
	}
	f.publish(evs...)
	return nil
}

// maxLinesPerPass bounds how many lines one job's read takes before other jobs get a turn.
const maxLinesPerPass = 5000

// refreshJob re-reads a job: into its shared state when it is watched (js), and as an event
// for the "jobs" stream when its summary changed. Of a watched job's targets it reads only
// those changed since the revision it has (store.LiveTargets), all of them the first time or
// when a target's device moved or went. more reports that something remains to read.
func (f *Feed) refreshJob(ctx context.Context, id int64, js *jobState, stream bool) (more bool, err error) {
	lj, err := f.db.Read().LiveJob(ctx, id)
	if webnet.ErrorCode(err) == webnet.ENotFound {
		delete(f.summaries, id)
		delete(f.places, id)
		if js != nil {
			f.version++
			js.mu.Lock()
			js.loaded, js.missing, js.version = true, true, f.version
			js.mu.Unlock()
			f.signalJob(js)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	summary, err := encodeJSON(summaryOf(&lj.Job))
	if err != nil {
		return false, err
	}
	changed := false
	if js != nil {
		whole := !js.loaded || js.missing || js.stale
		var targets []store.LiveTarget
		if whole || lj.TargetsRev > js.targetsRev {
			after := js.targetsRev
			if whole {
				after = -1
			}
			if targets, err = f.db.Read().LiveTargets(ctx, id, after); err != nil {
				return false, err
			}
		}
		lines, moreLines, err := f.readLines(ctx, js, lj.LogSeq)
		if err != nil {
			return false, err
		}
		var merged bool
		changed, merged = f.applyJob(js, lj, summary, targets, whole, lines)
		// A target the job did not have: read them all again at once.
		more = moreLines || !merged
	}
	if stream && !bytes.Equal(summary, f.summaries[id]) {
		places, err := f.jobPlaces(ctx, id, js)
		if err != nil {
			return false, err
		}
		if len(f.summaries) >= 10000 {
			clear(f.summaries) // the cost of forgetting is one repeated summary
		}
		f.summaries[id] = summary
		ev := event{stream: streamJobs, summary: summary, places: places}
		if lj.Job.RequestedBy != nil {
			ev.requester = *lj.Job.RequestedBy
		}
		f.publish(ev)
	}
	if changed {
		f.signalJob(js)
	}
	return more, nil
}

// jobPlaces returns the places of a job's target devices, for the "jobs" stream, kept per
// job until a device moves (devicesChanged clears them): on a miss, from the job's state when
// it is watched, else from the database.
func (f *Feed) jobPlaces(ctx context.Context, id int64, js *jobState) ([]authz.Target, error) {
	if places, ok := f.places[id]; ok {
		return places, nil
	}
	var places []authz.Target
	if js != nil && js.loaded && !js.missing && !js.stale {
		for _, t := range js.targets { // Run writes js.targets: it reads them without the lock
			if !slices.Contains(places, t.Device) {
				places = append(places, t.Device)
			}
		}
	} else {
		var err error
		if places, err = f.db.Read().JobPlaces(ctx, id); err != nil {
			return nil, err
		}
	}
	if len(f.places) >= 10000 {
		clear(f.places)
	}
	f.places[id] = places
	return places, nil
}

// readLines reads a watched job's lines after those already read, up to logSeq (or a pass's
// worth). Only Run writes js.latest, so Run reads it without the lock.
func (f *Feed) readLines(ctx context.Context, js *jobState, logSeq int64) ([]liveLine, bool, error) {
	after := js.latest
	if !js.loaded {
		after = max(0, logSeq-int64(f.cfg.RecentLines))
	}
	var out []liveLine
	for after < logSeq && len(out) < maxLinesPerPass {
		batch, err := f.db.Read().JobLogs(ctx, js.id, after, 1000)
		if err != nil {
			return nil, false, err
		}
		if len(batch) == 0 {
			break
		}
		for _, l := range batch {
			ll, err := encodeLine(l)
			if err != nil {
				return nil, false, err
			}
			out = append(out, ll)
		}
		after = batch[len(batch)-1].Seq
	}
	// More to read only if the cap stopped it (lines missing below logSeq are not waited for).
	return out, len(out) >= maxLinesPerPass && after < logSeq, nil
}

// applyJob writes what was read into the job's shared state and reports whether anything
// changed. targets are all the job's targets when whole, else those changed since
// js.targetsRev; merged is false when one of those was not among the job's targets (the job
// is then marked stale, to be read whole).
func (f *Feed) applyJob(js *jobState, lj *store.LiveJob, summary []byte, targets []store.LiveTarget, whole bool, lines []liveLine) (changed, merged bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	changed = !js.loaded || js.missing
	f.version++
	v := f.version
	if !js.loaded || js.missing {
		js.snapshotVer = v
	}
	js.loaded, js.missing = true, false
	if !bytes.Equal(summary, js.summary) {
		js.summary, js.job, js.summaryVer = summary, lj.Job, v
		js.job.Targets = nil
		changed = true
	}
	rev := lj.TargetsRev
	if whole {
		all := make([]liveTarget, len(targets))
		old := js.targets
		sameSet := len(old) == len(targets)
		for i, t := range targets {
			rev = max(rev, t.Rev)
			all[i] = liveTarget{LiveTarget: t, ver: v}
			if sameSet && old[i].DeviceID == t.DeviceID && old[i].Device == t.Device {
				if old[i].JobTarget == t.JobTarget {
					all[i].ver = old[i].ver
				} else {
					changed = true
				}
			} else {
				sameSet = false
			}
		}
		if !sameSet {
			js.snapshotVer, changed = v, true
		}
		js.targets, js.stale, js.targetsRev = all, false, rev
	} else {
		for _, t := range targets {
			i, found := slices.BinarySearchFunc(js.targets, t.DeviceID, func(lt liveTarget, id int64) int {
				return cmp.Compare(lt.DeviceID, id)
			})
			if !found {
				js.stale = true
				return true, false
			}
			rev = max(rev, t.Rev)
			old := &js.targets[i]
			if old.Device != t.Device {
				js.snapshotVer = v // who may see the target changed
			}
			if old.JobTarget != t.JobTarget || old.Device != t.Device {
				old.LiveTarget, old.ver, changed = t, v, true
			}
		}
		js.targetsRev = max(js.targetsRev, rev)
	}
	if changed {
		js.version = v
	}
	if len(lines) > 0 {
		// Lines follow the ones held, or (first read, or after a gap nobody can fill from
		// memory) start a new window.
		if len(js.lines) > 0 && lines[0].seq != js.latest+1 {
			js.lines = nil
		}
		js.lines = append(js.lines, lines...)
		if keep := f.cfg.RecentLines; len(js.lines) > 2*keep {
			// A new array: watchers may still be reading the old one.
			js.lines = append([]liveLine(nil), js.lines[len(js.lines)-keep:]...)
		}
		js.latest = lines[len(lines)-1].seq
		changed = true
	}
	return changed, true
}

// publish appends events to the streams and wakes their subscribers.
func (f *Feed) publish(evs ...event) {
	if len(evs) == 0 {
		return
	}
	f.evMu.Lock()
	for _, ev := range evs {
		f.eventSeq++
		ev.seq = f.eventSeq
		f.events = append(f.events, ev)
	}
	if keep := f.cfg.RecentEvents; len(f.events) > 2*keep {
		f.events = append([]event(nil), f.events[len(f.events)-keep:]...)
	}
	f.evMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.watchers {
		if w.streaming.Load() {
			w.signal()
		}
	}
}

// recentEvents returns the events held and the newest seq; the slice's elements are never
// modified, so it may be read without the lock.
func (f *Feed) recentEvents() ([]event, uint64) {
	f.evMu.RLock()
	defer f.evMu.RUnlock()
	return f.events, f.eventSeq
}

// signalJob wakes the watchers of a job.
func (f *Feed) signalJob(js *jobState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range js.watchers {
		w.signal()
	}
}

// summaryOf is a job as lists and the "jobs" stream show it: without its targets.
func summaryOf(j *webnet.Job) any {
	return struct {
		webnet.Job
		Targets *struct{} `json:"targets,omitempty"`
	}{Job: *j}
}
