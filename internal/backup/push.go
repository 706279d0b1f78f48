package backup

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// MaxPush bounds the configuration text of one push: a push is an edit, not a whole
// configuration (those are 5-50 KB), and every line of it is a round trip to the device.
const MaxPush = 64 << 10

// exitWords are the first words of lines that would run something other than configuration
// from configuration mode: IOS-XE's and EOS's "do <exec command>", Junos's "run <operational
// command>". edit_configuration grants configuring, not running exec commands (reload, copy,
// file operations need their own permissions).
var exitWords = []string{"do", "run"}

// junosRefused are Junos configuration-mode commands webnet does itself or that would undo or
// leave the push halfway: it commits once every line has been accepted, and it rolls back on
// its own when a line is refused; "exit" and "quit" at the top level leave configuration mode
// (use "top" and "up" to move in the hierarchy).
var junosRefused = []string{"commit", "rollback", "exit", "quit", "load", "save"}

// CheckPush says what is wrong with configuration text to push to a device of platform, or
// "" when nothing is. platform "" checks what holds on every platform (a schedule's devices
// may be of several). The text must have at least one line that is not blank, be at most
// MaxPush bytes, and have no control characters but tab and line endings (LF or CR LF); no
// line may run an exec command (do, run), and on Junos none may commit, roll back or leave
// configuration mode.
func CheckPush(platform, text string) string {
	switch {
	case len(text) > MaxPush:
		return fmt.Sprintf("Use at most %d KiB.", MaxPush>>10)
	case len(PushLines(text)) == 0:
		return "This field is required: the configuration lines to push."
	}
	for i, r := range text {
		if r == '\n' || r == '\t' || r == '\r' && strings.HasPrefix(text[i+1:], "\n") {
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("Control characters are not allowed (U+%04X); lines end with LF or CR LF.", r)
		}
	}
	for n, line := range PushLines(text) {
		first := strings.ToLower(firstWord(line))
		if slices.Contains(exitWords, first) {
			return fmt.Sprintf("Line %d runs a command outside configuration mode (%q): only configuration lines may be pushed.", n+1, first)
		}
		if platform == "juniper_junos" && slices.Contains(junosRefused, first) {
			return fmt.Sprintf("Line %d: webnet commits a Junos push itself once every line is accepted, and rolls it back if one is refused; leave out %q.", n+1, first)
		}
	}
	return ""
}

// PushLines splits configuration text into the lines to send: CR LF becomes LF, trailing
// white space goes, blank lines are dropped. Leading white space stays: it is how pasted
// IOS configuration shows sub-modes, and the devices ignore it.
func PushLines(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimRightFunc(line, unicode.IsSpace); strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

func firstWord(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
