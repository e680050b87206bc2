--
-- handles: acquire, release, handle checks, timeouts, scopes, partitions.
--
SELECT pgpool_ext.create_pool('h_two', 'dbname=contrib_regression', max_size => 2);
SELECT pgpool_ext.create_pool('h_one', 'dbname=contrib_regression', max_size => 1);

-- acquire returns a bigint handle
SELECT h, pg_typeof(h) AS h_type, h > 0 AS h_positive
  FROM pgpool_ext.acquire('h_two') AS h \gset
\echo :h_type :h_positive
-- the handles view shows it
SELECT pool_name, partition, holder_pid = pg_backend_pid() AS mine, role, scope, state,
       acquired_at <= now() AS acquired_before
  FROM pgpool_ext.handles WHERE handle = :h;
-- its connection is acquired by this backend
SELECT pool_name, partition, state, holder_pid = pg_backend_pid() AS mine, uses
  FROM pgpool_ext.connections WHERE pool_name = 'h_two' AND holder_pid IS NOT NULL;
SELECT total, idle, in_use, connecting, waiting, acquires, waits, timeouts
  FROM pgpool_ext.pools WHERE pool_name = 'h_two';
-- it works
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1') AS t(x int);
SELECT pgpool_ext.release(:h);
SELECT count(*) FROM pgpool_ext.handles;
-- the used connection is reset, then idle again
SELECT wait_for($$(SELECT bool_and(state = 'idle') FROM pgpool_ext.connections WHERE pool_name = 'h_two')$$);
SELECT state, holder_pid, uses FROM pgpool_ext.connections WHERE pool_name = 'h_two';

-- released, forged, NULL handles: 08003
SELECT err(format('SELECT pgpool_ext.release(%s)', :h), true);
SELECT err(format('SELECT * FROM pgpool_ext.query(%s, %L) AS t(x int)', :h, 'SELECT 1'));
SELECT err(format('SELECT pgpool_ext.execute(%s, %L)', :h, 'SELECT 1'));
SELECT err(format('SELECT * FROM pgpool_ext.query_json(%s, %L)', :h, 'SELECT 1'));
SELECT err('SELECT pgpool_ext.release(12345)');
SELECT err('SELECT pgpool_ext.release(-1)');
SELECT err('SELECT pgpool_ext.release(0)');
SELECT err('SELECT pgpool_ext.release(NULL)');
SELECT err('SELECT pgpool_ext.release(9223372036854775807)');
SELECT err('SELECT pgpool_ext.execute(12345, ''SELECT 1'')');
SELECT err('SELECT pgpool_ext.execute(NULL, ''SELECT 1'')');
SELECT err($$SELECT * FROM pgpool_ext.query(NULL, 'SELECT 1') AS t(x int)$$);
-- a handle of the right shape (an earlier generation of a used slot)
SELECT pgpool_ext.acquire('h_one') AS h1 \gset
SELECT pgpool_ext.release(:h1);
SELECT pgpool_ext.acquire('h_one') AS h2 \gset
SELECT :h1 <> :h2 AS new_number;
SELECT err(format('SELECT pgpool_ext.execute(%s, %L)', :h1, 'SELECT 1'), true);
SELECT pgpool_ext.execute(:h2, 'SELECT 1');
-- another session's handle: the pool's connection is a session of this
-- server, and cannot use or release our handle
SELECT err(format('SELECT pgpool_ext.execute(%s, %L)', :h2,
                  format('SELECT pgpool_ext.release(%s)', :h2)), true);
SELECT err(format('SELECT pgpool_ext.execute(%s, %L)', :h2,
                  format('SELECT pgpool_ext.execute(%s, ''SELECT 1'')', :h2)), true);
-- still ours
SELECT holder_pid = pg_backend_pid() AS mine FROM pgpool_ext.handles WHERE handle = :h2;
SELECT pgpool_ext.release(:h2);

-- bad arguments to acquire
SELECT err($$SELECT pgpool_ext.acquire('nosuch')$$);
SELECT err($$SELECT pgpool_ext.acquire(NULL)$$);
SELECT err($$SELECT pgpool_ext.acquire('')$$);
SELECT err($$SELECT pgpool_ext.acquire('h_two', priority => 'urgent')$$, true);
SELECT err($$SELECT pgpool_ext.acquire('h_two', scope => 'statement')$$, true);
SELECT err($$SELECT pgpool_ext.acquire('h_two', timeout => '-1 s')$$, true);
SELECT err($$SELECT pgpool_ext.acquire('h_two', partition => repeat('k', 64))$$, true);
SELECT count(*) FROM pgpool_ext.handles;
-- every priority is accepted; NULL arguments mean the defaults
DO $$
DECLARE
  p text;
  h bigint;
BEGIN
  FOREACH p IN ARRAY ARRAY['low', 'normal', 'high', 'critical', 'HIGH'] LOOP
    h := pgpool_ext.acquire('h_two', priority => p);
    PERFORM pgpool_ext.release(h);
  END LOOP;
  h := pgpool_ext.acquire('h_two', NULL, NULL, NULL, NULL);
  PERFORM pgpool_ext.release(h);
  h := pgpool_ext.acquire('h_two', scope => 'Transaction');
  PERFORM pgpool_ext.release(h);
END $$;
SELECT count(*) FROM pgpool_ext.handles;

--
-- Timeout: 53300 naming the pool; the detail tells the time waited and the
-- position in the queue.
--
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'h_one')$$);
SELECT pgpool_ext.acquire('h_one') AS h \gset
SELECT acquires, waits, timeouts FROM pgpool_ext.pools WHERE pool_name = 'h_one';
SELECT err($$SELECT pgpool_ext.acquire('h_one', timeout => '100ms')$$);
SELECT err($$SELECT pgpool_ext.acquire('h_one', timeout => '100ms')$$, true)
       ~ E'\nDETAIL: Waited [0-9]+ ms at position 1 in the queue; last connection error: none\\.$'
       AS detail_ok;
SELECT acquires, waits, timeouts, waiting FROM pgpool_ext.pools WHERE pool_name = 'h_one';
SELECT count(*) FROM pgpool_ext.waiters;
-- the default timeout is pgpool_ext.acquire_timeout
SET pgpool_ext.acquire_timeout = '100ms';
SELECT err($$SELECT pgpool_ext.acquire('h_one')$$);
RESET pgpool_ext.acquire_timeout;
-- statement_timeout ends a wait (timeout 0 waits forever), leaving nothing queued
SET statement_timeout = '200ms';
SELECT err($$SELECT pgpool_ext.acquire('h_one', timeout => '0')$$);
RESET statement_timeout;
SELECT count(*) FROM pgpool_ext.waiters;
SELECT waiting FROM pgpool_ext.pools WHERE pool_name = 'h_one';
-- run() times out the same way
SELECT err($$SELECT * FROM pgpool_ext.run('h_one', 'SELECT 1', timeout => '100ms') AS t(x int)$$);
SELECT pgpool_ext.release(:h);
-- and the connection is free again
SELECT * FROM pgpool_ext.run('h_one', 'SELECT 1', timeout => '10s') AS t(x int);

--
-- scope 'transaction': released at commit and at abort.
--
BEGIN;
SELECT pgpool_ext.acquire('h_two', scope => 'transaction') AS h \gset
SELECT scope, holder_pid = pg_backend_pid() AS mine FROM pgpool_ext.handles;
SELECT pgpool_ext.execute(:h, 'SELECT 1');
COMMIT;
SELECT count(*) FROM pgpool_ext.handles;
SELECT err(format('SELECT pgpool_ext.execute(%s, %L)', :h, 'SELECT 1'));
BEGIN;
SELECT pgpool_ext.acquire('h_two', scope => 'transaction') AS h \gset
SELECT count(*) FROM pgpool_ext.handles;
ROLLBACK;
SELECT count(*) FROM pgpool_ext.handles;
-- abort by an error
BEGIN;
SELECT pgpool_ext.acquire('h_two', scope => 'transaction') AS h \gset
SELECT 1/0;
ROLLBACK;
SELECT count(*) FROM pgpool_ext.handles;
-- in PL/pgSQL
DO $$
DECLARE h bigint;
BEGIN
  h := pgpool_ext.acquire('h_two', scope => 'transaction');
  PERFORM pgpool_ext.execute(h, 'SELECT 1');
END $$;
SELECT count(*) FROM pgpool_ext.handles;
-- released explicitly before the end: nothing left to do at commit
BEGIN;
SELECT pgpool_ext.acquire('h_two', scope => 'transaction') AS h \gset
SELECT pgpool_ext.release(:h);
COMMIT;
SELECT count(*) FROM pgpool_ext.handles;
-- session handles survive commit and rollback
BEGIN;
SELECT pgpool_ext.acquire('h_two') AS hs \gset
SELECT pgpool_ext.acquire('h_two', scope => 'transaction') AS ht \gset
ROLLBACK;
SELECT scope, holder_pid = pg_backend_pid() AS mine FROM pgpool_ext.handles;
SELECT pgpool_ext.execute(:hs, 'SELECT 1');
SELECT pgpool_ext.release(:hs);
SELECT wait_for($$(SELECT bool_and(state = 'idle') FROM pgpool_ext.connections WHERE pool_name = 'h_two')$$);

--
-- Partitions: each key has its own connections, counted against max_size.
--
SELECT pgpool_ext.acquire('h_two', partition => 'a') AS ha \gset
SELECT partition, scope FROM pgpool_ext.handles WHERE handle = :ha;
SELECT partition, state FROM pgpool_ext.connections
 WHERE pool_name = 'h_two' AND holder_pid = pg_backend_pid();
SELECT * FROM pgpool_ext.query(:ha, 'SELECT 1') AS t(x int);
SELECT pgpool_ext.acquire('h_two') AS hd \gset
-- the pool is full: partition 'b' waits
SELECT err($$SELECT pgpool_ext.acquire('h_two', partition => 'b', timeout => '100ms')$$);
SELECT total <= max_size AS within_max FROM pgpool_ext.pools WHERE pool_name = 'h_two';
-- an idle connection of partition 'a' makes room for 'b'
SELECT pgpool_ext.release(:ha);
SELECT pgpool_ext.acquire('h_two', partition => 'b', timeout => '10s') AS hb \gset
SELECT partition, state FROM pgpool_ext.connections
 WHERE pool_name = 'h_two' AND holder_pid = pg_backend_pid() ORDER BY 1 NULLS FIRST;
SELECT * FROM pgpool_ext.query(:hb, 'SELECT 2') AS t(x int);
SELECT total <= max_size AS within_max FROM pgpool_ext.pools WHERE pool_name = 'h_two';
SELECT pgpool_ext.release(:hb);
SELECT pgpool_ext.release(:hd);
SELECT count(*) FROM pgpool_ext.handles;

--
-- A used connection is reset, then handed to the next waiter, who can use
-- it at once (the reacquire below waits for each reset: max_size 1).
--
DO $$
DECLARE
  h bigint;
  failures int := 0;
  last_error text;
BEGIN
  FOR i IN 1..200 LOOP
    h := pgpool_ext.acquire('h_one', timeout => '10s');
    BEGIN
      PERFORM pgpool_ext.execute(h, 'SELECT 1');
    EXCEPTION WHEN OTHERS THEN
      failures := failures + 1;
      last_error := SQLSTATE || ': ' || SQLERRM;
    END;
    PERFORM pgpool_ext.release(h);
  END LOOP;
  RAISE NOTICE 'failed requests: %, last error: %', failures, coalesce(last_error, 'none');
END $$;

--
-- A backend's handles are released when it exits.
--
SELECT pgpool_ext.acquire('h_one') AS h \gset
SELECT pgpool_ext.acquire('h_two', partition => 'a') AS h \gset
SELECT count(*) FROM pgpool_ext.handles;
\c
SELECT wait_for($$(SELECT count(*) = 0 FROM pgpool_ext.handles)$$);
SELECT * FROM pgpool_ext.run('h_one', 'SELECT 1', timeout => '10s') AS t(x int);

--
-- Too many partitions: 53400.  Partitions are counted over all pools
-- (pgpool_ext.max_partitions = 64); a dropped pool frees its partitions.
--
SELECT pgpool_ext.acquire('h_one') AS h \gset
CREATE TEMP TABLE partition_errors AS
  SELECT i, err(format($$SELECT pgpool_ext.acquire('h_one', partition => 'k%s', timeout => '1ms')$$, i)) AS e
    FROM generate_series(1, 70) i;
SELECT e, count(*) > 0 AS some FROM partition_errors GROUP BY e ORDER BY e;
-- once full, every new key is refused
SELECT bool_and(e LIKE '53400:%') FROM partition_errors
 WHERE i >= (SELECT min(i) FROM partition_errors WHERE e LIKE '53400:%');
-- an existing partition still works
SELECT err($$SELECT pgpool_ext.acquire('h_one', partition => 'k1', timeout => '1ms')$$);
SELECT pgpool_ext.release(:h);
SELECT pgpool_ext.drop_pool('h_one');
SELECT pgpool_ext.create_pool('h_one', 'dbname=contrib_regression', max_size => 1);
SELECT * FROM pgpool_ext.run('h_one', 'SELECT 1', timeout => '10s') AS t(x int);
SELECT pgpool_ext.acquire('h_one', partition => 'k_new', timeout => '10s') AS h \gset
SELECT partition FROM pgpool_ext.handles WHERE handle = :h;
SELECT pgpool_ext.release(:h);

SELECT pgpool_ext.drop_pool('h_one');
SELECT pgpool_ext.drop_pool('h_two');
SELECT count(*) FROM pgpool_ext.pools;
SELECT wait_for($$(SELECT count(*) = 0 FROM pgpool_ext.connections)$$);
