-- The SSH host key a device presented the first time a worker connected (trust on first
-- use), in authorized_keys form; every later connection must present the same key until an
-- admin clears it. Empty: not connected yet, or cleared.
ALTER TABLE devices ADD COLUMN host_key TEXT NOT NULL DEFAULT '';
