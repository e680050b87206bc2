--
-- leaks: leak detection's options, views and privileges (the reports
-- themselves, reclaim and masking are in TAP 440 and 441).
--
-- the columns of both views
SELECT table_name, ordinal_position, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'pgpool_ext' AND table_name IN ('leaks', 'leak_history')
 ORDER BY table_name, ordinal_position;

-- the parameter, off by default
SELECT name, setting, unit, context FROM pg_settings
 WHERE name = 'pgpool_ext.leak_threshold';

-- nothing was reported during the other tests (detection is off)
SELECT count(*) FROM pgpool_ext.leaks;
SELECT count(*) FROM pgpool_ext.leak_history;

--
-- The options: keys of "options" only, checked like the others (22023).
--
SELECT err($$SELECT pgpool_ext.create_pool('lk_bad', 'dbname=contrib_regression',
             options => '{"leak_action": "kill"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('lk_bad', 'dbname=contrib_regression',
             options => '{"leak_threshold": "-1 s"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('lk_bad', 'dbname=contrib_regression',
             options => '{"leak_threshold": "30 days"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('lk_bad', 'dbname=contrib_regression',
             options => '{"leak_reclaim_after": "soon"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('lk_bad', 'dbname=contrib_regression',
             options => '{"leak_action": null}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('lk_bad', 'dbname=contrib_regression',
             leak_threshold => '1s')$$);
SELECT count(*) FROM pgpool_ext.pool_definition WHERE pool_name = 'lk_bad';
-- defaults: leak_threshold NULL (pgpool_ext.leak_threshold applies),
-- report, 0
SELECT pgpool_ext.create_pool('lk', 'dbname=contrib_regression', max_size => 2);
SELECT leak_threshold, leak_action, leak_reclaim_after
  FROM pgpool_ext.pool_definition WHERE pool_name = 'lk';
-- alter_pool changes the options given and keeps the others
SELECT pgpool_ext.alter_pool('lk', options => '{"leak_action": "reclaim", "leak_reclaim_after": "1 min"}');
SELECT leak_threshold, leak_action, leak_reclaim_after
  FROM pgpool_ext.pool_definition WHERE pool_name = 'lk';
SELECT pgpool_ext.alter_pool('lk', max_size => 2,
         options => '{"leak_threshold": "100ms", "leak_action": "report", "leak_reclaim_after": "0"}');
SELECT leak_threshold, leak_action, leak_reclaim_after
  FROM pgpool_ext.pool_definition WHERE pool_name = 'lk';

--
-- A handle held past its pool's threshold.
--
SELECT pgpool_ext.acquire('lk') AS h \gset
SELECT pgpool_ext.execute(:h, 'SELECT 1');
-- the pool worker reports it (and looks at its remote transaction status)
SELECT wait_for($$EXISTS (SELECT FROM pgpool_ext.leak_history WHERE handle = $$ || :h || ')');
SELECT pool_name, partition, holder_pid = pg_backend_pid() AS mine, role = current_user AS role_ok,
       database, backend_state, held_for >= 0.1 AS held_long, idle_for >= 0 AS idle_ok,
       last_used_at >= acquired_at AS times_ok, requests, acquire_query, acquire_context,
       remote_in_transaction
  FROM pgpool_ext.leaks WHERE handle = :h;
SELECT pool_name, partition, holder_pid = pg_backend_pid() AS mine, role = current_user AS role_ok,
       acquire_query, acquire_context, released_at, held_for >= 0.1 AS held_long, reclaimed,
       detected_at >= acquired_at AS times_ok
  FROM pgpool_ext.leak_history WHERE handle = :h;

-- anyone may look, but a role without pg_read_all_stats sees only the rows
-- of its own sessions
CREATE ROLE regress_leak_viewer;
SET ROLE regress_leak_viewer;
SELECT count(*) FROM pgpool_ext.leaks;
SELECT count(*) FROM pgpool_ext.leak_history;
RESET ROLE;
GRANT pg_read_all_stats TO regress_leak_viewer;
SET ROLE regress_leak_viewer;
SELECT count(*) FROM pgpool_ext.leaks WHERE handle = :h;
SELECT count(*) FROM pgpool_ext.leak_history WHERE handle = :h;
RESET ROLE;
DROP ROLE regress_leak_viewer;

-- the release ends the event
SELECT pgpool_ext.release(:h);
SELECT count(*) FROM pgpool_ext.leaks;
SELECT released_at >= detected_at AS released, held_for >= 0.1 AS held_long, reclaimed
  FROM pgpool_ext.leak_history WHERE handle = :h;

SELECT pgpool_ext.drop_pool('lk');
