-- The latest readiness check of each device: one row per device, replaced by each check (the
-- job's log keeps the history). checks is the list of {name, status, reason}.

CREATE TABLE device_readiness (
	device_id BIGINT PRIMARY KEY,
	customer_id BIGINT NOT NULL,
	job_id BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
	image_id BIGINT REFERENCES firmware_images (id) ON DELETE SET NULL,
	status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail', 'skip')),
	checks {{json}} NOT NULL,
	checked_at {{time}} NOT NULL,
	FOREIGN KEY (device_id, customer_id) REFERENCES devices (id, customer_id) ON DELETE CASCADE
);
CREATE INDEX device_readiness_customer ON device_readiness (customer_id, status);
