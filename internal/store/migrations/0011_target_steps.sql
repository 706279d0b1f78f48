-- A target's progress through the steps of a long job kind (an upgrade's nine steps): the
-- step it is at (1-based; 0: not started or a kind without steps) of how many.
ALTER TABLE job_targets ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_targets ADD COLUMN steps INTEGER NOT NULL DEFAULT 0;
