package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

func TestFirmwareMethodsNeedASubject(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.LoadKeyring(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	clock := webnet.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock, Keyring: keyring,
		DataDir: t.TempDir(), PublicURL: "https://webnet.example.net/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := map[string]error{}
	_, _, calls["ListFirmwareImages"] = core.ListFirmwareImages(ctx, service.FirmwareFilter{}, webnet.Page{Limit: 10})
	_, calls["GetFirmwareImage"] = core.GetFirmwareImage(ctx, 1)
	_, calls["UploadFirmwareImage"] = core.UploadFirmwareImage(ctx, service.FirmwareUpload{Global: true}, strings.NewReader("x"))
	_, calls["UpdateFirmwareImage"] = core.UpdateFirmwareImage(ctx, 1, service.FirmwarePatch{})
	calls["DeleteFirmwareImage"] = core.DeleteFirmwareImage(ctx, 1)
	_, calls["FirmwareURL"] = core.FirmwareURL(ctx, 1, time.Minute)
	for name, err := range calls {
		if webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Errorf("%s without a subject: %v", name, err)
		}
	}
	// The system subject signs URLs under the public URL, its path kept.
	sys := service.WithSubject(ctx, service.System())
	if _, err := core.FirmwareURL(sys, 1, time.Minute); webnet.ErrorCode(err) != webnet.ENotFound {
		t.Errorf("URL of a missing image: %v", err)
	}

	// A public URL devices could not use is refused at start, not at the first upgrade.
	for _, bad := range []string{"webnet.example.net", "ftp://webnet.example.net", "http://", "http://h/?x=1", "http://u:p@h/"} {
		if _, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock, PublicURL: bad}); err == nil {
			t.Errorf("public URL %q accepted", bad)
		}
	}
	// Without a public URL or a data dir, the firmware methods say what is missing.
	bare, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock, Keyring: keyring})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.FirmwareURL(sys, 1, time.Minute); webnet.ErrorCode(err) != webnet.EUnavailable ||
		!strings.Contains(webnet.ErrorMessage(err), "WEBNET_PUBLIC_URL") {
		t.Errorf("FirmwareURL without a public URL: %v", err)
	}
	if bare.FirmwareMaxSize() != 0 {
		t.Errorf("a Core without a data dir takes images of %d bytes", bare.FirmwareMaxSize())
	}
}
