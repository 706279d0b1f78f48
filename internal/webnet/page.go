package webnet

import "strconv"

// Pagination limits of every list (design.md §3).
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Page selects a slice of a list: at most Limit rows after skipping Offset.
type Page struct {
	Limit, Offset int
}

// ParsePage reads ?limit= and ?offset= values; empty means the default. Anything else
// than a limit in 1..1000 and a non-negative offset is invalid.
func ParsePage(limit, offset string) (Page, error) {
	p := Page{Limit: DefaultLimit}
	fields := map[string]string{}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxLimit {
			fields["limit"] = "Must be a whole number from 1 to 1000."
		}
		p.Limit = n
	}
	if offset != "" {
		n, err := strconv.Atoi(offset)
		if err != nil || n < 0 {
			fields["offset"] = "Must be a whole number, 0 or more."
		}
		p.Offset = n
	}
	if len(fields) > 0 {
		return Page{}, Invalid("Invalid pagination.", fields)
	}
	return p, nil
}
