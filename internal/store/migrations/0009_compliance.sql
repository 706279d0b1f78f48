-- Compliance rules per customer, and the latest result of each rule on each device. A check
-- of a device replaces all of its results at once (the job's log keeps the history), so the
-- summary reads current rows only; compliance_checks says when each device was last checked,
-- which also covers a device with no result (no rule applied).

CREATE TABLE compliance_rules (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	description TEXT NOT NULL DEFAULT '',
	-- '' applies the rule to every platform.
	platform TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL CHECK (kind IN ('must_contain', 'must_not_contain', 'regex_match', 'regex_absent')),
	pattern TEXT NOT NULL,
	severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL,
	UNIQUE (customer_id, name)
);
-- A result's rule must be of the result's customer: the composite key lets the database
-- refuse anything else.
CREATE UNIQUE INDEX compliance_rules_id_customer ON compliance_rules (id, customer_id);

CREATE TABLE compliance_checks (
	device_id BIGINT PRIMARY KEY,
	customer_id BIGINT NOT NULL,
	job_id BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
	checked_at {{time}} NOT NULL,
	FOREIGN KEY (device_id, customer_id) REFERENCES devices (id, customer_id) ON DELETE CASCADE
);
CREATE INDEX compliance_checks_customer ON compliance_checks (customer_id);

CREATE TABLE compliance_results (
	device_id BIGINT NOT NULL,
	rule_id BIGINT NOT NULL,
	customer_id BIGINT NOT NULL,
	job_id BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
	passed BOOLEAN NOT NULL,
	detail TEXT NOT NULL,
	checked_at {{time}} NOT NULL,
	PRIMARY KEY (device_id, rule_id),
	FOREIGN KEY (device_id, customer_id) REFERENCES devices (id, customer_id) ON DELETE CASCADE,
	FOREIGN KEY (rule_id, customer_id) REFERENCES compliance_rules (id, customer_id) ON DELETE CASCADE
);
CREATE INDEX compliance_results_rule ON compliance_results (rule_id);
CREATE INDEX compliance_results_customer ON compliance_results (customer_id, device_id);
