-- The firmware image repository. A row is an image of one customer, or a global one
-- (customer_id NULL) offered to all. The file is in the data dir at path, named by its
-- SHA-256; customers uploading the same image share the file, so a file goes only with the
-- last row naming its hash.
CREATE TABLE firmware_images (
	id {{id}},
	customer_id BIGINT REFERENCES customers (id),
	platform TEXT NOT NULL,
	version TEXT NOT NULL,
	-- '' is every model of the platform.
	model TEXT NOT NULL DEFAULT '',
	filename TEXT NOT NULL,
	size BIGINT NOT NULL CHECK (size > 0),
	sha256 TEXT NOT NULL,
	md5 TEXT NOT NULL,
	golden BOOLEAN NOT NULL DEFAULT FALSE,
	path TEXT NOT NULL,
	-- Users are deactivated, not deleted; should one ever go, its images stay.
	uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL
);
-- One row per content and scope: an upload of the same bytes is a duplicate (409). NULL is
-- never equal to NULL in a unique index, hence the COALESCE for global images (ids start at 1).
CREATE UNIQUE INDEX firmware_images_sha256 ON firmware_images (COALESCE(customer_id, 0), sha256);
-- At most one golden image per scope, platform and model. The service clears the previous one
-- in the same transaction; the index makes a race between two of them a conflict.
CREATE UNIQUE INDEX firmware_images_golden ON firmware_images (COALESCE(customer_id, 0), platform, model) WHERE golden;
-- Lists: a customer's images (and the global ones) by platform.
CREATE INDEX firmware_images_customer ON firmware_images (customer_id, platform, id);
-- Whether any other scope still names a file.
CREATE INDEX firmware_images_file ON firmware_images (sha256);
