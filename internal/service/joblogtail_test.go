package service_test

import (
	"context"
	"fmt"
	"testing"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestJobLogTailAndMayCancelEdges: JobLogTail's limit bounds, its window's first seq, a job
// that does not exist and a caller without a user; MayCancelJob's false cases.
func TestJobLogTailAndMayCancelEdges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		core, root := newAdminCore(t, db)
		ctx := context.Background()
		j := &webnet.Job{Kind: webnet.JobSync, Status: webnet.JobQueued}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c := &webnet.Customer{Name: "A", Slug: "a"}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			j.CustomerID = c.ID
			if err := tx.CreateJob(ctx, j); err != nil {
				return err
			}
			for i := range 5 {
				if err := tx.AppendJobLog(ctx, j.ID, &webnet.JobLogLine{Level: "info", Message: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{0, -1, webnet.MaxLimit + 1} {
			if _, _, err := core.JobLogTail(root, j.ID, 0, limit); webnet.ErrorCode(err) != webnet.EInvalid {
				t.Errorf("limit %d: %v, want invalid", limit, err)
			}
		}
		for _, c := range []struct {
			before      int64
			limit       int
			n           int
			from, first int64
		}{{0, 2, 2, 4, 4}, {4, 2, 2, 2, 2}, {2, 5, 1, 1, 1}, {1, 5, 0, 0, 0}, {99, webnet.MaxLimit, 5, 1, 1}} {
			lines, from, err := core.JobLogTail(root, j.ID, c.before, c.limit)
			if err != nil || len(lines) != c.n || from != c.from || (c.n > 0 && lines[0].Seq != c.first) {
				t.Errorf("before %d limit %d: %d lines from %d (%v), want %d from %d", c.before, c.limit, len(lines), from, err, c.n, c.from)
			}
		}
		if _, _, err := core.JobLogTail(root, j.ID+1, 0, 10); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Errorf("no such job: %v", err)
		}
		if _, _, err := core.JobLogTail(ctx, j.ID, 0, 10); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Errorf("no subject: %v", err)
		}
		if !core.MayCancelJob(root, j) {
			t.Errorf("a superuser may not cancel a queued job")
		}
		done := *j
		done.Status = webnet.JobFailed
		sys := service.WithSubject(ctx, service.System())
		for name, c := range map[string]struct {
			ctx context.Context
			j   *webnet.Job
		}{"no job": {root, nil}, "finished": {root, &done}, "no subject": {ctx, j}, "system": {sys, j}} {
			if core.MayCancelJob(c.ctx, c.j) {
				t.Errorf("%s: may cancel", name)
			}
		}
	})
}
