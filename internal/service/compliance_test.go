package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestComplianceWorkerMethodsAreSystemOnly: reading rules for a check and recording results
// are the worker's; a superuser is refused, and so is a context without a subject.
func TestComplianceWorkerMethodsAreSystemOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		core, asRoot := newAdminCore(t, db)
		for name, ctx := range map[string]context.Context{"superuser": asRoot, "nobody": context.Background()} {
			_, err := core.ComplianceRulesFor(ctx, 1, "cisco_iosxe")
			err2 := core.RecordComplianceCheck(ctx, 1, nil, nil)
			for _, e := range []error{err, err2} {
				if c := webnet.ErrorCode(e); c != webnet.EForbidden && c != webnet.EUnauthenticated {
					t.Errorf("%s: %v", name, e)
				}
			}
		}
	})
}

// TestConfigPushTextIsCheckedBeforeQueueing: RunAction refuses, as invalid on the config
// field, text that no device of the request could take — here over the 64 KiB limit, which
// the API's tests cannot send through their small body limit — and queues nothing.
func TestConfigPushTextIsCheckedBeforeQueueing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		core, asRoot := newAdminCore(t, db)
		c, err := core.CreateCustomer(asRoot, service.CustomerInput{Name: "acme", Slug: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		d := &webnet.Device{CustomerID: c.ID, Name: "r1", Address: "192.0.2.1", Port: 22, Platform: "juniper_junos", Enabled: true,
			CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		if err := db.InTx(asRoot, func(tx *store.Tx) error { return tx.CreateDevice(asRoot, d) }); err != nil {
			t.Fatal(err)
		}
		for text, why := range map[string]string{
			strings.Repeat("set system location x\n", 4000): "64 KiB",
			"set system host-name r1\ncommit":               "leave out \"commit\"", // Junos: webnet commits
			"set system host-name r1\n\x1b[2J":              "Control characters",
		} {
			_, err := core.RunAction(asRoot, service.ActionConfigPush, service.ActionRequest{Devices: []int64{d.ID},
				Params: map[string]any{"config": text}})
			var we *webnet.Error
			if webnet.ErrorCode(err) != webnet.EInvalid || !errors.As(err, &we) || !strings.Contains(we.Fields["config"], why) {
				t.Errorf("%.30q: %v", text, err)
			}
		}
		if n, _ := db.Read().CountJobs(asRoot); n != 0 {
			t.Fatalf("%d jobs queued", n)
		}
		if _, err := core.RunAction(asRoot, service.ActionConfigPush, service.ActionRequest{Devices: []int64{d.ID},
			Params: map[string]any{"config": "set system host-name r2"}}); err != nil {
			t.Fatalf("a good push: %v", err)
		}
	})
}
