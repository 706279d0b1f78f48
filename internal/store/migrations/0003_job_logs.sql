-- Job log lines: numbered per job without gaps (seq), optionally about one device.
CREATE TABLE job_logs (
	job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	seq BIGINT NOT NULL,
	at {{time}} NOT NULL,
	level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
	device_id BIGINT,
	message TEXT NOT NULL,
	PRIMARY KEY (job_id, seq)
);

-- The next log seq of each job, so appends need no MAX() scan.
ALTER TABLE jobs ADD COLUMN log_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_requested_by ON jobs (requested_by, id);
