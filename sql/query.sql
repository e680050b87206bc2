--
-- query: query(), query_json(), execute() and run(); remote errors; reset of
-- connections between holders; cancel.
--
SELECT pgpool_ext.create_pool('q', 'dbname=contrib_regression', max_size => 2);
-- one connection, so that the next holder gets the same one
SELECT pgpool_ext.create_pool('q1', 'dbname=contrib_regression', max_size => 1);
SELECT pgpool_ext.acquire('q') AS h \gset

--
-- query() with a column definition list
--
SELECT * FROM pgpool_ext.query(:h, 'SELECT i, ''row '' || i FROM generate_series(1, 3) i')
  AS t(n int, label text);
-- parameters, NULL among them
SELECT * FROM pgpool_ext.query(:h, 'SELECT $1::int + 1, $2::text IS NULL, $3',
                               ARRAY['41', NULL, 'three'])
  AS t(answer int, second_is_null boolean, third text);
-- types are converted from their text form
SELECT * FROM pgpool_ext.query(:h,
  $$SELECT 42::int4, 9000000000::int8, 'héllo'::text, 12345.678901234567890::numeric,
           true, false, '2024-01-02 03:04:05+00'::timestamptz, '1 day 2 hours'::interval,
           '{1,2,3}'::int[], '{"a": [1, 2]}'::jsonb, 'a'::char(3), 1.5::float8$$)
  AS t(i int, big bigint, s text, n numeric, yes boolean, no boolean,
       ts timestamptz, iv interval, arr int[], j jsonb, c text, f float8);
SELECT ts = '2024-01-02 03:04:05+00' AS same_instant
  FROM pgpool_ext.query(:h, $$SELECT '2024-01-02 03:04:05+00'::timestamptz$$) AS t(ts timestamptz);
-- NULL values
SELECT i IS NULL AS i_null, s IS NULL AS s_null, b IS NULL AS b_null
  FROM pgpool_ext.query(:h, 'SELECT NULL::int, NULL::text, NULL::bool') AS t(i int, s text, b bool);
-- column names come from the definition list, not the remote
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1 AS remote_name') AS t(local_name int);
-- no rows
SELECT count(*) FROM pgpool_ext.query(:h, 'SELECT 1 WHERE false') AS t(x int);
-- many rows stream through the bounded channel
SELECT count(*), sum(x) FROM pgpool_ext.query(:h, 'SELECT g FROM generate_series(1, 100000) g') AS t(x int);
-- a row larger than the channel (pgpool_ext.channel_size = 64kB)
SELECT length(s), md5(s) = md5(repeat('ab', 100000)) AS same
  FROM pgpool_ext.query(:h, $$SELECT repeat('ab', 100000)$$) AS t(s text);
-- several statements at once (no params: simple protocol); the rows of the last
SELECT * FROM pgpool_ext.query(:h, 'SET application_name = ''multi''; SELECT current_setting(''application_name'')')
  AS t(app text);
-- the column definition list must match: 42804
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT 1, 2') AS t(x int)$$, true);
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT 1') AS t(x int, y int)$$, true);
-- a value that does not convert to the declared type
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT ''abc''') AS t(x int)$$);
-- without a column definition list
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT 1')$$);
-- bad arguments
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, NULL) AS t(x int)$$);
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT $1', '{{a},{b}}') AS t(x text)$$);
-- the handle is still fine
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1') AS t(x int);

--
-- query_json(): one jsonb object per row
--
SELECT * FROM pgpool_ext.query_json(:h,
  $$SELECT 1 AS i, 2.5 AS n, -3::int8 AS neg, true AS b, false AS f, NULL AS z,
           'txt' AS t, '{"a": 1}'::json AS j, '[1, "x"]'::jsonb AS jb,
           'NaN'::float8 AS nan, 'Infinity'::numeric AS inf,
           '2024-01-02'::date AS d, '{1,2}'::int[] AS arr, 'say "hi"' AS quoted$$);
SELECT * FROM pgpool_ext.query_json(:h, 'SELECT $1::int AS x, $2 AS y FROM generate_series(1, 2) g ORDER BY g',
                                    ARRAY['7', NULL]);
SELECT r->>'g' AS g FROM pgpool_ext.query_json(:h, 'SELECT g FROM generate_series(1, 3) g') AS r;
SELECT count(*) FROM pgpool_ext.query_json(:h, 'SELECT 1 WHERE false');
-- duplicate column names: the last one wins, as in jsonb
SELECT * FROM pgpool_ext.query_json(:h, 'SELECT 1 AS a, 2 AS a');
SELECT err($$SELECT * FROM pgpool_ext.query_json($$ || :h || $$, 'SELECT 1/0')$$);

--
-- execute(): the command status
--
SELECT pgpool_ext.execute(:h, 'CREATE TABLE q_remote (id int, v text)');
SELECT pgpool_ext.execute(:h, 'INSERT INTO q_remote SELECT g, ''v'' || g FROM generate_series(1, 3) g');
SELECT pgpool_ext.execute(:h, 'UPDATE q_remote SET v = $2 WHERE id = $1', ARRAY['2', 'two']);
SELECT pgpool_ext.execute(:h, 'UPDATE q_remote SET v = $1 WHERE id > 1', ARRAY[NULL]);
SELECT pgpool_ext.execute(:h, 'SELECT * FROM q_remote');
SELECT pgpool_ext.execute(:h, 'SET work_mem = ''8MB''');
SELECT pgpool_ext.execute(:h, 'DELETE FROM q_remote WHERE id = 3');
-- the remote is this server: the table is here too
SELECT * FROM q_remote ORDER BY id;
-- several statements: the status of the last
SELECT pgpool_ext.execute(:h, 'INSERT INTO q_remote VALUES (10); INSERT INTO q_remote VALUES (11); DELETE FROM q_remote WHERE id >= 10');
SELECT pgpool_ext.execute(:h, 'DROP TABLE q_remote');
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, NULL)$$);

--
-- Remote errors keep the remote SQLSTATE, and the handle stays usable.
--
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT 1/0') AS t(x int)$$);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT * FROM q_no_such_table')$$);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELEC 1')$$);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT $1::int', ARRAY['x'])$$);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT $1; SELECT 2', ARRAY['x'])$$);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT $2', ARRAY['x'])$$);
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1') AS t(x int);
-- the whole error as a user sees it: message, detail, hint, remote context,
-- and the remote SQL command
\set SHOW_CONTEXT always
SELECT pgpool_ext.execute(:h, $q$DO $$ BEGIN RAISE EXCEPTION 'remote boom' USING DETAIL = 'some detail', HINT = 'some hint', ERRCODE = 'P0042'; END $$$q$);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1/0') AS t(x int);
\echo :LAST_ERROR_SQLSTATE
\set SHOW_CONTEXT errors
SELECT pgpool_ext.execute(:h, 'SELECT 1');
-- an error in the middle of the rows
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT 10 / (3 - g) FROM generate_series(1, 5) g') AS t(x int)$$);
SELECT * FROM pgpool_ext.query(:h, 'SELECT 2') AS t(x int);

-- COPY is refused, and the connection stays usable (statement_timeout
-- keeps a failure here from hanging the suite)
SET statement_timeout = '10s';
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'COPY (SELECT 1) TO STDOUT')$$);
SELECT * FROM pgpool_ext.query(:h, 'SELECT 3') AS t(x int);
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'COPY (SELECT g FROM generate_series(1, 3) g) TO STDOUT') AS t(x int)$$);
SELECT * FROM pgpool_ext.query(:h, 'SELECT 4') AS t(x int);
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'CREATE TEMP TABLE q_copy (x int); COPY q_copy FROM STDIN')$$);
SELECT * FROM pgpool_ext.query(:h, 'SELECT 5') AS t(x int);
RESET statement_timeout;
-- remote notices are discarded
SELECT pgpool_ext.execute(:h, $q$DO $$ BEGIN RAISE NOTICE 'remote notice'; RAISE WARNING 'remote warning'; END $$$q$);
-- a request may be up to 64 MB: 54000 beyond
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT $1', ARRAY[repeat('x', 64 * 1024 * 1024)])$$);
SELECT length(x) FROM pgpool_ext.query(:h, 'SELECT $1', ARRAY[repeat('x', 1024 * 1024)]) AS t(x text);

--
-- statement_timeout during a remote query cancels it on the remote server;
-- the handle stays usable.
--
SET statement_timeout = '300ms';
SELECT err($$SELECT pgpool_ext.execute($$ || :h || $$, 'SELECT pg_sleep(30)')$$);
SELECT err($$SELECT * FROM pgpool_ext.query($$ || :h || $$, 'SELECT pg_sleep(30)') AS t(x text)$$);
RESET statement_timeout;
SELECT wait_for($$(SELECT count(*) = 0 FROM pg_stat_activity
                   WHERE query = 'SELECT pg_sleep(30)' AND state = 'active')$$) AS remote_cancelled;
SELECT * FROM pgpool_ext.query(:h, 'SELECT 1') AS t(x int);
SELECT wait_for(format($$(SELECT state = 'acquired' FROM pgpool_ext.handles WHERE handle = %s)$$, :h));
SELECT pgpool_ext.release(:h);

--
-- Reset: the next holder gets a clean connection.
--
SELECT pgpool_ext.acquire('q1') AS h \gset
SELECT pid AS remote_pid FROM pgpool_ext.query(:h, 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT pgpool_ext.execute(:h, 'SET application_name = ''dirty''');
SELECT pgpool_ext.execute(:h, 'CREATE TEMP TABLE q_temp (x int)');
-- a remote transaction left open is rolled back
SELECT pgpool_ext.execute(:h, 'BEGIN');
SELECT pgpool_ext.execute(:h, 'CREATE TABLE q_open (x int)');
SELECT pgpool_ext.release(:h);
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'q1')$$);
SELECT pgpool_ext.acquire('q1') AS h \gset
SELECT pid = :remote_pid AS same_connection, app <> 'dirty' AS app_reset, temp_gone, open_gone, no_xact
  FROM pgpool_ext.query(:h, $$SELECT pg_backend_pid(), current_setting('application_name'),
                                   to_regclass('pg_temp.q_temp') IS NULL,
                                   to_regclass('public.q_open') IS NULL,
                                   now() = statement_timestamp()$$)
    AS t(pid int, app text, temp_gone boolean, open_gone boolean, no_xact boolean);
SELECT to_regclass('public.q_open') IS NULL AS not_here_either;
SELECT pgpool_ext.release(:h);
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'q1')$$);
-- Handed on at once, before its reset is done (here, straight after the
-- release): the next holder's first request waits for the reset and never
-- sees the previous holder's state.  After run() too.
SELECT pgpool_ext.acquire('q1') AS h \gset
SELECT pgpool_ext.execute(:h, 'SET application_name = ''dirty''');
SELECT pgpool_ext.release(:h);
SELECT pgpool_ext.acquire('q1') AS h \gset
SELECT pid = :remote_pid AS same_connection, app <> 'dirty' AS app_reset
  FROM pgpool_ext.query(:h, $$SELECT pg_backend_pid(), current_setting('application_name')$$)
    AS t(pid int, app text);
SELECT pgpool_ext.release(:h);
SELECT * FROM pgpool_ext.run('q1', $$SELECT set_config('application_name', 'dirty', false)$$)
    AS t(app text);
SELECT pid = :remote_pid AS same_connection, app <> 'dirty' AS app_reset
  FROM pgpool_ext.run('q1', $$SELECT pg_backend_pid(), current_setting('application_name')$$)
    AS t(pid int, app text);
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'q1')$$);
SELECT uses AS uses_before FROM pgpool_ext.connections WHERE pool_name = 'q1' \gset
-- reset_query '' keeps session state (an open transaction is still rolled back)
SELECT pgpool_ext.alter_pool('q1', reset_query => '');
SELECT pgpool_ext.acquire('q1') AS h \gset
SELECT pgpool_ext.execute(:h, 'SET application_name = ''kept''');
SELECT pgpool_ext.execute(:h, 'CREATE TEMP TABLE q_temp2 (x int)');
SELECT pgpool_ext.execute(:h, 'BEGIN');
SELECT pgpool_ext.execute(:h, 'CREATE TABLE q_open (x int)');
SELECT pgpool_ext.release(:h);
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'q1')$$);
SELECT pgpool_ext.acquire('q1') AS h \gset
SELECT pid = :remote_pid AS same_connection, app, temp_gone, open_gone, no_xact
  FROM pgpool_ext.query(:h, $$SELECT pg_backend_pid(), current_setting('application_name'),
                                   to_regclass('pg_temp.q_temp2') IS NULL,
                                   to_regclass('public.q_open') IS NULL,
                                   now() = statement_timestamp()$$)
    AS t(pid int, app text, temp_gone boolean, open_gone boolean, no_xact boolean);
SELECT pgpool_ext.execute(:h, 'DROP TABLE q_temp2');
SELECT pgpool_ext.execute(:h, 'RESET application_name');
SELECT pgpool_ext.release(:h);
SELECT pgpool_ext.alter_pool('q1', reset_query => 'DISCARD ALL');
SELECT wait_for($$(SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'q1')$$);
SELECT uses - :uses_before AS more_uses FROM pgpool_ext.connections WHERE pool_name = 'q1';

--
-- run(): acquire, query, release
--
SELECT * FROM pgpool_ext.run('q', 'SELECT $1::int * 2, $2', ARRAY['21', NULL]) AS t(x int, y text);
SELECT * FROM pgpool_ext.run('q', 'SELECT g FROM generate_series(1, 3) g', timeout => '5s') AS t(x int);
SELECT * FROM pgpool_ext.run('q', 'SELECT 1', NULL, NULL) AS t(x int);
SELECT err($$SELECT * FROM pgpool_ext.run('nosuch', 'SELECT 1') AS t(x int)$$);
SELECT err($$SELECT * FROM pgpool_ext.run(NULL, 'SELECT 1') AS t(x int)$$);
SELECT err($$SELECT * FROM pgpool_ext.run('q', NULL) AS t(x int)$$);
SELECT err($$SELECT * FROM pgpool_ext.run('q', 'SELECT 1', timeout => '-1s') AS t(x int)$$);
SELECT err($$SELECT * FROM pgpool_ext.run('q', 'SELECT 1/0') AS t(x int)$$);
SELECT err($$SELECT * FROM pgpool_ext.run('q', 'SELECT 1, 2') AS t(x int)$$);
SET statement_timeout = '300ms';
SELECT err($$SELECT * FROM pgpool_ext.run('q', 'SELECT pg_sleep(30)') AS t(x text)$$);
RESET statement_timeout;
-- run() never leaves a handle behind
SELECT count(*) FROM pgpool_ext.handles;
SELECT wait_for($$(SELECT bool_and(state = 'idle') FROM pgpool_ext.connections WHERE pool_name = 'q')$$);

SELECT pgpool_ext.drop_pool('q');
SELECT pgpool_ext.drop_pool('q1');
SELECT count(*) FROM pgpool_ext.pools;
SELECT wait_for($$(SELECT count(*) = 0 FROM pgpool_ext.connections)$$);
