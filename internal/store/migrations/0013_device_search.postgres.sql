-- Device search (a case-insensitive substring of the name or the address) through trigram
-- indexes instead of a scan of every device: pg_trgm's GIN operator class answers
-- LOWER(col) LIKE '%…%' for patterns of three characters or more. pg_trgm ships with
-- PostgreSQL and is a trusted extension (a database owner may create it); it is created in
-- the public schema so that every schema of the database shares one copy. Where it cannot be
-- created, webnet still works: searches scan, as before, and the notice says why.
DO $$
DECLARE
	ext_schema text;
BEGIN
	SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
	IF ext_schema IS NULL THEN
		CREATE EXTENSION pg_trgm WITH SCHEMA public;
		ext_schema := 'public';
	END IF;
	EXECUTE format('CREATE INDEX devices_name_trgm ON devices USING gin (LOWER(name) %I.gin_trgm_ops)', ext_schema);
	EXECUTE format('CREATE INDEX devices_address_trgm ON devices USING gin (LOWER(address) %I.gin_trgm_ops)', ext_schema);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR invalid_schema_name OR feature_not_supported THEN
	RAISE NOTICE 'webnet: pg_trgm is not available (%), device searches will scan', SQLERRM;
END
$$;
