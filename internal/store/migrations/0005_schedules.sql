-- Cron schedules of jobs (design.md §1, Schedule). A schedule runs as its owner, whose
-- permissions are checked again at every run. next_run_at is the tick the schedule waits for
-- (NULL while it is disabled); a process takes a tick by moving next_run_at on with a
-- compare-and-set in the transaction that creates the tick's job, so that each tick runs once
-- however many processes look.
CREATE TABLE schedules (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	kind TEXT NOT NULL,
	cron TEXT NOT NULL,
	timezone TEXT NOT NULL DEFAULT 'UTC',
	-- The target: one device group (its devices at each run) or a list of device ids (those
	-- that still exist at each run), never both.
	device_group_id BIGINT,
	device_ids {{json}} NOT NULL,
	params {{json}} NOT NULL,
	dry_run BOOLEAN NOT NULL DEFAULT FALSE,
	enabled BOOLEAN NOT NULL DEFAULT TRUE,
	-- Users are deactivated, not deleted; should one ever go, its schedules stay and say so.
	owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
	next_run_at {{time}},
	last_run_at {{time}},
	last_job_id BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
	last_error TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL,
	UNIQUE (customer_id, name),
	-- The target group belongs to the schedule's customer: the database refuses anything else.
	-- No cascade: a device group that schedules target cannot be deleted (409).
	FOREIGN KEY (device_group_id, customer_id) REFERENCES device_groups (id, customer_id)
);
-- The scheduler's scan: enabled schedules by their next tick.
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled;
CREATE INDEX schedules_owner ON schedules (owner_id);
CREATE INDEX schedules_device_group ON schedules (device_group_id);
