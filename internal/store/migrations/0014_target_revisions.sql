-- Live updates read only the targets that changed since they last looked. Every change of a
-- job's targets takes the next value of the job's targets_rev (an update of the job's row,
-- whose lock orders the revisions as their commits) and stamps it on the targets it changed;
-- a reader that has seen revision r asks for rev > r.
ALTER TABLE jobs ADD COLUMN targets_rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE job_targets ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
CREATE INDEX job_targets_rev ON job_targets (job_id, rev);
