package service

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/backup"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// RecordBackup stores a configuration read from a device by a job (jobID, if any). A read
// equal to the device's latest version once noise is masked makes no new version: it only
// stamps the device's last_backup_at, and RecordBackup returns the latest version and
// false. Otherwise the content is stored once per customer and hash, a version is added, and
// the device's older versions beyond the retention are pruned, all in one transaction. Only
// the system (a worker) may call it. Errors: forbidden, invalid (too large), not_found.
func (c *Core) RecordBackup(ctx context.Context, deviceID int64, jobID *int64, content []byte) (*webnet.Backup, bool, error) {
	if err := requireSystemSubject(ctx, "record backups"); err != nil {
		return nil, false, err
	}
	if len(content) > backup.MaxSize {
		return nil, false, webnet.Invalid("The configuration is too large.", map[string]string{"content": "At most 16 MiB."})
	}
	d, err := c.db.Read().DeviceByID(ctx, deviceID)
	if err != nil {
		return nil, false, err
	}
	sha, masked := backup.Hash(content), backup.Hash(backup.Mask(d.Platform, content))
	compressed, err := backup.Compress(content)
	if err != nil {
		return nil, false, err
	}
	now := c.clock.Now()
	var out *webnet.Backup
	var made bool
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		latest, err := tx.LatestBackup(ctx, d.ID)
		switch {
		case err == nil && latest.MaskedSHA256 == masked:
			out, made = latest, false
			return tx.TouchBackup(ctx, d.ID, now)
		case err != nil && webnet.ErrorCode(err) != webnet.ENotFound:
			return err
		}
		if err := tx.SaveBlob(ctx, d.CustomerID, sha, len(content), compressed); err != nil {
			return err
		}
		out = &webnet.Backup{CustomerID: d.CustomerID, DeviceID: d.ID, JobID: jobID, TakenAt: now, SHA256: sha,
			MaskedSHA256: masked, Size: len(content), Changed: true}
		if err := tx.CreateBackup(ctx, out); err != nil {
			return err
		}
		made = true
		_, err = tx.PruneBackups(ctx, d.CustomerID, d.ID, c.retain, now)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("record backup of device %d: %w", deviceID, err)
	}
	return out, made, nil
}

// Sentences of the backup permissions' denials.
const (
	deniedBackups = "You do not have permission to view backups"
	deniedConfig  = "You do not have permission to view configuration"
)

// backupsDevice loads a device the caller may see and checks perm on it.
func (c *Core) backupsDevice(ctx context.Context, g *authz.Grants, deviceID int64, perm webnet.Perm, sentence string) (*webnet.Device, error) {
	d, err := c.visibleDevice(ctx, c.db.Read(), g, deviceID)
	if err != nil {
		return nil, err
	}
	if !g.Can(perm, authz.TargetOf(d)) {
		return nil, forbidden("%s.", sentence)
	}
	return d, nil
}

// visibleBackup loads a backup whose device the caller may see (else not_found) and on
// which they hold perm (else forbidden).
func (c *Core) visibleBackup(ctx context.Context, g *authz.Grants, id int64, perm webnet.Perm, sentence string) (*webnet.Backup, *webnet.Device, error) {
	b, err := c.db.Read().BackupByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d, err := c.db.Read().DeviceByID(ctx, b.DeviceID)
	if err != nil || !g.Visible(authz.TargetOf(d)) {
		return nil, nil, notFoundErr("Backup")
	}
	if !g.Can(perm, authz.TargetOf(d)) {
		return nil, nil, forbidden("%s.", sentence)
	}
	return b, d, nil
}

// ListBackups returns a page of a device's backups, newest first. Needs view_backups on the
// device. Errors: unauthenticated, not_found, forbidden.
func (c *Core) ListBackups(ctx context.Context, deviceID int64, page webnet.Page) ([]webnet.Backup, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	if _, err := c.backupsDevice(ctx, g, deviceID, webnet.PermViewBackups, deniedBackups); err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListBackups(ctx, deviceID, page)
}

// GetBackup returns one backup's metadata. Needs view_backups on its device. Errors:
// unauthenticated, not_found, forbidden.
func (c *Core) GetBackup(ctx context.Context, id int64) (*webnet.Backup, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	b, _, err := c.visibleBackup(ctx, g, id, webnet.PermViewBackups, deniedBackups)
	return b, err
}

// BackupFile is a backup's content as a download.
type BackupFile struct {
	Backup  *webnet.Backup
	Device  *webnet.Device
	Content []byte
}

// BackupContent returns a backup's configuration for download (view_backups: "downloads
// files", design.md §2). Errors: unauthenticated, not_found, forbidden.
func (c *Core) BackupContent(ctx context.Context, id int64) (*BackupFile, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	b, d, err := c.visibleBackup(ctx, g, id, webnet.PermViewBackups, deniedBackups)
	if err != nil {
		return nil, err
	}
	return c.backupFile(ctx, b, d)
}

func (c *Core) backupFile(ctx context.Context, b *webnet.Backup, d *webnet.Device) (*BackupFile, error) {
	z, err := c.db.Read().BackupContent(ctx, b.CustomerID, b.SHA256)
	if err != nil {
		return nil, err
	}
	content, err := backup.Decompress(z)
	if err != nil {
		return nil, fmt.Errorf("backup %d: %w", b.ID, err)
	}
	return &BackupFile{Backup: b, Device: d, Content: content}, nil
}

// DeviceConfig returns a device's latest configuration (view_configuration). Errors:
// unauthenticated, not_found (also when it has no backup yet), forbidden.
func (c *Core) DeviceConfig(ctx context.Context, deviceID int64) (*BackupFile, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	d, err := c.backupsDevice(ctx, g, deviceID, webnet.PermViewConfiguration, deniedConfig)
	if err != nil {
		return nil, err
	}
	b, err := c.db.Read().LatestBackup(ctx, d.ID)
	if err != nil {
		return nil, webnet.Errorf(webnet.ENotFound, "The device has no configuration backup yet.")
	}
	return c.backupFile(ctx, b, d)
}

// BackupDiff is the unified diff between two backups, noise masked.
type BackupDiff struct {
	From *webnet.Backup `json:"from"`
	To   *webnet.Backup `json:"to"`
	// Diff is a unified diff from From to To; empty when they are the same configuration.
	Diff string `json:"diff"`
}

// DiffBackups diffs backup id against backup against, or against the previous version of the
// same device when against is nil. Needs view_configuration on both devices. Errors:
// unauthenticated, not_found (either backup, or no previous version), forbidden.
func (c *Core) DiffBackups(ctx context.Context, id int64, against *int64) (*BackupDiff, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	to, toDev, err := c.visibleBackup(ctx, g, id, webnet.PermViewConfiguration, deniedConfig)
	if err != nil {
		return nil, err
	}
	var from *webnet.Backup
	fromDev := toDev
	if against == nil {
		if from, err = c.db.Read().PreviousBackup(ctx, to); err != nil {
			return nil, webnet.Errorf(webnet.ENotFound, "This is the device's first backup: there is nothing before it to compare with.")
		}
	} else if from, fromDev, err = c.visibleBackup(ctx, g, *against, webnet.PermViewConfiguration, deniedConfig); err != nil {
		return nil, err
	}
	a, err := c.backupFile(ctx, from, fromDev)
	if err != nil {
		return nil, err
	}
	b, err := c.backupFile(ctx, to, toDev)
	if err != nil {
		return nil, err
	}
	name := func(f *BackupFile) string {
		return fmt.Sprintf("%s backup %d (%s)", f.Device.Name, f.Backup.ID, f.Backup.TakenAt.Format("2006-01-02 15:04:05Z"))
	}
	return &BackupDiff{From: from, To: to, Diff: backup.Diff(toDev.Platform, name(a), name(b), a.Content, b.Content)}, nil
}
