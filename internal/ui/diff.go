package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"webnet/internal/backup"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// diffSeg is a piece of a diff line: text, or the placeholder of masked noise.
type diffSeg struct {
	Text   string
	Masked bool
}

// diffLine is one line of a unified diff. Kind is "file" (the ---/+++ header), "hunk" (@@),
// "ctx", "add", "del" or "note" (\ No newline at end of file); Old and New are its line
// numbers in each version (0: none).
type diffLine struct {
	Kind     string
	Old, New int
	Segs     []diffSeg
}

// diffRow is a row of the side-by-side view: a hunk header across both columns, or a line
// on the left (old), on the right (new), or both.
type diffRow struct {
	Hunk        *diffLine
	Left, Right *diffLine
}

// segments splits text around the masked-noise placeholder.
func segments(text string) []diffSeg {
	var out []diffSeg
	for {
		i := strings.Index(text, backup.Masked)
		if i < 0 {
			break
		}
		if i > 0 {
			out = append(out, diffSeg{Text: text[:i]})
		}
		out = append(out, diffSeg{Text: backup.Masked, Masked: true})
		text = text[i+len(backup.Masked):]
	}
	if text != "" || len(out) == 0 {
		out = append(out, diffSeg{Text: text})
	}
	return out
}

// parseDiff reads a unified diff of one file into lines with their numbers.
func parseDiff(diff string) []diffLine {
	var out []diffLine
	inHunk := false
	var old, new int
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "@@"):
			inHunk = true
			var a, c int
			if _, err := fmt.Sscanf(hunkNumbers(l), "-%d +%d", &a, &c); err == nil {
				old, new = a, c
			}
			out = append(out, diffLine{Kind: "hunk", Segs: segments(l)})
		case !inHunk:
			out = append(out, diffLine{Kind: "file", Segs: segments(l)})
		case strings.HasPrefix(l, "+"):
			out = append(out, diffLine{Kind: "add", New: new, Segs: segments(l[1:])})
			new++
		case strings.HasPrefix(l, "-"):
			out = append(out, diffLine{Kind: "del", Old: old, Segs: segments(l[1:])})
			old++
		case strings.HasPrefix(l, `\`):
			out = append(out, diffLine{Kind: "note", Segs: segments(l)})
		default:
			out = append(out, diffLine{Kind: "ctx", Old: old, New: new, Segs: segments(strings.TrimPrefix(l, " "))})
			old++
			new++
		}
	}
	return out
}

// hunkNumbers turns "@@ -3,7 +3,8 @@ ..." into "-3 +3" for Sscanf.
func hunkNumbers(h string) string {
	f := strings.Fields(h)
	if len(f) < 3 {
		return ""
	}
	cut := func(s string) string { s, _, _ = strings.Cut(s, ","); return s }
	return cut(f[1]) + " " + cut(f[2])
}

// sideBySide pairs a diff's lines into rows: context on both sides, a run of deletions
// next to the run of additions that follows it, the longer run's rest against blanks.
func sideBySide(lines []diffLine) []diffRow {
	var rows []diffRow
	var dels, adds []*diffLine
	flush := func() {
		for i := 0; i < len(dels) || i < len(adds); i++ {
			var row diffRow
			if i < len(dels) {
				row.Left = dels[i]
			}
			if i < len(adds) {
				row.Right = adds[i]
			}
			rows = append(rows, row)
		}
		dels, adds = nil, nil
	}
	for i := range lines {
		l := &lines[i]
		switch l.Kind {
		case "del":
			if len(adds) > 0 {
				flush()
			}
			dels = append(dels, l)
		case "add":
			adds = append(adds, l)
		case "ctx":
			flush()
			rows = append(rows, diffRow{Left: l, Right: l})
		case "hunk", "note":
			flush()
			rows = append(rows, diffRow{Hunk: l})
		}
	}
	flush()
	return rows
}

type diffData struct {
	Device *service.DeviceDetail
	Diff   *service.BackupDiff
	// Split is the side-by-side view; else unified.
	Split bool
	Lines []diffLine
	Rows  []diffRow
	// Masked counts the lines with masked noise.
	Masked int
}

// URL is the diff page in the other view.
func (d diffData) URL(split bool) string {
	v := url.Values{"from": {strconv.FormatInt(d.Diff.From.ID, 10)}, "to": {strconv.FormatInt(d.Diff.To.ID, 10)}}
	if split {
		v.Set("view", "split")
	}
	return fmt.Sprintf("/devices/%d/diff?%s", d.Device.ID, v.Encode())
}

func (u *UI) deviceDiff(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, ok := u.device(w, r)
	if !ok {
		return
	}
	id := d.ID
	var err error
	q := r.URL.Query()
	from, err := optionalID(q, "from", "The older version")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	to, err := optionalID(q, "to", "The newer version")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if to == nil {
		u.fail(w, r, webnet.Invalid("Choose the version to compare (to=).", map[string]string{"to": "This field is required."}))
		return
	}
	view := q.Get("view")
	if view != "" && view != "unified" && view != "split" {
		u.fail(w, r, webnet.Invalid("The view is either unified or split (side by side).", map[string]string{"view": "Must be unified or split."}))
		return
	}
	if from != nil && *from == *to {
		u.fail(w, r, webnet.Invalid("Choose two different versions to compare.", map[string]string{"from": "Must differ from to."}))
		return
	}
	diff, err := u.core.DiffBackups(ctx, *to, from)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if diff.From.DeviceID != id || diff.To.DeviceID != id {
		u.fail(w, r, webnet.Errorf(webnet.ENotFound, "Backup not found for this device."))
		return
	}
	if diff.From.TakenAt.After(diff.To.TakenAt) {
		diff, err = u.core.DiffBackups(ctx, diff.From.ID, &diff.To.ID)
		if err != nil {
			u.fail(w, r, err)
			return
		}
	}
	data := diffData{Device: d, Diff: diff, Split: view == "split", Lines: parseDiff(diff.Diff)}
	if diff.Diff == "" {
		data.Lines = nil
	}
	for _, l := range data.Lines {
		if len(l.Segs) > 1 || (len(l.Segs) == 1 && l.Segs[0].Masked) {
			data.Masked++
		}
	}
	if data.Split {
		data.Rows = sideBySide(data.Lines)
	}
	u.renderNav(w, r, http.StatusOK, "backup-diff", "Changes of "+d.Name+" · webnet", "devices", data)
}
