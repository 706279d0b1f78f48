-- Configuration backups. Content is stored once per customer and content hash
-- (config_blobs, compressed); a backup is a version of one device's configuration pointing
-- at its content. A read that differs from the device's latest version only by noise (see
-- internal/backup) makes no version at all, so unchanged devices cost nothing per sync.

-- A backup's device must be of the backup's customer: the composite key lets the database
-- refuse anything else.
CREATE UNIQUE INDEX devices_id_customer ON devices (id, customer_id);

CREATE TABLE config_blobs (
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	content {{blob}} NOT NULL,
	PRIMARY KEY (customer_id, sha256)
);

CREATE TABLE config_backups (
	id {{id}},
	customer_id BIGINT NOT NULL,
	device_id BIGINT NOT NULL,
	job_id BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
	taken_at {{time}} NOT NULL,
	sha256 TEXT NOT NULL,
	-- The hash of the content with its noise masked: two reads are the same configuration
	-- exactly when these are equal.
	masked_sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	changed BOOLEAN NOT NULL,
	FOREIGN KEY (device_id, customer_id) REFERENCES devices (id, customer_id) ON DELETE CASCADE,
	FOREIGN KEY (customer_id, sha256) REFERENCES config_blobs (customer_id, sha256)
);
CREATE INDEX config_backups_device ON config_backups (device_id, id);
CREATE INDEX config_backups_blob ON config_backups (customer_id, sha256);
