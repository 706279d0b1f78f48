package service

import (
	"encoding/json"
	"errors"
	"strconv"

	"webnet/internal/webnet"
)

// The messages of live updates, server to client: JSON objects with a "type".
//
//	subscribed      {"type":"subscribed","subscription":"job:12"}
//	unsubscribed    {"type":"unsubscribed","subscription":"job:12"}
//	job             {"type":"job","job":{…}}: with "targets" (those the user may see) it
//	                replaces the client's copy of the job (first after subscribing, and when
//	                the visible targets may have changed); without, it updates the summary.
//	                The "jobs" subscription gets these without targets.
//	targets         {"type":"targets","job":12,"targets":[{"device","status","message","step","steps"}]}:
//	                targets whose status or message changed.
//	log             {"type":"log","job":12,"lines":[{seq,at,level,device,message}],
//	                "through":57,"latest":60}: every line up to seq "through" that the user
//	                may see has now been sent; "latest" is the job's newest seq. One log
//	                message follows the backfill of a subscription even when it has no line,
//	                so a client knows it caught up. To resume, subscribe with after=through.
//	device          {"type":"device","device":{…}}: created or changed
//	device_removed  {"type":"device_removed","device":5}: deleted, or no longer visible
//	resync          {"type":"resync","subscription":"jobs"}: events were missed; reload the
//	                list over the REST API
//	error           {"type":"error","subscription":"job:12","error":"Job not found."}

// ErrFeedClosed is what Next returns once the feed has stopped: the server is shutting down.
var ErrFeedClosed = errors.New("live updates stopped")

// ReconnectError is what Next returns when a watcher must end but its client should connect
// again and resume from its last seq: its user's access changed, or notifications may have
// been missed. Reason is a sentence for the client.
type ReconnectError struct {
	Reason string
}

func (e *ReconnectError) Error() string { return e.Reason }

// maxLogMessage bounds a log message: lines are added while it is smaller.
const maxLogMessage = 256 << 10

func encodeJSON(v any) ([]byte, error) { return json.Marshal(v) }

func encodeLine(l webnet.JobLogLine) (liveLine, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return liveLine{}, err
	}
	ll := liveLine{seq: l.Seq, json: b}
	if l.DeviceID != nil {
		ll.device = *l.DeviceID
	}
	return ll, nil
}

type topicMessage struct {
	Type         string `json:"type"`
	Subscription string `json:"subscription,omitempty"`
	Error        string `json:"error,omitempty"`
}

// topicMsg is a subscribed, unsubscribed, resync or error message.
func topicMsg(typ, topic, text string) []byte {
	b, _ := json.Marshal(topicMessage{Type: typ, Subscription: topic, Error: text}) // strings only: cannot fail
	return b
}

// snapshotMsg is a job message with the targets the user may see.
func snapshotMsg(j webnet.Job, targets []webnet.JobTarget) ([]byte, error) {
	j.Targets = targets
	return json.Marshal(struct {
		Type string     `json:"type"`
		Job  webnet.Job `json:"job"`
	}{"job", j})
}

// rawMsg wraps an encoded value: {"type":typ,key:raw}.
func rawMsg(typ, key string, raw []byte) []byte {
	b := make([]byte, 0, len(raw)+len(typ)+len(key)+16)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","`...)
	b = append(b, key...)
	b = append(b, `":`...)
	b = append(b, raw...)
	return append(b, '}')
}

func targetsMsg(job int64, targets []webnet.JobTarget) ([]byte, error) {
	return json.Marshal(struct {
		Type    string             `json:"type"`
		Job     int64              `json:"job"`
		Targets []webnet.JobTarget `json:"targets"`
	}{"targets", job, targets})
}

func deviceRemovedMsg(id int64) []byte {
	return append(strconv.AppendInt([]byte(`{"type":"device_removed","device":`), id, 10), '}')
}

// logMsg assembles a log message from lines encoded once for every watcher.
func logMsg(job int64, lines []liveLine, through, latest int64) []byte {
	size := 96
	for _, l := range lines {
		size += len(l.json) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"type":"log","job":`...)
	b = strconv.AppendInt(b, job, 10)
	b = append(b, `,"lines":[`...)
	for i, l := range lines {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.json...)
	}
	b = append(b, `],"through":`...)
	b = strconv.AppendInt(b, through, 10)
	b = append(b, `,"latest":`...)
	b = strconv.AppendInt(b, latest, 10)
	return append(b, '}')
}
