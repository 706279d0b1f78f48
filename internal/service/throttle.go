package service

import (
	"context"
	"math"
	"net/netip"
	"time"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// ThrottlePolicy bounds failed sign-ins per username and per client address in a fixed
// window. The counts live in the database, so every process of a PostgreSQL deployment
// shares them.
type ThrottlePolicy struct {
	// Window is the length of a counting window (default 15 minutes).
	Window time.Duration
	// PerUser is how many failures one username may have in a window (default 5).
	PerUser int
	// PerAddress is how many failures one client address may have in a window (default 20).
	PerAddress int
}

func (p ThrottlePolicy) withDefaults() ThrottlePolicy {
	if p.Window <= 0 {
		p.Window = 15 * time.Minute
	}
	if p.PerUser <= 0 {
		p.PerUser = 5
	}
	if p.PerAddress <= 0 {
		p.PerAddress = 20
	}
	return p
}

type throttleKeys struct {
	user, addr       string
	userMax, addrMax int
}

// keys returns the throttle keys of an attempt. IPv6 clients are counted per /64, the block
// one host usually controls.
func (p ThrottlePolicy) keys(username, clientAddr string) throttleKeys {
	addr := clientAddr
	if ip, err := netip.ParseAddr(clientAddr); err == nil {
		ip = ip.Unmap()
		if ip.Is6() {
			pfx, _ := ip.Prefix(64)
			addr = pfx.String()
		} else {
			addr = ip.String()
		}
	}
	return throttleKeys{user: "user:" + normaliseUsername(username), addr: "addr:" + addr,
		userMax: p.PerUser, addrMax: p.PerAddress}
}

// checkThrottle answers rate_limited, with the seconds until the window ends, when either key
// has used up its failures.
func (s *Identity) checkThrottle(ctx context.Context, k throttleKeys) error {
	now := s.clock.Now()
	q := s.db.Read()
	wait := time.Duration(0)
	for _, c := range []struct {
		key string
		max int
	}{{k.user, k.userMax}, {k.addr, k.addrMax}} {
		st, err := q.ThrottleState(ctx, c.key)
		if err != nil {
			return err
		}
		end := st.WindowStart.Add(s.cfg.Throttle.Window)
		if st.Failures >= c.max && now.Before(end) {
			wait = max(wait, end.Sub(now))
		}
	}
	if wait > 0 {
		return &webnet.Error{Code: webnet.ERateLimited,
			Message:    "Too many failed sign-in attempts. Try again later.",
			RetryAfter: int(math.Ceil(wait.Seconds()))}
	}
	return nil
}

// recordFailure counts a failure against both keys and audits it, in one transaction.
func (s *Identity) recordFailure(ctx context.Context, k throttleKeys, audit *store.Activity) error {
	now := s.clock.Now()
	cutoff := now.Add(-s.cfg.Throttle.Window)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, key := range []string{k.user, k.addr} {
			if _, err := tx.RecordFailure(ctx, key, now, cutoff); err != nil {
				return err
			}
		}
		return tx.AppendActivity(ctx, audit)
	})
}

// DeleteExpired removes expired sessions and finished throttle windows. The serve command's
// janitor calls it periodically as the system subject. Errors: forbidden for anyone else.
func (s *Identity) DeleteExpired(ctx context.Context) (int64, error) {
	if !SubjectFrom(ctx).IsSystem() {
		return 0, webnet.Errorf(webnet.EForbidden, "Only the system deletes expired sessions.")
	}
	now := s.clock.Now()
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.DeleteExpired(ctx, now, now.Add(-s.cfg.SessionIdle), now.Add(-s.cfg.Throttle.Window))
		return err
	})
	return n, err
}
