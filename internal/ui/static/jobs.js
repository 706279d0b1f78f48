// jobs.js: live job pages over GET /api/ws (README "Live updates").
// - The dashboard's and the job list's tables re-fetch themselves with htmx when the "jobs"
//   topic reports a change (they carry hx-trigger="webnet:jobs from:body"; they also poll);
//   the dashboard's counts also when the "devices" topic does ("webnet:devices").
// - The job page (#job-log[data-live]) subscribes to "job:{id}" after the last seq the
//   server rendered, appends log lines as they come, updates the status, progress and
//   per-device targets, and after a lost connection resubscribes after the last "through"
//   received: no line lost, none repeated.
// Without JavaScript the pages read the same and reload to refresh.
"use strict";
(function () {
  var maxLines = 2000; // lines kept in the page; older ones stay behind the "Older lines" link

  // live keeps a socket open: subscribe(ws) on every (re)connection, handle(msg) for each
  // message; a dropped connection is retried with backoff (at once for code 4000).
  function live(subscribe, handle) {
    var ctl = { ws: null, delay: 500, hold: -1 };
    function connect() {
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/ws");
      ctl.ws = ws;
      ws.onopen = function () { ctl.delay = 500; subscribe(ws); };
      ws.onmessage = function (ev) {
        var m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        handle(m);
      };
      ws.onclose = function (ev) {
        if (ctl.ws !== ws) { return; }
        ctl.ws = null;
        var wait = ctl.hold >= 0 ? ctl.hold : (ev.code === 4000 ? 50 : ctl.delay);
        ctl.hold = -1;
        ctl.delay = Math.min(ctl.delay * 2, 15000);
        setTimeout(connect, wait);
      };
    }
    connect();
    // drop closes the connection as a network failure would and reconnects after ms: a
    // debugging aid, and the browser tests' way to prove the resume.
    ctl.drop = function (ms) {
      if (ctl.ws) { ctl.hold = ms || 0; ctl.ws.close(); }
    };
    return ctl;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function setStatus(node, status) {
    if (!node) { return; }
    node.textContent = status;
    node.className = "jobs-status jobs-" + status;
  }

  function jobPage(log) {
    var id = log.getAttribute("data-job");
    var after = Number(log.getAttribute("data-after")) || 0; // everything through this seq is here
    var state = document.getElementById("log-state");
    var finished = { succeeded: 1, partial: 1, failed: 1, cancelled: 1 };

    function line(l) {
      var li = el("li", "log-" + l.level);
      li.setAttribute("data-seq", String(l.seq));
      li.appendChild(el("span", "log-seq", String(l.seq)));
      li.appendChild(document.createTextNode(" "));
      var t = el("time", "", String(l.at).substr(11, 8));
      t.setAttribute("datetime", l.at);
      li.appendChild(t);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "log-level", l.level));
      if (l.device) {
        li.appendChild(document.createTextNode(" "));
        var row = document.querySelector('#targets tr[data-device="' + Number(l.device) + '"]');
        li.appendChild(el("span", "log-device", row ? row.getAttribute("data-name") : "device #" + l.device));
      }
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "log-msg", l.message));
      return li;
    }

    // trim keeps maxLines lines, pointing "Older lines" at the first one kept.
    function trim() {
      var extra = log.children.length - maxLines;
      if (extra <= 0) { return; }
      for (; extra > 0; extra--) { log.removeChild(log.firstElementChild); }
      var older = document.getElementById("log-older");
      if (!older) {
        older = el("a", "", "Older lines");
        older.id = "log-older";
        older.rel = "prev";
        var nav = log.parentNode.querySelector(".jobs-pages");
        if (nav) { nav.appendChild(older); }
      }
      older.href = "/jobs/" + id + "?before=" + log.firstElementChild.getAttribute("data-seq") + "#log";
    }

    function summary(j) {
      setStatus(document.getElementById("job-status"), j.status);
      var p = document.getElementById("job-progress");
      if (p) { p.max = j.progress_total || 1; p.value = j.progress_done; }
      var pt = document.getElementById("job-progress-text");
      if (pt) { pt.textContent = j.progress_done + "/" + j.progress_total; }
      if (finished[j.status]) {
        var cancel = document.getElementById("job-cancel-form");
        if (cancel) { cancel.hidden = true; }
        var f = document.getElementById("job-finished");
        if (f && j.finished_at) { f.textContent = "just now"; }
      }
      if (state) {
        state.textContent = finished[j.status] ? "The job has finished; reload the page to retry failed devices." : "Following the job live.";
      }
    }

    function targets(list) {
      (list || []).forEach(function (t) {
        var row = document.querySelector('#targets tr[data-device="' + Number(t.device) + '"]');
        if (!row) { return; }
        setStatus(row.querySelector('[data-field="status"]'), t.status);
        var msg = row.querySelector('[data-field="message"]');
        if (msg) { msg.textContent = t.message; }
        var step = row.querySelector('[data-field="step"]');
        if (step) { step.textContent = t.steps ? "step " + t.step + "/" + t.steps : ""; }
      });
    }

    var ctl = live(function (ws) {
      ws.send(JSON.stringify({ subscribe: "job:" + id, after: after }));
    }, function (m) {
      if (m.type === "log" && String(m.job) === id) {
        var bottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
        var frag = document.createDocumentFragment();
        (m.lines || []).forEach(function (l) {
          if (l.seq > after) { frag.appendChild(line(l)); after = l.seq; }
        });
        if (m.through > after) { after = m.through; }
        log.appendChild(frag);
        trim();
        if (bottom) { log.scrollTop = log.scrollHeight; }
      } else if (m.type === "job" && m.job && String(m.job.id) === id) {
        summary(m.job);
        if (m.job.targets) { targets(m.job.targets); }
      } else if (m.type === "targets" && String(m.job) === id) {
        targets(m.targets);
      } else if (m.type === "error" && state) {
        state.textContent = m.error;
      }
    });
    log.scrollTop = log.scrollHeight;
    window.webnetJobs = {
      drop: ctl.drop,
      after: function () { return after; }
    };
  }

  function jobsTopic() {
    // ping tells the page's live fragments that a topic changed: at most once a second per
    // topic, and always once more after the last change, so a burst never leaves a fragment
    // showing a state older than the burst's end.
    var pings = {};
    var ping = function (topic) {
      var p = pings[topic] || (pings[topic] = { last: 0, timer: null });
      if (p.timer) { return; }
      var fire = function () {
        p.timer = null;
        p.last = Date.now();
        document.body.dispatchEvent(new CustomEvent("webnet:" + topic));
      };
      var wait = p.last + 1000 - Date.now();
      if (wait <= 0) { fire(); } else { p.timer = setTimeout(fire, wait); }
    };
    var devices = !!document.getElementById("dash-counts");
    var first = true;
    var ctl = live(function (ws) {
      ws.send(JSON.stringify({ subscribe: "jobs" }));
      if (devices) { ws.send(JSON.stringify({ subscribe: "devices" })); }
      if (!first) { // changes may have been missed while disconnected
        ping("jobs");
        if (devices) { ping("devices"); }
      }
      first = false;
    }, function (m) {
      if (m.type === "job") {
        ping("jobs");
      } else if (m.type === "device" || m.type === "device_removed") {
        ping("devices");
      } else if (m.type === "resync") {
        ping(m.subscription === "devices" ? "devices" : "jobs");
      }
    });
    window.webnetJobs = { drop: ctl.drop };
  }

  function start() {
    var log = document.querySelector("#job-log[data-live]");
    if (log) {
      jobPage(log);
    } else if (document.querySelector("#dash-jobs, #jobs-table[hx-get]")) {
      jobsTopic();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
