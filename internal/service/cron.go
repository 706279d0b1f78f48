package service

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // schedules name IANA zones: the binary must know them on hosts without zoneinfo

	"github.com/robfig/cron/v3"
)

// minScheduleInterval is the shortest time between two ticks of a schedule: a schedule is
// for recurring device work, which a tick every few seconds would only pile up.
const minScheduleInterval = time.Minute

// cronSpec is a parsed schedule: when it ticks, in which time zone.
type cronSpec struct {
	sched cron.Schedule
}

// parseCron reads a cron expression (five fields: minute, hour, day of month, month, day of
// week; or a descriptor: @yearly, @monthly, @weekly, @daily, @hourly, @every <duration>) in
// the IANA time zone tz ("" is UTC). An expression must tick after now. Problems are
// reported into f under "cron" and "timezone".
func parseCron(spec, tz string, now time.Time, f fieldErrors) (cronSpec, bool) {
	loc, ok := parseTimezone(tz, f)
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		f.add("cron", "This field is required.")
		return cronSpec{}, false
	case len(spec) > 100:
		f.add("cron", "Use at most 100 characters.")
		return cronSpec{}, false
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		f.add("cron", "Give the time zone in the timezone field, not in the expression.")
		return cronSpec{}, false
	}
	sched, err := parseStandard(spec)
	if err != nil {
		f.add("cron", "Not a cron expression: "+err.Error()+". Use five fields (minute hour day-of-month month day-of-week, e.g. \"30 2 * * 1-5\") or @hourly, @daily, @weekly, @monthly, @yearly, @every 2h.")
		return cronSpec{}, false
	}
	if !ok {
		return cronSpec{}, false
	}
	switch s := sched.(type) {
	case *cron.SpecSchedule:
		// Without a TZ= prefix the parser reads the expression in the process's local time
		// zone; a schedule's zone is its own, whatever the machine's.
		s.Location = loc
	case cron.ConstantDelaySchedule:
		if s.Delay < minScheduleInterval {
			f.add("cron", "A schedule may tick at most once a minute.")
			return cronSpec{}, false
		}
	}
	c := cronSpec{sched: sched}
	if c.next(time.Time{}, now).IsZero() {
		f.add("cron", "This expression never fires (no such date).")
		return cronSpec{}, false
	}
	return c, true
}

// parseStandard is cron.ParseStandard, turning a panic of the parser on a malformed
// expression into an error: the expression comes from users.
func parseStandard(spec string) (s cron.Schedule, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("malformed expression")
		}
	}()
	return cron.ParseStandard(spec)
}

// parseTimezone reads an IANA time zone name ("" is UTC). "Local" is refused: it would mean
// something else on each machine.
func parseTimezone(tz string, f fieldErrors) (*time.Location, bool) {
	if tz == "" || tz == "UTC" {
		return time.UTC, true
	}
	if len(tz) > 64 || tz == "Local" {
		f.add("timezone", "Not an IANA time zone name (such as Europe/Paris).")
		return nil, false
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		f.add("timezone", "Not an IANA time zone name (such as Europe/Paris).")
		return nil, false
	}
	return loc, true
}

// next returns the schedule's first tick after now, in UTC; the zero time if it never ticks
// again. prev is the tick just taken (zero if none): "@every" ticks keep its phase, so that
// every process computes the same next tick whenever it looks; expressions tick on their
// own wall-clock times anyway.
func (c cronSpec) next(prev, now time.Time) time.Time {
	if every, ok := c.sched.(cron.ConstantDelaySchedule); ok && !prev.IsZero() && !prev.After(now) {
		return prev.Add(every.Delay * (now.Sub(prev)/every.Delay + 1)).UTC()
	}
	t := c.sched.Next(now)
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
