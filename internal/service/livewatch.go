package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Watcher is one client's live updates: its subscriptions, its user's grants and how far
// each subscription has been sent. One goroutine calls Next; Subscribe, Unsubscribe and
// Refuse may be called from another (the one reading the client's messages).
type Watcher struct {
	feed      *Feed
	user      *webnet.User
	wake      chan struct{} // capacity 1: something may be new
	regrant   atomic.Bool   // roles changed somewhere: recompile the grants
	streaming atomic.Bool   // subscribed to "jobs" or "devices"

	mu      sync.Mutex
	pending []command
	err     error // why the feed ended this watcher

	// Owned by the goroutine that calls Next.
	grants  *authz.Grants
	jobs    map[int64]*jobSub
	order   []int64 // job subscriptions, oldest first: they take turns
	turn    int
	streams [2]bool
	cursor  uint64 // seq of the last event looked at
	outbox  [][]byte
}

// command is a client's request, queued for the goroutine that calls Next.
type command struct {
	unsubscribe bool
	topic       string
	after       int64
	refuse      string // a malformed request: answer with this error
}

// maxPending bounds the requests queued while the watcher is busy writing.
const maxPending = 64

// jobSub is a job:{id} subscription.
type jobSub struct {
	js       *jobState
	topic    string
	acked    bool   // "subscribed" was sent
	ver      uint64 // the job state version sent
	resnap   bool   // the grants changed: send a fresh snapshot
	last     int64  // every line up to this seq was sent, or is not for this user
	caughtUp bool   // a log message with through = latest was sent
	devices  map[int64]bool
	all      bool // staff or superuser: every line
}

// Watch starts live updates for the signed-in user of ctx with the grants they hold now;
// changes to roles, groups and bundles are applied as they happen, and a change to the user
// themselves (credentials, flags, memberships) ends the watcher with a ReconnectError so
// that the client authenticates again. Any signed-in user may call it. Errors:
// unauthenticated, unavailable (the feed has stopped).
func (f *Feed) Watch(ctx context.Context) (*Watcher, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	g, err := f.access.Grants(ctx)
	if err != nil {
		return nil, err
	}
	w := &Watcher{feed: f, user: u, grants: g, wake: make(chan struct{}, 1), jobs: map[int64]*jobSub{}}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, webnet.Errorf(webnet.EUnavailable, "Live updates are not available now; try again later.")
	}
	f.watchers[w] = struct{}{}
	return w, nil
}

// Subscribe asks for topic ("job:{id}", "jobs" or "devices"); for a job, lines after seq
// after are sent first. The answer, like everything, comes from Next. Too many requests
// queued is a rate_limited error: the client is flooding.
func (w *Watcher) Subscribe(topic string, after int64) error {
	return w.queue(command{topic: topic, after: after})
}

// Unsubscribe ends the subscription to topic.
func (w *Watcher) Unsubscribe(topic string) error {
	return w.queue(command{unsubscribe: true, topic: topic})
}

// Refuse answers a malformed request with an error message.
func (w *Watcher) Refuse(reason string) error {
	return w.queue(command{refuse: reason})
}

func (w *Watcher) queue(c command) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) >= maxPending {
		return webnet.Errorf(webnet.ERateLimited, "Too many requests.")
	}
	w.pending = append(w.pending, c)
	w.signal()
	return nil
}

// signal wakes Next, without ever waiting.
func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// fail ends the watcher: Next returns err.
func (w *Watcher) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.signal()
}

// Next returns the next message for the client, waiting until there is one. It returns
// ErrFeedClosed when the server shuts down, a *ReconnectError when the client should connect
// again and resume, and ctx's error when ctx is done.
func (w *Watcher) Next(ctx context.Context) ([]byte, error) {
	for {
		if len(w.outbox) > 0 {
			m := w.outbox[0]
			w.outbox[0] = nil
			w.outbox = w.outbox[1:]
			return m, nil
		}
		w.mu.Lock()
		err, cmds := w.err, w.pending
		w.pending = nil
		w.mu.Unlock()
		if err != nil {
			return nil, err
		}
		for _, c := range cmds {
			w.handle(c)
		}
		if w.regrant.Swap(false) {
			if err := w.recompile(ctx); err != nil {
				return nil, err
			}
		}
		progress, err := w.pull(ctx)
		if err != nil {
			return nil, err
		}
		if progress || len(w.outbox) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.wake:
		}
	}
}

// Close ends the watcher's subscriptions. Call it once Next is no longer being called.
func (w *Watcher) Close() {
	f := w.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.watchers[w]; !ok {
		return
	}
	delete(f.watchers, w)
	for _, s := range w.jobs {
		f.unwatchJobLocked(w, s.js)
	}
	for i, on := range w.streams {
		if on {
			f.streams[i]--
		}
	}
}

// handle carries out one request.
func (w *Watcher) handle(c command) {
	switch {
	case c.refuse != "":
		w.send(topicMsg("error", "", c.refuse))
	case c.unsubscribe:
		w.unsubscribe(c.topic)
	default:
		w.subscribe(c.topic, c.after)
	}
}

func (w *Watcher) send(msg []byte) { w.outbox = append(w.outbox, msg) }

func (w *Watcher) count() int {
	n := len(w.jobs)
	for _, on := range w.streams {
		if on {
			n++
		}
	}
	return n
}

// parseTopic reads "jobs", "devices" or "job:{id}".
func parseTopic(topic string) (stream int, jobID int64, ok bool) {
	if i := slices.Index(streamNames[:], topic); i >= 0 {
		return i, 0, true
	}
	s, found := strings.CutPrefix(topic, "job:")
	id, err := strconv.ParseInt(s, 10, 64)
	if !found || err != nil || id <= 0 {
		return 0, 0, false
	}
	return -1, id, true
}

func (w *Watcher) subscribe(topic string, after int64) {
	stream, id, ok := parseTopic(topic)
	if !ok {
		w.send(topicMsg("error", topic, fmt.Sprintf("Unknown subscription %q: use job:{id}, jobs or devices.", topic)))
		return
	}
	if stream >= 0 {
		if !w.streams[stream] {
			if w.count() >= w.feed.cfg.MaxSubscriptions {
				w.send(topicMsg("error", topic, fmt.Sprintf("Too many subscriptions (at most %d).", w.feed.cfg.MaxSubscriptions)))
				return
			}
			if !w.streams[0] && !w.streams[1] {
				_, w.cursor = w.feed.recentEvents() // events from now on
			}
			w.streams[stream] = true
			w.feed.watchStream(w, stream, 1)
		}
		w.send(topicMsg("subscribed", topic, ""))
		return
	}
	topic = "job:" + strconv.FormatInt(id, 10)
	if after < 0 {
		w.send(topicMsg("error", topic, "after must be a log seq, 0 or more."))
		return
	}
	if s := w.jobs[id]; s != nil { // again: start over from after
		s.acked, s.ver, s.last, s.caughtUp = false, 0, after, false
		return
	}
	if w.count() >= w.feed.cfg.MaxSubscriptions {
		w.send(topicMsg("error", topic, fmt.Sprintf("Too many subscriptions (at most %d).", w.feed.cfg.MaxSubscriptions)))
		return
	}
	// Registered before anything is read, so that no change can fall between the two.
	w.jobs[id] = &jobSub{js: w.feed.watchJob(w, id), topic: topic, last: after}
	w.order = append(w.order, id)
}

func (w *Watcher) unsubscribe(topic string) {
	stream, id, ok := parseTopic(topic)
	switch {
	case !ok:
	case stream >= 0 && w.streams[stream]:
		w.streams[stream] = false
		w.feed.watchStream(w, stream, -1)
	case stream < 0 && w.jobs[id] != nil:
		topic = w.jobs[id].topic
		w.dropJob(id)
	}
	w.send(topicMsg("unsubscribed", topic, ""))
}

func (w *Watcher) dropJob(id int64) {
	s := w.jobs[id]
	delete(w.jobs, id)
	w.order = slices.DeleteFunc(w.order, func(x int64) bool { return x == id })
	f := w.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unwatchJobLocked(w, s.js)
}

// recompile reads the user's grants again (roles, groups or bundles changed) and has every
// job subscription re-decide what the user may see.
func (w *Watcher) recompile(ctx context.Context) error {
	rows, err := w.feed.db.Read().GrantRows(ctx, w.user.ID)
	if err != nil {
		return fmt.Errorf("recompile grants: %w", err)
	}
	g, err := Compile(w.user, rows)
	if err != nil {
		return err
	}
	w.grants = g
	for _, s := range w.jobs {
		s.resnap = true
	}
	return nil
}

// pull looks at the subscriptions, in turns, until one has a message, and reports whether
// anything moved.
func (w *Watcher) pull(ctx context.Context) (bool, error) {
	progress := false
	ids := slices.Clone(w.order)
	w.turn++
	for i := range ids {
		s := w.jobs[ids[(w.turn+i)%len(ids)]]
		if s == nil {
			continue
		}
		p, err := w.pullJob(ctx, s)
		if err != nil {
			return false, err
		}
		progress = progress || p
		if len(w.outbox) > 0 {
			return true, nil
		}
	}
	if w.streams[0] || w.streams[1] {
		progress = w.pullEvents() || progress
	}
	return progress, nil
}

// view decides what the user may see of a job by the rules of visibleJob (jobview.go): the
// job if they requested it or can see one of its targets (staff and superusers: all), and
// the targets and device lines of the devices they can see.
func (w *Watcher) view(s *jobSub, js *jobState) bool {
	g := w.grants
	s.all = g.Bypass()
	s.devices = map[int64]bool{}
	decided := map[authz.Target]bool{}
	for _, t := range js.targets {
		ok, done := decided[t.Device]
		if !done {
			ok = g.Visible(t.Device)
			decided[t.Device] = ok
		}
		if ok {
			s.devices[t.DeviceID] = true
		}
	}
	mine := js.job.RequestedBy != nil && *js.job.RequestedBy == w.user.ID
	return s.all || mine || len(s.devices) > 0
}

// pullJob sends what is new of one job: its state first (a snapshot after subscribing, then
// changes), then its lines after s.last, from memory or, when the shared window has moved
// past them, from the database.
func (w *Watcher) pullJob(ctx context.Context, s *jobSub) (bool, error) {
	js := s.js
	js.mu.RLock()
	if !js.loaded {
		js.mu.RUnlock()
		return false, nil // the feed has not read it yet
	}
	visible := !js.missing
	if visible && (s.ver < js.version || s.resnap) {
		visible = w.pullState(s, js)
	}
	if !visible {
		js.mu.RUnlock()
		// Absent and invisible look the same.
		w.send(topicMsg("error", s.topic, "Job not found."))
		w.dropJob(js.id)
		return true, nil
	}
	progress := len(w.outbox) > 0
	latest := js.latest
	var lines []liveLine
	inMemory := len(js.lines) > 0 && js.lines[0].seq <= s.last+1
	if inMemory && latest > s.last {
		lines = js.lines[s.last+1-js.lines[0].seq:]
	}
	js.mu.RUnlock()

	if latest <= s.last {
		if !s.caughtUp {
			s.caughtUp = true
			w.send(logMsg(js.id, nil, s.last, latest))
			progress = true
		}
		return progress, nil
	}
	if !inMemory {
		got, err := w.feed.db.Read().JobLogs(ctx, js.id, s.last, 1000)
		if err != nil {
			return false, fmt.Errorf("read job log: %w", err)
		}
		if len(got) == 0 {
			return progress, nil // the job is being deleted: its next read says so
		}
		lines = make([]liveLine, len(got))
		for i, l := range got {
			if lines[i], err = encodeLine(l); err != nil {
				return false, err
			}
		}
	}
	var out []liveLine
	size := 0
	through := s.last
	for _, l := range lines {
		if size > maxLogMessage {
			break
		}
		through = l.seq
		if l.device == 0 || s.all || s.devices[l.device] {
			out = append(out, l)
			size += len(l.json)
		}
	}
	s.last = through
	latest = max(latest, through)
	if len(out) > 0 || (!s.caughtUp && through >= latest) {
		w.send(logMsg(js.id, out, through, latest))
	}
	if through >= latest {
		s.caughtUp = true
	}
	return true, nil
}

// pullState queues the job's state changes since s.ver, or a snapshot when the subscription
// is new or what the user may see can have changed; false: the user may not see the job.
// js.mu is held.
func (w *Watcher) pullState(s *jobSub, js *jobState) bool {
	if s.ver < js.snapshotVer || s.resnap {
		if !w.view(s, js) {
			return false
		}
		visible := []webnet.JobTarget{}
		for _, t := range js.targets {
			if s.all || s.devices[t.DeviceID] {
				visible = append(visible, t.JobTarget)
			}
		}
		msg, err := snapshotMsg(js.job, visible)
		if err != nil {
			return false
		}
		if !s.acked {
			w.send(topicMsg("subscribed", s.topic, ""))
			s.acked = true
		}
		w.send(msg)
	} else {
		if js.summaryVer > s.ver {
			w.send(rawMsg("job", "job", js.summary))
		}
		var changed []webnet.JobTarget
		for _, t := range js.targets {
			if t.ver > s.ver && (s.all || s.devices[t.DeviceID]) {
				changed = append(changed, t.JobTarget)
			}
		}
		if len(changed) > 0 {
			if msg, err := targetsMsg(js.id, changed); err == nil {
				w.send(msg)
			}
		}
	}
	s.ver, s.resnap = js.version, false
	return true
}

// maxEventsPerPull bounds the events looked at in one go.
const maxEventsPerPull = 256

// pullEvents sends the "jobs" and "devices" events the user may see; a watcher that fell
// behind the events held is told to resync instead.
func (w *Watcher) pullEvents() bool {
	evs, head := w.feed.recentEvents()
	if w.cursor >= head {
		return false
	}
	if len(evs) == 0 || evs[0].seq > w.cursor+1 {
		for i, on := range w.streams {
			if on {
				w.send(topicMsg("resync", streamNames[i], ""))
			}
		}
		w.cursor = head
		return true
	}
	evs = evs[w.cursor+1-evs[0].seq:]
	for _, ev := range evs[:min(len(evs), maxEventsPerPull)] {
		w.cursor = ev.seq
		if !w.streams[ev.stream] {
			continue
		}
		if msg := w.eventMsg(&ev); msg != nil {
			w.send(msg)
		}
	}
	return true
}

// eventMsg is the message an event makes for this user, or nil if it is not for them.
func (w *Watcher) eventMsg(ev *event) []byte {
	g := w.grants
	switch ev.stream {
	case streamJobs:
		visible := g.Bypass() || ev.requester == w.user.ID
		for _, p := range ev.places {
			visible = visible || g.Visible(p)
		}
		if visible {
			return rawMsg("job", "job", ev.summary)
		}
	case streamDevices:
		if ev.device != nil && ev.after.DeviceGroupID != store.NoDevice && g.Visible(ev.after) {
			return rawMsg("device", "device", ev.device)
		}
		if ev.before.DeviceGroupID != store.NoDevice && g.Visible(ev.before) {
			return deviceRemovedMsg(ev.deviceID)
		}
	}
	return nil
}

// watchJob registers w as a watcher of job id and returns the job's shared state, which the
// feed reads at once if nobody watched the job yet.
func (f *Feed) watchJob(w *Watcher, id int64) *jobState {
	f.mu.Lock()
	defer f.mu.Unlock()
	js := f.jobs[id]
	if js == nil {
		js = &jobState{id: id, watchers: map[*Watcher]struct{}{}}
		f.jobs[id] = js
		f.dirtyJobs[id] = struct{}{}
		f.kick()
	}
	js.watchers[w] = struct{}{}
	w.signal() // its state may already be there
	return js
}

// unwatchJobLocked removes w from the job's watchers, and the job from the watched jobs when
// it was the last. f.mu is held.
func (f *Feed) unwatchJobLocked(w *Watcher, js *jobState) {
	delete(js.watchers, w)
	if len(js.watchers) == 0 && f.jobs[js.id] == js {
		delete(f.jobs, js.id)
	}
}

// watchStream counts w in or out of a stream's subscribers.
func (f *Feed) watchStream(w *Watcher, stream, delta int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.streams[stream] += delta
	w.streaming.Store(w.streams[0] || w.streams[1])
}
