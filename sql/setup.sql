--
-- setup: the extension installs its objects, and the helpers the other
-- tests use.  Every test of this suite runs in contrib_regression, the
-- database named by pgpool_ext.database (test/pgpool_ext.conf); the pools'
-- remote server is this same instance, reached over its unix socket.
--
CREATE EXTENSION pgpool_ext;

SELECT extname, extversion, extnamespace::regnamespace AS schema, extrelocatable
  FROM pg_extension WHERE extname = 'pgpool_ext';

-- functions and their result types
SELECT p.proname, pg_get_function_result(p.oid) AS result, p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'pgpool_ext'::regnamespace
 ORDER BY p.proname;
-- their arguments (the views' functions have only OUT arguments: see views)
SELECT p.proname, a.n, a.arg
  FROM pg_proc p,
       unnest(string_to_array(pg_get_function_arguments(p.oid), ', ')) WITH ORDINALITY a(arg, n)
 WHERE p.pronamespace = 'pgpool_ext'::regnamespace AND p.proname NOT LIKE '%\_info'
 ORDER BY p.proname, a.n;

-- tables and views
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'pgpool_ext'::regnamespace AND c.relkind IN ('r', 'v')
 ORDER BY c.relname;

-- the definition tables are dumped by pg_dump
SELECT unnest(extconfig)::regclass AS config_table
  FROM pg_extension WHERE extname = 'pgpool_ext'
 ORDER BY 1;

-- the definition tables start empty, and are not readable by PUBLIC
SELECT count(*) FROM pgpool_ext.pool_definition;
SELECT count(*) FROM pgpool_ext.pool_usage;
SELECT relname, NOT EXISTS (SELECT 1 FROM aclexplode(relacl) WHERE grantee = 0) AS no_public_grant
  FROM pg_class
 WHERE oid IN ('pgpool_ext.pool_definition'::regclass, 'pgpool_ext.pool_usage'::regclass)
 ORDER BY relname;

-- the parameters, with their defaults (pgpool_ext.database from the test conf)
SELECT name, setting, unit, context
  FROM pg_settings WHERE name LIKE 'pgpool_ext.%' ORDER BY name;


-- no pools, connections, handles or waiters yet
SELECT count(*) FROM pgpool_ext.pools;
SELECT count(*) FROM pgpool_ext.connections;
SELECT count(*) FROM pgpool_ext.handles;
SELECT count(*) FROM pgpool_ext.waiters;

--
-- Helpers for the other tests (in public, they live as long as the database).
--

-- err(sql): run sql, return 'SQLSTATE: message' of its error, or 'no error'.
-- with_detail adds the DETAIL and HINT lines.  Cancels (57014) are caught
-- too.  Handle numbers are not deterministic: they are shown as N.
CREATE FUNCTION err(sql text, with_detail boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  d text;
  h text;
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM ||
                        CASE WHEN with_detail AND d <> '' THEN E'\nDETAIL: ' || d ELSE '' END ||
                        CASE WHEN with_detail AND h <> '' THEN E'\nHINT: ' || h ELSE '' END,
                        'handle -?[0-9]+', 'handle N', 'g');
END $$;

-- wait_for(cond): poll the boolean expression cond for up to 10 s; returns
-- whether it became true.  The pool worker opens and resets connections
-- asynchronously: tests wait for the state they expect with this.
CREATE FUNCTION wait_for(cond text, timeout_s float8 DEFAULT 10) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  ok boolean;
  deadline timestamptz := clock_timestamp() + make_interval(secs => timeout_s);
BEGIN
  LOOP
    EXECUTE 'SELECT (' || cond || ')' INTO ok;
    IF ok THEN
      RETURN true;
    END IF;
    IF clock_timestamp() > deadline THEN
      RAISE WARNING 'timed out waiting for: %', cond;
      RETURN false;
    END IF;
    PERFORM pg_sleep(0.05);
    -- pg_stat_activity is read once per transaction unless cleared
    PERFORM pg_stat_clear_snapshot();
  END LOOP;
END $$;

SELECT err('SELECT 1/0');
SELECT err('SELECT 1');
SELECT wait_for('true');

-- the pool worker runs (it starts once contrib_regression exists)
SELECT wait_for($$(SELECT count(*) = 1 FROM pg_stat_activity
                   WHERE backend_type = 'pgpool_ext worker'
                     AND datname = current_database())$$) AS worker_running;
