--
-- efficiency: the efficiency view and the target_wait pool option.  Only
-- what does not depend on timing is shown (counts, ratios of counts, NULLs,
-- bounds); the model is checked against a computed workload in TAP 470 and
-- by the unit test test/unit/test_erlang.c.
--
SELECT ordinal_position, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'pgpool_ext' AND table_name = 'efficiency'
 ORDER BY ordinal_position;

--
-- The option: a key of "options" only, an interval of at least 1 ms
-- (22023 otherwise), 10 ms by default.
--
SELECT err($$SELECT pgpool_ext.create_pool('eff_bad', 'dbname=contrib_regression',
             options => '{"target_wait": "0"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('eff_bad', 'dbname=contrib_regression',
             options => '{"target_wait": "500 us"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('eff_bad', 'dbname=contrib_regression',
             options => '{"target_wait": "-1 s"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('eff_bad', 'dbname=contrib_regression',
             options => '{"target_wait": "soon"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('eff_bad', 'dbname=contrib_regression',
             options => '{"target_wait": null}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('eff_bad', 'dbname=contrib_regression',
             target_wait => '1s')$$);
SELECT count(*) FROM pgpool_ext.pool_definition WHERE pool_name = 'eff_bad';
SELECT pgpool_ext.create_pool('eff', 'dbname=contrib_regression', max_size => 1);
SELECT target_wait FROM pgpool_ext.pool_definition WHERE pool_name = 'eff';
SELECT pgpool_ext.alter_pool('eff', options => '{"target_wait": "250 ms"}');
SELECT target_wait FROM pgpool_ext.pool_definition WHERE pool_name = 'eff';
SELECT err($$SELECT pgpool_ext.alter_pool('eff', options => '{"target_wait": "0 ms"}')$$);
-- alter_pool keeps it when other options change
SELECT pgpool_ext.alter_pool('eff', max_size => 2);
SELECT target_wait FROM pgpool_ext.pool_definition WHERE pool_name = 'eff';
SELECT wait_for($$(SELECT target_wait = 0.25 AND max_size = 2 FROM pgpool_ext.efficiency
                    WHERE pool_name = 'eff' AND partition IS NULL AND time_window = 'total')$$);

--
-- A fresh pool: rows for the pool (partition NULL) and its default
-- partition (''), in both windows; nothing measured yet.
--
SELECT pgpool_ext.reset_stats('eff');
-- (elapsed may be 0: saturation, churn and arrival rate are then NULL)
SELECT quote_nullable(partition) AS partition, time_window, elapsed >= 0 AS elapsed_ok,
       utilization, coalesce(saturation, 0) AS saturation, immediate_ratio, reuse,
       coalesce(churn_per_hour, 0) AS churn_per_hour,
       idle_connection_seconds, reset_share, busy_share, mean_hold, mean_query,
       coalesce(arrival_rate, 0) AS arrival_rate, offered_load, max_size, target_wait, wait_p95,
       recommended_max_size, advice ~ '^not enough data: 0 acquires' AS no_data
  FROM pgpool_ext.efficiency e WHERE pool_name = 'eff'
 ORDER BY e.partition NULLS FIRST, time_window;

--
-- Two acquires: the first waits for the connection the worker opens, the
-- second finds it idle.  One remote request.
--
SELECT pgpool_ext.acquire('eff') AS h \gset
SELECT pgpool_ext.execute(:h, 'SELECT 1');
SELECT pgpool_ext.release(:h);
SELECT wait_for($$(SELECT idle = 1 FROM pgpool_ext.pools WHERE pool_name = 'eff')$$);
SELECT pgpool_ext.acquire('eff') AS h \gset
SELECT pgpool_ext.release(:h);
SELECT acquires, waits, timeouts, connects FROM pgpool_ext.pools WHERE pool_name = 'eff';
-- immediate_ratio = 1 of 2 grants, reuse = 2 grants of 1 connection; the
-- shares are shares (NULL when the holds were too short for the coarse
-- clock to see); arrival_rate x elapsed = 2 acquires; not enough data for
-- a recommendation
SELECT quote_nullable(partition) AS partition, time_window,
       immediate_ratio, reuse, saturation BETWEEN 0 AND 1 AS saturation_ok,
       churn_per_hour > 0 AS churn_ok,
       coalesce(utilization BETWEEN 0 AND 1, true) AS utilization_ok,
       coalesce(busy_share BETWEEN 0 AND 1, true) AS busy_ok,
       coalesce(reset_share >= 0, true) AS reset_ok,
       idle_connection_seconds >= 0 AS idle_ok,
       mean_hold >= 0 AS hold_ok, mean_query > 0 AS query_ok,
       round((arrival_rate * elapsed)::numeric, 6) AS acquires,
       abs(offered_load - arrival_rate * mean_hold) < 1e-9 AS load_ok,
       wait_p95 >= 0 AS waits_recorded, recommended_max_size,
       regexp_replace(advice, 'over [0-9]+ s', 'over N s') AS advice
  FROM pgpool_ext.efficiency e WHERE pool_name = 'eff'
 ORDER BY e.partition NULLS FIRST, time_window;

-- a partition has its rows; the pool's add its partitions'
SELECT pgpool_ext.acquire('eff', partition => 'k') AS h \gset
SELECT pgpool_ext.release(:h);
SELECT quote_nullable(partition) AS partition, time_window,
       round((arrival_rate * elapsed)::numeric, 6) AS acquires
  FROM pgpool_ext.efficiency e WHERE pool_name = 'eff'
 ORDER BY e.partition NULLS FIRST, time_window;

-- reset_stats empties it
SELECT pgpool_ext.reset_stats('eff');
SELECT partition, time_window, immediate_ratio, reuse, mean_hold, coalesce(arrival_rate, 0) AS arrival_rate
  FROM pgpool_ext.efficiency WHERE pool_name = 'eff' AND partition IS NULL
 ORDER BY time_window;

--
-- Privileges: as the other statistics views (superusers and
-- pg_read_all_stats).
--
CREATE ROLE regress_eff_user;
CREATE ROLE regress_eff_stats IN ROLE pg_read_all_stats;
SET ROLE regress_eff_user;
SELECT err('SELECT * FROM pgpool_ext.efficiency');
SELECT err('SELECT * FROM pgpool_ext.efficiency_info()');
SET ROLE regress_eff_stats;
SELECT count(*) AS rows FROM pgpool_ext.efficiency WHERE pool_name = 'eff';
RESET ROLE;
DROP ROLE regress_eff_user, regress_eff_stats;

SELECT pgpool_ext.drop_pool('eff');
SELECT count(*) FROM pgpool_ext.efficiency WHERE pool_name = 'eff';
