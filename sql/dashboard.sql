--
-- dashboard: pgpool_ext.dashboard() (the document's shape, masking,
-- privileges) and the partitions view.  Only this test's pools are looked
-- at (earlier tests may leave others).
--
SELECT pgpool_ext.create_pool('d', 'dbname=contrib_regression password=secret_dash_pw',
                              max_size => 3, min_size => 0,
                              options => '{"leak_threshold": "1 h"}');
SELECT pgpool_ext.acquire('d') AS h \gset
SELECT pgpool_ext.query_json(:h, 'SELECT 1 AS one');
SELECT pgpool_ext.acquire('d', partition => 'k1') AS hk \gset

-- top level: version, generated_at (a timestamptz), worker_up, pools
SELECT jsonb_typeof(d) AS doc, d->'version' AS version,
       (d->>'generated_at')::timestamptz BETWEEN now() - interval '1 min' AND clock_timestamp() AS generated_now,
       d->'worker_up' AS worker_up, jsonb_typeof(d->'pools') AS pools
  FROM pgpool_ext.dashboard() d;
SELECT string_agg(k, ' ' ORDER BY k) AS top_keys
  FROM pgpool_ext.dashboard() d, jsonb_object_keys(d) k;

-- a pool's keys, in alphabetical order, and their JSON types
SELECT k, jsonb_typeof(p->k) AS type
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       jsonb_object_keys(p) k
 WHERE p->>'name' = 'd'
 ORDER BY k;

-- the definition: every option; the password masked
SELECT p->'definition' AS definition
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd';
SELECT position('secret_dash_pw' IN pgpool_ext.dashboard()::text) AS pw_pos;
SELECT (p->'definition'->>'conninfo') = pl.conninfo AS conninfo_as_pools_view
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       pgpool_ext.pools pl
 WHERE p->>'name' = 'd' AND pl.pool_name = 'd';

-- connections by state, counters and waiting agree with the pools view
SELECT p->'connections' AS connections, p->'counters' AS counters,
       p->'waiting' AS waiting, p->'max_wait' AS max_wait
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd';
SELECT (p->'connections'->>'in_use')::int = pl.in_use AS in_use_ok,
       (p->'connections'->>'idle')::int = pl.idle AS idle_ok,
       (p->>'total')::int = pl.total AS total_ok,
       (p->'counters'->>'acquires')::bigint = pl.acquires AS acquires_ok,
       (p->>'stats_reset')::timestamptz = pl.stats_reset AS stats_reset_ok
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       pgpool_ext.pools pl
 WHERE p->>'name' = 'd' AND pl.pool_name = 'd';

-- latency: the recent window's count and the keys of each distribution
SELECT kind, p->kind->'count' AS count,
       (SELECT string_agg(k, ' ' ORDER BY k) FROM jsonb_object_keys(p->kind) k) AS keys
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       unnest(ARRAY['wait', 'hold', 'query']) kind
 WHERE p->>'name' = 'd'
 ORDER BY kind;
SELECT (p->'wait'->>'p95')::float8 = pl.wait_p95 AS wait_p95_as_pools_view
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       pgpool_ext.pools pl
 WHERE p->>'name' = 'd' AND pl.pool_name = 'd';

-- efficiency: the efficiency view's row of the pool over 5 minutes, its
-- columns as keys (too few acquires for a recommendation; the advice
-- quotes the window's seconds, which move on)
SELECT (SELECT string_agg(k, ' ' ORDER BY k) FROM jsonb_object_keys(p->'efficiency') k)
       = (SELECT string_agg(column_name::text, ' ' ORDER BY column_name::text)
            FROM information_schema.columns
           WHERE table_schema = 'pgpool_ext' AND table_name = 'efficiency'
             AND column_name NOT IN ('pool_name', 'partition', 'time_window')) AS same_columns,
       p->'efficiency'->'max_size' AS max_size, p->'efficiency'->'target_wait' AS target_wait,
       p->'efficiency'->'recommended_max_size' AS recommended,
       regexp_replace(p->'efficiency'->>'advice', '[0-9.]+', 'N', 'g')
       = regexp_replace(e.advice, '[0-9.]+', 'N', 'g') AS advice_as_view
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       pgpool_ext.efficiency e
 WHERE p->>'name' = 'd' AND e.pool_name = 'd' AND e.partition IS NULL
   AND e.time_window = '5min';

-- partitions, waiters (none), leaks (none: the threshold is an hour)
SELECT x->>'partition' AS partition, x->'connections'->'in_use' AS in_use,
       x->'waiting' AS waiting, x->'acquires' AS acquires, x->'waits' AS waits
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p,
       jsonb_array_elements(p->'partitions') x
 WHERE p->>'name' = 'd'
 ORDER BY 1;
SELECT p->'waiters' AS waiters, p->'leaks' AS leaks
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd';

-- the partitions view: one row per partition, '' the default
SELECT pool_name, partition, total, idle, in_use, busy, connecting,
       resetting, waiting, acquires, waits, timeouts,
       wait_p50 IS NOT NULL AS has_p50, wait_p95 >= wait_p50 AS p95_ge_p50,
       wait_p99 >= wait_p95 AS p99_ge_p95, max_wait,
       stats_reset = (SELECT stats_reset FROM pgpool_ext.pools WHERE pool_name = 'd') AS reset_ok
  FROM pgpool_ext.partitions
 WHERE pool_name = 'd'
 ORDER BY partition;
-- usage: the intervals of the last hour (usage_hourly's rows), their keys;
-- the two acquires, both queued (no connection was open), both in use
SELECT (SELECT string_agg(k, ' ' ORDER BY k) FROM jsonb_object_keys(p->'usage'->0) k) AS keys,
       (SELECT sum((u->>'acquires')::int) FROM jsonb_array_elements(p->'usage') u) AS acquires,
       (SELECT sum((u->>'waits')::int) FROM jsonb_array_elements(p->'usage') u) AS waits,
       (SELECT max((u->>'peak_in_use')::int) FROM jsonb_array_elements(p->'usage') u) AS peak_in_use,
       (SELECT bool_and((u->>'interval_s')::int = 3600) FROM jsonb_array_elements(p->'usage') u) AS hourly
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd';
SELECT pgpool_ext.release(:hk);
SELECT pgpool_ext.release(:h);
-- reset_stats(pool) zeroes the partitions' counts
SELECT pgpool_ext.reset_stats('d');
SELECT partition, acquires, timeouts, wait_p50
  FROM pgpool_ext.partitions WHERE pool_name = 'd' ORDER BY partition;
SELECT p->'counters'->'acquires' AS acquires, p->'wait'->'count' AS waits_5min
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd';

-- a pool option left unset (leak_threshold: the parameter applies) is null
SELECT pgpool_ext.create_pool('d2', 'dbname=contrib_regression', max_size => 1,
                              min_size => 0);
SELECT p->'definition'->'leak_threshold' AS leak_threshold,
       p->'wait'->'p50' AS p50_without_waits
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd2';
SELECT pgpool_ext.drop_pool('d2');
SELECT count(*) AS dropped_not_shown
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd2';

-- errors and privileges: the rule of the views (superusers and
-- pg_read_all_stats); dashboard() takes no argument
SELECT err($$SELECT pgpool_ext.dashboard('x')$$);
CREATE ROLE regress_dash_user;
CREATE ROLE regress_dash_stats IN ROLE pg_read_all_stats;
SET ROLE regress_dash_user;
SELECT err($$SELECT pgpool_ext.dashboard()$$);
SELECT err($$SELECT * FROM pgpool_ext.partitions$$);
SELECT err($$SELECT * FROM pgpool_ext.partition_info()$$);
SET ROLE regress_dash_stats;
SELECT count(*) AS stats_role_reads
  FROM pgpool_ext.dashboard() d, jsonb_array_elements(d->'pools') p
 WHERE p->>'name' = 'd';
SELECT count(*) AS stats_role_partitions FROM pgpool_ext.partitions WHERE pool_name = 'd';
RESET ROLE;
DROP ROLE regress_dash_user, regress_dash_stats;

SELECT pgpool_ext.drop_pool('d');
