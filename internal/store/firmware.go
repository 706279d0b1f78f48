package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

const firmwareColumns = `f.id, f.customer_id, f.platform, f.version, f.model, f.filename, f.size, f.sha256, f.md5, f.golden,
	f.path, f.uploaded_by, f.created_at, f.updated_at`

func scanFirmwareImage(s scanner, f *webnet.FirmwareImage) error {
	var customer, by sql.NullInt64
	if err := s.Scan(&f.ID, &customer, &f.Platform, &f.Version, &f.Model, &f.Filename, &f.Size, &f.SHA256, &f.MD5,
		&f.Golden, &f.Path, &by, &f.CreatedAt, &f.UpdatedAt); err != nil {
		return err
	}
	f.CustomerID, f.UploadedBy = nullInt(customer), nullInt(by)
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	return nil
}

// scopeKey is the value the firmware indexes give a scope: the customer's id, 0 for global.
func scopeKey(customerID *int64) int64 {
	if customerID == nil {
		return 0
	}
	return *customerID
}

func firmwareWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		// Both unique indexes are checked by the service first, in the same transaction; on
		// PostgreSQL a concurrent request can still win between the check and the write.
		return webnet.Errorf(webnet.EConflict, "Another request changed the same firmware images at the same time; try again.")
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.ENotFound, "Customer not found.")
	}
	return fmt.Errorf("%s firmware image: %w", what, err)
}

// CreateFirmwareImage inserts f and sets its ID.
func (tx *Tx) CreateFirmwareImage(ctx context.Context, f *webnet.FirmwareImage) error {
	err := tx.queryRow(ctx, `INSERT INTO firmware_images (customer_id, platform, version, model, filename, size, sha256, md5,
		golden, path, uploaded_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.CustomerID, f.Platform, f.Version, f.Model, f.Filename, f.Size, f.SHA256, f.MD5, f.Golden, f.Path, f.UploadedBy,
		f.CreatedAt, f.UpdatedAt).Scan(&f.ID)
	return firmwareWriteErr(err, "insert")
}

// UpdateFirmwareImage writes f's changeable columns: model, golden and updated_at.
func (tx *Tx) UpdateFirmwareImage(ctx context.Context, f *webnet.FirmwareImage) error {
	_, err := tx.exec(ctx, `UPDATE firmware_images SET model = ?, golden = ?, updated_at = ? WHERE id = ?`,
		f.Model, f.Golden, f.UpdatedAt, f.ID)
	return firmwareWriteErr(err, "update")
}

// ClearGolden unmarks the golden image of a scope (customerID, nil for global), platform and
// model, other than image except, and returns the ids it unmarked (none or one).
func (tx *Tx) ClearGolden(ctx context.Context, customerID *int64, platform, model string, except int64, now time.Time) ([]int64, error) {
	rows, err := tx.query(ctx, `UPDATE firmware_images SET golden = FALSE, updated_at = ?
		WHERE COALESCE(customer_id, 0) = ? AND platform = ? AND model = ? AND golden AND id <> ? RETURNING id`,
		now, scopeKey(customerID), platform, model, except)
	if err != nil {
		return nil, fmt.Errorf("clear golden image: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("clear golden image: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeleteFirmwareImage deletes image id and reports whether another row still names its file
// (the same content in another scope), in which case the file must stay.
func (tx *Tx) DeleteFirmwareImage(ctx context.Context, id int64) (fileInUse bool, err error) {
	var sha string
	if err := tx.queryRow(ctx, `DELETE FROM firmware_images WHERE id = ? RETURNING sha256`, id).Scan(&sha); err != nil {
		return false, notFound(err, "Firmware image")
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM firmware_images WHERE sha256 = ?`, sha).Scan(&n); err != nil {
		return false, fmt.Errorf("count firmware file use: %w", err)
	}
	return n > 0, nil
}

// FirmwareImageByID returns one image; callers authorize.
func (q Q) FirmwareImageByID(ctx context.Context, id int64) (*webnet.FirmwareImage, error) {
	var f webnet.FirmwareImage
	if err := scanFirmwareImage(q.queryRow(ctx, `SELECT `+firmwareColumns+` FROM firmware_images f WHERE f.id = ?`, id), &f); err != nil {
		return nil, notFound(err, "Firmware image")
	}
	return &f, nil
}

// FirmwareImageBySHA256 returns the image of a scope (customerID, nil for global) with the
// given content hash; not_found when there is none.
func (q Q) FirmwareImageBySHA256(ctx context.Context, customerID *int64, sha256 string) (*webnet.FirmwareImage, error) {
	var f webnet.FirmwareImage
	err := scanFirmwareImage(q.queryRow(ctx, `SELECT `+firmwareColumns+` FROM firmware_images f
		WHERE COALESCE(f.customer_id, 0) = ? AND f.sha256 = ?`, scopeKey(customerID), sha256), &f)
	if err != nil {
		return nil, notFound(err, "Firmware image")
	}
	return &f, nil
}

// FirmwareFilter narrows a list of firmware images; zero fields do not filter.
type FirmwareFilter struct {
	CustomerID *int64 // images of this customer only
	Global     *bool  // true: global images only; false: customer images only
	Platform   string
	Golden     *bool
}

// ListFirmwareImages returns a page of the global images and those of the customers member
// allows, as the filter narrows them: global first, then by customer, platform and newest.
func (q Q) ListFirmwareImages(ctx context.Context, member authz.Filter, f FirmwareFilter, page webnet.Page) ([]webnet.FirmwareImage, int, error) {
	vis, args, err := member.Where()
	if err != nil {
		return nil, 0, err
	}
	from := `FROM firmware_images f WHERE (f.customer_id IS NULL OR ` + vis + `)`
	if f.CustomerID != nil {
		from += ` AND f.customer_id = ?`
		args = append(args, *f.CustomerID)
	}
	if f.Global != nil {
		if *f.Global {
			from += ` AND f.customer_id IS NULL`
		} else {
			from += ` AND f.customer_id IS NOT NULL`
		}
	}
	if f.Platform != "" {
		from += ` AND f.platform = ?`
		args = append(args, f.Platform)
	}
	if f.Golden != nil {
		from += ` AND f.golden = ?`
		args = append(args, *f.Golden)
	}
	total, err := q.countWhere(ctx, "firmware images", from, args)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT `+firmwareColumns+` `+from+`
		ORDER BY CASE WHEN f.customer_id IS NULL THEN 0 ELSE 1 END, f.customer_id, f.platform, f.id DESC LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list firmware images: %w", err)
	}
	defer rows.Close()
	out := []webnet.FirmwareImage{}
	for rows.Next() {
		var img webnet.FirmwareImage
		if err := scanFirmwareImage(rows, &img); err != nil {
			return nil, 0, fmt.Errorf("scan firmware image: %w", err)
		}
		out = append(out, img)
	}
	return out, total, rows.Err()
}

// JobsUsingImage returns the queued and running readiness and upgrade jobs whose parameters
// name image id, of customer customerID only when it is not nil (a customer's image can be
// used by that customer's jobs alone). The scan reads unfinished jobs only, through their
// partial index, and reads "image" from each one's parameters in Go: JSON operators differ
// between the two dialects, and unfinished jobs are few.
func (q Q) JobsUsingImage(ctx context.Context, id int64, customerID *int64) ([]int64, error) {
	query := `SELECT j.id, j.params FROM jobs j WHERE j.status IN (?, ?) AND j.kind IN (?, ?)`
	args := []any{webnet.JobQueued, webnet.JobRunning, webnet.JobUpgrade, webnet.JobReadiness}
	if customerID != nil {
		query += ` AND j.customer_id = ?`
		args = append(args, *customerID)
	}
	return q.namingImage(ctx, "jobs", id, query+` ORDER BY j.id`, args...)
}

// SchedulesUsingImage returns the readiness and upgrade schedules (enabled or not) whose
// parameters name image id — of customerID when not nil — by id: a schedule would fail every
// run once its image is gone.
func (q Q) SchedulesUsingImage(ctx context.Context, id int64, customerID *int64) ([]int64, error) {
	query := `SELECT s.id, s.params FROM schedules s WHERE s.kind IN (?, ?)`
	args := []any{webnet.JobUpgrade, webnet.JobReadiness}
	if customerID != nil {
		query += ` AND s.customer_id = ?`
		args = append(args, *customerID)
	}
	return q.namingImage(ctx, "schedules", id, query+` ORDER BY s.id`, args...)
}

// namingImage runs query (selecting an id and JSON parameters) and returns the ids whose
// parameters name image id. Parameters that do not parse name no image.
func (q Q) namingImage(ctx context.Context, what string, id int64, query string, args ...any) ([]int64, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s using firmware image: %w", what, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var row int64
		var params string
		if err := rows.Scan(&row, &params); err != nil {
			return nil, fmt.Errorf("%s using firmware image: %w", what, err)
		}
		var p struct {
			Image *int64 `json:"image"`
		}
		if json.Unmarshal([]byte(params), &p) == nil && p.Image != nil && *p.Image == id {
			ids = append(ids, row)
		}
	}
	return ids, rows.Err()
}
