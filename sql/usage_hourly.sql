--
-- usage_hourly: the usage_hourly and usage_by_hour_of_day views, the
-- pgpool_ext.usage_interval setting and the views' privileges.  Only what
-- does not depend on timing is shown (counts, NULLs, bounds); a slot
-- boundary may fall in the middle of the test, so counts are summed over
-- the pool's rows.  test/t/460_usage_hourly.pl checks the time-weighted
-- values against a timed workload.
--
SELECT table_name, ordinal_position, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'pgpool_ext'
   AND table_name IN ('usage_hourly', 'usage_by_hour_of_day')
 ORDER BY table_name, ordinal_position;

-- The setting: seconds, an hour by default, 1 s to a day, reloadable only.
SELECT name, setting, unit, min_val, max_val, context, vartype
  FROM pg_settings WHERE name = 'pgpool_ext.usage_interval';
SHOW pgpool_ext.usage_interval;
SELECT err('SET pgpool_ext.usage_interval = 10');
ALTER SYSTEM SET pgpool_ext.usage_interval = 0;
ALTER SYSTEM SET pgpool_ext.usage_interval = '25h';
ALTER SYSTEM SET pgpool_ext.usage_interval = '1s';
ALTER SYSTEM RESET pgpool_ext.usage_interval;

-- A new pool has its current slot, with nothing counted yet.
SELECT pgpool_ext.create_pool('uh', 'dbname=contrib_regression', max_size => 1);
SELECT pgpool_ext.reset_stats('uh');
SELECT count(*) BETWEEN 1 AND 2 AS current_slot, min(interval_s) AS interval_s,
       sum(acquires) AS acquires, sum(waits) AS waits, sum(timeouts) AS timeouts,
       sum(errors) AS errors, max(peak_in_use) AS peak_in_use,
       max(peak_waiting) AS peak_waiting, max(avg_in_use) AS avg_in_use,
       max(avg_waiting) AS avg_waiting, count(wait_p95) AS with_wait_p95,
       bool_and(hour_start <= now() AND hour_start > now() - interval '2 hours') AS recent
  FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';
-- hour_start is a whole hour
SELECT bool_and(extract(epoch FROM hour_start)::bigint % 3600 = 0) AS on_the_hour
  FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';

-- An acquire that waits for the first connection, a request that fails, a
-- wait that times out (its 50 ms are in a wait_p95, within the histogram's
-- 5 %).
SELECT pgpool_ext.acquire('uh') AS h \gset
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT 1/0')$$);
SELECT err($$SELECT pgpool_ext.acquire('uh', timeout => '50ms')$$);
SELECT pgpool_ext.release(:h);
SELECT sum(acquires) AS acquires, sum(waits) AS waits, sum(timeouts) AS timeouts,
       sum(errors) AS errors, max(peak_in_use) AS peak_in_use,
       max(peak_waiting) AS peak_waiting,
       max(avg_in_use) > 0 AND max(avg_in_use) <= 1 AS avg_in_use_ok,
       max(avg_waiting) > 0 AND max(avg_waiting) <= 1 AS avg_waiting_ok,
       count(wait_p95) >= 1 AS has_wait_p95,
       max(wait_p95) >= 0.05 * 0.95 AS timed_out_wait_in_p95
  FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';

-- By hour of day: the same slots folded onto the hours of their start.
SELECT sum(h.days) = (SELECT count(*) FROM pgpool_ext.usage_hourly
                       WHERE pool_name = 'uh') AS every_slot_folded,
       sum(acquires) AS acquires, sum(waits) AS waits, sum(timeouts) AS timeouts,
       sum(errors) AS errors, max(peak_in_use) AS peak_in_use,
       max(peak_waiting) AS peak_waiting,
       bool_and(hour_of_day BETWEEN 0 AND 23) AS hours_ok
  FROM pgpool_ext.usage_by_hour_of_day h WHERE pool_name = 'uh';
SELECT array_agg(DISTINCT extract(hour FROM hour_start)::int) =
       (SELECT array_agg(hour_of_day ORDER BY hour_of_day)
          FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'uh') AS same_hours
  FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';

-- reset_stats empties the pool's slots.
SELECT pgpool_ext.reset_stats('uh');
SELECT sum(acquires) AS acquires, sum(waits) AS waits, sum(timeouts) AS timeouts,
       sum(errors) AS errors, max(peak_in_use) AS peak_in_use,
       max(peak_waiting) AS peak_waiting, count(wait_p95) AS with_wait_p95
  FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';
SELECT sum(acquires) AS acquires, sum(errors) AS errors
  FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'uh';

-- Privileges: as the latency views (superusers and pg_read_all_stats).
CREATE ROLE regress_uh_user;
CREATE ROLE regress_uh_stats IN ROLE pg_read_all_stats;
SET ROLE regress_uh_user;
SELECT err('SELECT * FROM pgpool_ext.usage_hourly');
SELECT err('SELECT * FROM pgpool_ext.usage_by_hour_of_day');
SELECT err('SELECT * FROM pgpool_ext.usage_hourly_info()');
SELECT err('SELECT * FROM pgpool_ext.usage_by_hour_info()');
SET ROLE regress_uh_stats;
SELECT count(*) >= 1 AS readable FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';
SELECT count(*) >= 1 AS readable FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'uh';
RESET ROLE;
DROP ROLE regress_uh_user, regress_uh_stats;

-- A dropped pool has no rows.
SELECT pgpool_ext.drop_pool('uh');
SELECT count(*) FROM pgpool_ext.usage_hourly WHERE pool_name = 'uh';
SELECT count(*) FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'uh';
