-- The durable queue is the jobs table itself (README: "Why the queue is the jobs table"):
-- a queued job is a queue entry, so creating one in the caller's transaction enqueues it.
-- A worker claims a job by setting worker and lease_until and keeps renewing the lease while
-- it runs; a running job whose lease has run out belongs to a worker that died, and the next
-- claim takes it over.
ALTER TABLE jobs ADD COLUMN worker TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_until {{time}};
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
-- The job whose failed targets this job retries.
ALTER TABLE jobs ADD COLUMN retry_of BIGINT REFERENCES jobs (id) ON DELETE SET NULL;
-- The schedule that created the job; no foreign key, so that a deleted schedule's jobs keep
-- saying where they came from.
ALTER TABLE jobs ADD COLUMN schedule_id BIGINT;
-- Workers scan only unfinished jobs; finished ones (nearly all of them) stay out of the index.
CREATE INDEX jobs_unfinished ON jobs (status, id) WHERE status IN ('queued', 'running');

-- One device-affecting job per device at a time: a job holds a row here for each of its
-- devices from its creation until that device's target finishes. The primary key makes the
-- check race-free on both databases: a second job on the device fails to insert (409).
CREATE TABLE device_jobs (
	device_id BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE
);
CREATE INDEX device_jobs_job ON device_jobs (job_id);
