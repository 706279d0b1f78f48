package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestJobLogsBefore: the newest lines below a seq, in ascending order, at every edge — an
// empty log, before ≤ 0 (the end), before past the end, before at the start, limits larger
// than what is there — and never another job's lines.
func TestJobLogsBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond) // PostgreSQL keeps microseconds
		var c webnet.Customer
		var empty, job, other webnet.Job
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c = webnet.Customer{Name: "A", Slug: "a", CreatedAt: now}
			if err := tx.CreateCustomer(ctx, &c); err != nil {
				return err
			}
			for _, j := range []*webnet.Job{&empty, &job, &other} {
				*j = webnet.Job{CustomerID: c.ID, Kind: webnet.JobSync, Status: webnet.JobRunning, CreatedAt: now}
				if err := tx.CreateJob(ctx, j); err != nil {
					return err
				}
			}
			dev := int64(7)
			for i := 1; i <= 10; i++ {
				l := &webnet.JobLogLine{At: now.Add(time.Duration(i) * time.Second), Level: "info", Message: fmt.Sprintf("line %d", i)}
				if i%2 == 0 {
					l.DeviceID = &dev
				}
				if err := tx.AppendJobLog(ctx, job.ID, l); err != nil {
					return err
				}
				if err := tx.AppendJobLog(ctx, other.ID, &webnet.JobLogLine{At: now, Level: "warn", Message: "other"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			job         int64
			before      int64
			limit       int
			first, last int64 // the seqs expected, 0, 0 for none
		}{
			{empty.ID, 0, 5, 0, 0},
			{empty.ID, 3, 5, 0, 0},
			{job.ID, 0, 3, 8, 10},
			{job.ID, -1, 3, 8, 10},
			{job.ID, 0, 100, 1, 10},
			{job.ID, 11, 4, 7, 10},
			{job.ID, 1000, 2, 9, 10},
			{job.ID, 10, 3, 7, 9},
			{job.ID, 4, 10, 1, 3},
			{job.ID, 2, 10, 1, 1},
			{job.ID, 1, 10, 0, 0},
			{job.ID, 6, 1, 5, 5},
			{job.ID + 1000, 0, 10, 0, 0},
		} {
			lines, err := db.Read().JobLogsBefore(ctx, c.job, c.before, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for s := c.first; s > 0 && s <= c.last; s++ {
				want = append(want, s)
			}
			var got []int64
			for _, l := range lines {
				got = append(got, l.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("job %d before %d limit %d: seqs %v, want %v", c.job, c.before, c.limit, got, want)
			}
			if lines == nil {
				t.Errorf("job %d before %d: nil, want an empty slice", c.job, c.before)
			}
			for _, l := range lines {
				if l.Message != fmt.Sprintf("line %d", l.Seq) || l.Level != "info" || (l.DeviceID != nil) != (l.Seq%2 == 0) ||
					!l.At.Equal(now.Add(time.Duration(l.Seq)*time.Second)) || l.At.Location() != time.UTC {
					t.Errorf("line %d read back as %+v", l.Seq, l)
				}
			}
		}
	})
}
