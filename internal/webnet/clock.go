package webnet

import "time"

// Clock tells the time. Services take one so tests can control it; a transaction uses one
// reading of it for every row it writes.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock. Its readings are in UTC, truncated to microseconds so that
// both database backends store exactly what was read.
type SystemClock struct{}

// Now returns the current UTC time, truncated to microseconds.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
