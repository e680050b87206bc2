--
-- views: columns, counters, states, privileges.
--
-- the columns of each view
SELECT table_name, ordinal_position, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'pgpool_ext' AND table_name IN ('pools', 'connections', 'handles', 'waiters')
 ORDER BY table_name, ordinal_position;

-- nothing is left over from the other tests
SELECT count(*) FROM pgpool_ext.handles;
SELECT count(*) FROM pgpool_ext.waiters;

--
-- Counters and states of one pool.
--
SELECT pgpool_ext.create_pool('v', 'dbname=contrib_regression', max_size => 1);
SELECT total, idle, in_use, connecting, waiting, acquires, waits, timeouts, connects,
       connect_failures, closes, last_connect_error, stats_reset IS NOT NULL AS has_reset
  FROM pgpool_ext.pools WHERE pool_name = 'v';
SELECT count(*) FROM pgpool_ext.connections WHERE pool_name = 'v';
-- the first acquire waits for a new connection
SELECT pgpool_ext.acquire('v') AS h \gset
SELECT remote_pid FROM pgpool_ext.connections WHERE pool_name = 'v' \gset
SELECT total, idle, in_use, connecting, waiting, acquires, waits, timeouts, connects, closes
  FROM pgpool_ext.pools WHERE pool_name = 'v';
SELECT pool_name, partition, holder_pid = pg_backend_pid() AS mine, role, scope, state,
       acquired_at <= last_used_at AS times_ok
  FROM pgpool_ext.handles WHERE handle = :h;
SELECT partition, slot >= 0 AS has_slot, state, created_at <= last_used_at AS times_ok, uses,
       holder_pid = pg_backend_pid() AS mine, used_password
  FROM pgpool_ext.connections WHERE pool_name = 'v';
-- remote_pid is the pid of the remote session
SELECT remote_pid = (SELECT pid FROM pgpool_ext.query(:h, 'SELECT pg_backend_pid()') AS t(pid int))
       AS remote_pid_ok
  FROM pgpool_ext.connections WHERE pool_name = 'v';
-- while a query runs, its connection and handle are busy (seen from the
-- remote session itself, which is a session of this server)
SELECT * FROM pgpool_ext.query(:h,
  $$SELECT c.state, h.state FROM pgpool_ext.connections c JOIN pgpool_ext.handles h USING (pool_name)
     WHERE c.remote_pid = pg_backend_pid()$$) AS t(connection_state text, handle_state text);
-- once a call has returned, nothing is in flight: the handle is acquired
-- again, not busy
DO $$
DECLARE
  h bigint := (SELECT handle FROM pgpool_ext.handles WHERE pool_name = 'v');
  busy int := 0;
BEGIN
  FOR i IN 1..300 LOOP
    PERFORM pgpool_ext.execute(h, 'SELECT 1');
    IF (SELECT state FROM pgpool_ext.handles WHERE handle = h) <> 'acquired' THEN
      busy := busy + 1;
    END IF;
  END LOOP;
  RAISE NOTICE 'not acquired after the call returned: % times', busy;
END $$;
-- a timed-out acquire
SELECT err($$SELECT pgpool_ext.acquire('v', timeout => '50ms')$$);
SELECT total, idle, in_use, waiting, acquires, waits, timeouts
  FROM pgpool_ext.pools WHERE pool_name = 'v';
-- release: reset, then idle
SELECT pgpool_ext.release(:h);
SELECT count(*) FROM pgpool_ext.handles;
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'v')$$);
SELECT total, idle, in_use, acquires FROM pgpool_ext.pools WHERE pool_name = 'v';
SELECT state, holder_pid IS NULL AS no_holder, uses FROM pgpool_ext.connections WHERE pool_name = 'v';
-- an idle connection is taken without waiting
SELECT pgpool_ext.acquire('v') AS h \gset
SELECT acquires, waits, connects FROM pgpool_ext.pools WHERE pool_name = 'v';
SELECT uses FROM pgpool_ext.connections WHERE pool_name = 'v';
SELECT pgpool_ext.release(:h);
-- idle_timeout (above min_size 0) closes it
SELECT pgpool_ext.alter_pool('v', idle_timeout => '1 s');
SELECT wait_for($$(SELECT total = 0 FROM pgpool_ext.pools WHERE pool_name = 'v')$$);
SELECT total, idle, connects, closes FROM pgpool_ext.pools WHERE pool_name = 'v';
SELECT count(*) FROM pgpool_ext.connections WHERE pool_name = 'v';
SELECT wait_for($$(SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $$ || :remote_pid || $$)$$)
       AS remote_session_ended;
-- a failing pool counts its failures
SELECT pgpool_ext.create_pool('v_fail', 'dbname=regress_no_such_db', min_size => 1, max_size => 1);
SELECT wait_for($$(SELECT connect_failures >= 1 FROM pgpool_ext.pools WHERE pool_name = 'v_fail')$$);
SELECT connects, last_connect_error LIKE '%"regress_no_such_db" does not exist%' AS error_ok
  FROM pgpool_ext.pools WHERE pool_name = 'v_fail';
-- the last connection error is in the timeout's detail
SELECT err($$SELECT pgpool_ext.acquire('v_fail', timeout => '50ms')$$, true)
       LIKE '%last connection error: %"regress_no_such_db" does not exist%' AS detail_ok;
SELECT pgpool_ext.drop_pool('v_fail');

--
-- Privileges: superusers and pg_read_all_stats.
--
CREATE ROLE regress_view_user;
CREATE ROLE regress_view_stats IN ROLE pg_read_all_stats;
SET ROLE regress_view_user;
SELECT err('SELECT * FROM pgpool_ext.pools');
SELECT err('SELECT * FROM pgpool_ext.connections');
SELECT err('SELECT * FROM pgpool_ext.handles');
SELECT err('SELECT * FROM pgpool_ext.waiters');
SELECT err('SELECT * FROM pgpool_ext.pool_info()');
SELECT err('SELECT * FROM pgpool_ext.connection_info()');
SELECT err('SELECT * FROM pgpool_ext.handle_info()');
SELECT err('SELECT * FROM pgpool_ext.waiter_info()');
SET ROLE regress_view_stats;
SELECT pool_name, conninfo FROM pgpool_ext.pools WHERE pool_name = 'v';
SELECT count(*) FROM pgpool_ext.connections WHERE pool_name = 'v';
SELECT count(*) FROM pgpool_ext.handles;
SELECT count(*) FROM pgpool_ext.waiters;
-- but not the definitions
SELECT err('SELECT * FROM pgpool_ext.pool_definition');
RESET ROLE;
DROP ROLE regress_view_user, regress_view_stats;

SELECT pgpool_ext.drop_pool('v');
SELECT count(*) FROM pgpool_ext.pools;
