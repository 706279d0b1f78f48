-- Identity: customers, users, memberships, auth groups, API tokens, browser sessions and the
-- sign-in throttle. Times are UTC; booleans are TRUE/FALSE (SQLite stores 1/0).

CREATE TABLE customers (
	id {{id}},
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	slug TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 100),
	created_at {{time}} NOT NULL
);

CREATE TABLE users (
	id {{id}},
	username TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 150),
	email TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	is_active BOOLEAN NOT NULL DEFAULT TRUE,
	is_staff BOOLEAN NOT NULL DEFAULT FALSE,
	is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
	created_at {{time}} NOT NULL,
	last_login_at {{time}}
);

CREATE TABLE memberships (
	id {{id}},
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	role TEXT NOT NULL CHECK (role IN ('member', 'viewer', 'operator', 'admin')),
	created_at {{time}} NOT NULL,
	UNIQUE (user_id, customer_id)
);
CREATE INDEX memberships_customer ON memberships (customer_id);

CREATE TABLE auth_groups (
	id {{id}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 150),
	created_at {{time}} NOT NULL,
	UNIQUE (customer_id, name)
);

CREATE TABLE auth_group_users (
	group_id BIGINT NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX auth_group_users_user ON auth_group_users (user_id);

CREATE TABLE api_tokens (
	id {{id}},
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name TEXT NOT NULL DEFAULT '',
	prefix TEXT NOT NULL,
	key_hash TEXT NOT NULL UNIQUE,
	created_at {{time}} NOT NULL,
	expires_at {{time}},
	last_used_at {{time}}
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
	id_hash TEXT PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at {{time}} NOT NULL,
	last_seen_at {{time}} NOT NULL,
	expires_at {{time}} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_throttle (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	window_start {{time}} NOT NULL
);
