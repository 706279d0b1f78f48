-- RBAC (permission catalog, bundles, grants on memberships and groups, device groups, their
-- roles and assignments), devices and credentials, the job seam, and the audit trail.

CREATE TABLE permissions (
	codename TEXT PRIMARY KEY,
	app TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	custom_action BOOLEAN NOT NULL
);

CREATE TABLE device_group_permissions (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	description TEXT NOT NULL
);

CREATE TABLE permission_bundles (
	id {{id}},
	customer_id BIGINT REFERENCES customers (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	description TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	UNIQUE (customer_id, name)
);
-- Global bundles (no customer) have unique names too; NULLs are distinct in UNIQUE.
CREATE UNIQUE INDEX permission_bundles_global_name ON permission_bundles (name) WHERE customer_id IS NULL;

CREATE TABLE bundle_permissions (
	bundle_id BIGINT NOT NULL REFERENCES permission_bundles (id) ON DELETE CASCADE,
	codename TEXT NOT NULL REFERENCES permissions (codename),
	PRIMARY KEY (bundle_id, codename)
);

CREATE TABLE membership_permissions (
	membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
	codename TEXT NOT NULL REFERENCES permissions (codename),
	PRIMARY KEY (membership_id, codename)
);

CREATE TABLE membership_bundles (
	membership_id BIGINT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
	bundle_id BIGINT NOT NULL REFERENCES permission_bundles (id) ON DELETE CASCADE,
	PRIMARY KEY (membership_id, bundle_id)
);
CREATE INDEX membership_bundles_bundle ON membership_bundles (bundle_id);

CREATE TABLE group_permissions (
	group_id BIGINT NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
	codename TEXT NOT NULL REFERENCES permissions (codename),
	PRIMARY KEY (group_id, codename)
);

CREATE TABLE group_bundles (
	group_id BIGINT NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
	bundle_id BIGINT NOT NULL REFERENCES permission_bundles (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, bundle_id)
);
CREATE INDEX group_bundles_bundle ON group_bundles (bundle_id);

CREATE TABLE device_groups (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	description TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	-- How many devices the group has, kept by the store with every device change: lists
	-- count a user's devices from these instead of counting index entries.
	device_count INTEGER NOT NULL DEFAULT 0,
	UNIQUE (customer_id, name),
	UNIQUE (id, customer_id) -- target of devices' tenancy-preserving foreign key
);

-- The same counts per customer: all its devices, and those in no group.
ALTER TABLE customers ADD COLUMN device_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN ungrouped_device_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE device_group_roles (
	id {{id}},
	device_group_id BIGINT NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	description TEXT NOT NULL DEFAULT '',
	created_at {{time}} NOT NULL,
	UNIQUE (device_group_id, name)
);

CREATE TABLE device_group_role_permissions (
	role_id BIGINT NOT NULL REFERENCES device_group_roles (id) ON DELETE CASCADE,
	code TEXT NOT NULL REFERENCES device_group_permissions (code),
	PRIMARY KEY (role_id, code)
);

CREATE TABLE user_device_group_roles (
	id {{id}},
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role_id BIGINT NOT NULL REFERENCES device_group_roles (id) ON DELETE CASCADE,
	created_at {{time}} NOT NULL,
	UNIQUE (user_id, role_id)
);
CREATE INDEX user_device_group_roles_role ON user_device_group_roles (role_id);

CREATE TABLE group_device_group_roles (
	id {{id}},
	group_id BIGINT NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
	role_id BIGINT NOT NULL REFERENCES device_group_roles (id) ON DELETE CASCADE,
	created_at {{time}} NOT NULL,
	UNIQUE (group_id, role_id)
);
CREATE INDEX group_device_group_roles_role ON group_device_group_roles (role_id);

CREATE TABLE credentials (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	username TEXT NOT NULL DEFAULT '',
	password {{blob}},
	enable_secret {{blob}},
	private_key {{blob}},
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL,
	UNIQUE (customer_id, name),
	UNIQUE (id, customer_id)
);

-- A device's group and credential must belong to the device's customer: the composite
-- foreign keys make the database itself refuse a cross-tenant reference.
CREATE TABLE devices (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	device_group_id BIGINT,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	address TEXT NOT NULL,
	port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
	platform TEXT NOT NULL,
	credential_id BIGINT,
	enabled BOOLEAN NOT NULL DEFAULT TRUE,
	vendor TEXT NOT NULL DEFAULT '',
	model TEXT NOT NULL DEFAULT '',
	serial TEXT NOT NULL DEFAULT '',
	os_version TEXT NOT NULL DEFAULT '',
	uptime TEXT NOT NULL DEFAULT '',
	last_sync_at {{time}},
	last_backup_at {{time}},
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL,
	UNIQUE (customer_id, name),
	FOREIGN KEY (device_group_id, customer_id) REFERENCES device_groups (id, customer_id),
	FOREIGN KEY (credential_id, customer_id) REFERENCES credentials (id, customer_id)
);
-- Lists are filtered by customer and group and ordered by name: the first index serves
-- counts and small groups, the second walks a customer's devices in name order so that a page
-- of 50 stops early whatever the filter.
CREATE INDEX devices_customer_group_name ON devices (customer_id, device_group_id, name, id);
CREATE INDEX devices_customer_name ON devices (customer_id, name, id);
CREATE INDEX devices_group ON devices (device_group_id);
CREATE INDEX devices_credential ON devices (credential_id);

-- The job seam: custom actions create queued jobs here; the jobs issue adds the queue.
CREATE TABLE jobs (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled')),
	requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
	params {{json}} NOT NULL,
	dry_run BOOLEAN NOT NULL DEFAULT FALSE,
	progress_done INTEGER NOT NULL DEFAULT 0,
	progress_total INTEGER NOT NULL DEFAULT 0,
	created_at {{time}} NOT NULL,
	started_at {{time}},
	finished_at {{time}}
);
CREATE INDEX jobs_customer_created ON jobs (customer_id, created_at);

CREATE TABLE job_targets (
	job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
	message TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (job_id, device_id)
);
CREATE INDEX job_targets_device ON job_targets (device_id);

-- The audit trail: append-only, one global hash chain. audit_chain holds the chain's head so
-- that concurrent writers serialise on one row.
CREATE TABLE activity_log (
	id {{id}},
	at {{time}} NOT NULL,
	actor_id BIGINT,
	actor_username TEXT NOT NULL,
	customer_id BIGINT,
	action TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id TEXT NOT NULL DEFAULT '',
	object_repr TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL CHECK (result IN ('success', 'denied', 'failure')),
	details {{json}} NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
-- The audit log's lookups by customer, actor and object live in these tables, filled behind
-- the appends in batches (store.IndexActivity, run before every audit-log read): an audited
-- change then writes one unindexed row, not a row and three index entries.
CREATE TABLE activity_by_customer (
	customer_id BIGINT NOT NULL,
	activity_id BIGINT NOT NULL,
	PRIMARY KEY (customer_id, activity_id)
);
CREATE TABLE activity_by_actor (
	actor_id BIGINT NOT NULL,
	activity_id BIGINT NOT NULL,
	PRIMARY KEY (actor_id, activity_id)
);
CREATE TABLE activity_by_object (
	object_type TEXT NOT NULL,
	object_id TEXT NOT NULL,
	activity_id BIGINT NOT NULL,
	PRIMARY KEY (object_type, object_id, activity_id)
);

-- The chain head (last record) and how far the lookup tables reach.
CREATE TABLE audit_chain (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	last_id BIGINT NOT NULL,
	last_hash TEXT NOT NULL,
	indexed_id BIGINT NOT NULL DEFAULT 0
);
INSERT INTO audit_chain (id, last_id, last_hash, indexed_id) VALUES (1, 0, '', 0);
