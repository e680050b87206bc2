--
-- latency: the latency and histogram views, the pools view's wait
-- columns, reset_stats() and pgpool_ext.track_timing.  Durations are
-- seconds; only what does not depend on timing is shown (counts, NULLs,
-- orderings, bounds).
--
SELECT table_name, ordinal_position, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'pgpool_ext' AND table_name IN ('latency', 'histogram')
 ORDER BY table_name, ordinal_position;
SELECT ordinal_position, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'pgpool_ext' AND table_name = 'pools' AND ordinal_position > 22
 ORDER BY ordinal_position;
SELECT name, setting, context, vartype
  FROM pg_settings WHERE name = 'pgpool_ext.track_timing';

-- A pool of one connection; statistics start empty.
SELECT pgpool_ext.create_pool('lat', 'dbname=contrib_regression', max_size => 1);
SELECT pgpool_ext.reset_stats('lat');
SELECT quote_nullable(partition) AS partition, kind, time_window, count, mean, p50, p90, p95, p99, p999, max,
       timeouts, cancels, errors
  FROM pgpool_ext.latency l WHERE pool_name = 'lat'
 ORDER BY l.partition NULLS FIRST, kind, time_window;
SELECT count(*) FROM pgpool_ext.histogram WHERE pool_name = 'lat';
SELECT wait_p50, wait_p95, wait_p99, max_wait FROM pgpool_ext.pools WHERE pool_name = 'lat';

-- Two waits (one granted, one timed out after 50 ms), two requests (one an
-- error), one hold.
SELECT pgpool_ext.acquire('lat') AS h \gset
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1') AS t(x int);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT 1/0')$$);
SELECT err($$SELECT pgpool_ext.acquire('lat', timeout => '50ms')$$);
SELECT pgpool_ext.release(:h);
SELECT quote_nullable(partition) AS partition, kind, time_window, count, timeouts, cancels, errors,
       mean > 0 AS mean_ok,
       p50 <= p90 AND p90 <= p95 AND p95 <= p99 AND p99 <= p999 AND p999 <= max AS ordered,
       mean <= max AS mean_below_max
  FROM pgpool_ext.latency l WHERE pool_name = 'lat'
 ORDER BY l.partition NULLS FIRST, kind, time_window;
-- the timed-out wait took at least its 50 ms
SELECT max >= 0.05 AS waited_50ms FROM pgpool_ext.latency
 WHERE pool_name = 'lat' AND partition IS NULL AND kind = 'wait' AND time_window = 'total';
-- the pool's row is the merge of its partitions'
SELECT bool_and(l.count = p.count AND l.max = p.max) AS pool_is_merge
  FROM pgpool_ext.latency l
  JOIN pgpool_ext.latency p USING (pool_name, kind, time_window)
 WHERE l.pool_name = 'lat' AND l.partition IS NULL AND p.partition = '';

-- The histogram: its buckets hold every value, in order, the largest has
-- the longest bar (40 characters).
SELECT kind, time_window, partition IS NULL AS whole_pool, sum(count) AS count,
       max(cumulative) AS cumulative, max(length(bar)) AS longest_bar,
       min(length(bar)) >= 1 AS every_bar_shown,
       bool_and(lower < upper) AS bounds_ok
  FROM pgpool_ext.histogram WHERE pool_name = 'lat'
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT bool_and(h.max_upper >= l.max AND h.min_lower <= l.p50) AS buckets_hold_values
  FROM (SELECT partition, kind, time_window, max(upper) AS max_upper, min(lower) AS min_lower
          FROM pgpool_ext.histogram WHERE pool_name = 'lat'
         GROUP BY 1, 2, 3) h
  JOIN pgpool_ext.latency l ON l.pool_name = 'lat'
   AND l.partition IS NOT DISTINCT FROM h.partition
   AND l.kind = h.kind AND l.time_window = h.time_window;

-- The pools view: recent wait percentiles, the age of the oldest waiter.
SELECT wait_p50 IS NOT NULL AS has_p50, wait_p50 <= wait_p95 AND wait_p95 <= wait_p99 AS ordered,
       max_wait
  FROM pgpool_ext.pools WHERE pool_name = 'lat';

-- Partitions have their own rows (NULL: the whole pool; '': the default).
SELECT pgpool_ext.acquire('lat', partition => 'k') AS h \gset
SELECT pgpool_ext.release(:h);
SELECT quote_nullable(partition) AS partition, kind, count FROM pgpool_ext.latency l
 WHERE pool_name = 'lat' AND time_window = 'total' AND kind <> 'query'
 ORDER BY l.partition NULLS FIRST, kind;

-- track_timing off: nothing is recorded (the counters still count).
SET pgpool_ext.track_timing = off;
SELECT acquires AS acquires_before FROM pgpool_ext.pools WHERE pool_name = 'lat' \gset
SELECT * FROM pgpool_ext.run('lat', 'SELECT 2') AS t(x int);
SELECT acquires - :acquires_before AS new_acquires FROM pgpool_ext.pools WHERE pool_name = 'lat';
SELECT kind, count FROM pgpool_ext.latency
 WHERE pool_name = 'lat' AND partition IS NULL AND time_window = 'total'
 ORDER BY kind;
RESET pgpool_ext.track_timing;
SELECT * FROM pgpool_ext.run('lat', 'SELECT 3') AS t(x int);
SELECT kind, count FROM pgpool_ext.latency
 WHERE pool_name = 'lat' AND partition IS NULL AND time_window = 'total'
 ORDER BY kind;

-- reset_stats: one pool, every pool, an unknown one.
SELECT stats_reset AS reset_before FROM pgpool_ext.pools WHERE pool_name = 'lat' \gset
SELECT pgpool_ext.reset_stats('lat');
SELECT kind, time_window, count, p50, max, timeouts, cancels, errors
  FROM pgpool_ext.latency WHERE pool_name = 'lat' AND partition IS NULL
 ORDER BY kind, time_window;
SELECT count(*) FROM pgpool_ext.histogram WHERE pool_name = 'lat';
SELECT acquires, waits, timeouts, stats_reset > :'reset_before' AS stats_reset_moved,
       wait_p50, max_wait
  FROM pgpool_ext.pools WHERE pool_name = 'lat';
SELECT * FROM pgpool_ext.run('lat', 'SELECT 4') AS t(x int);
SELECT pgpool_ext.reset_stats();
SELECT sum(count) FROM pgpool_ext.latency WHERE pool_name = 'lat';
SELECT err($$SELECT pgpool_ext.reset_stats('no_such_pool')$$);

-- Privileges: the views as the other views (superusers and
-- pg_read_all_stats); reset_stats for superusers unless granted.
CREATE ROLE regress_lat_user;
CREATE ROLE regress_lat_stats IN ROLE pg_read_all_stats;
SET ROLE regress_lat_user;
SELECT err('SELECT * FROM pgpool_ext.latency');
SELECT err('SELECT * FROM pgpool_ext.histogram');
SELECT err('SELECT * FROM pgpool_ext.latency_info()');
SELECT err('SELECT * FROM pgpool_ext.histogram_info()');
SELECT err($$SELECT pgpool_ext.reset_stats('lat')$$);
SELECT err('SET pgpool_ext.track_timing = off');
SET ROLE regress_lat_stats;
SELECT count(*) > 0 AS readable FROM pgpool_ext.latency WHERE pool_name = 'lat';
SELECT count(*) >= 0 AS readable FROM pgpool_ext.histogram WHERE pool_name = 'lat';
SELECT err($$SELECT pgpool_ext.reset_stats('lat')$$);
SELECT err('SELECT pgpool_ext.reset_stats()');
RESET ROLE;
GRANT EXECUTE ON FUNCTION pgpool_ext.reset_stats(text) TO regress_lat_stats;
SET ROLE regress_lat_stats;
SELECT err($$SELECT pgpool_ext.reset_stats('lat')$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION pgpool_ext.reset_stats(text) FROM regress_lat_stats;
DROP ROLE regress_lat_user, regress_lat_stats;

SELECT pgpool_ext.drop_pool('lat');
SELECT count(*) FROM pgpool_ext.latency WHERE pool_name = 'lat';
