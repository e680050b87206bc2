--
-- pools: create_pool, alter_pool, drop_pool; validation; transactions;
-- password masking.
--
-- The options of a pool as the pools view shows them.
CREATE VIEW pool_options AS
  SELECT pool_name, conninfo, min_size, max_size, initial_size, idle_timeout,
         connect_timeout, reset_query, password_required
    FROM pgpool_ext.pools ORDER BY pool_name;

-- defaults
SELECT pgpool_ext.create_pool('p_default', 'dbname=contrib_regression');
SELECT * FROM pool_options;
-- the stored definition
SELECT pool_name, conninfo, min_size, max_size, initial_size, idle_timeout,
       connect_timeout, reset_query, password_required, owner
  FROM pgpool_ext.pool_definition ORDER BY pool_name;

-- named options
SELECT pgpool_ext.create_pool('p_named', 'dbname=contrib_regression application_name=named',
         min_size => 1, max_size => 3, initial_size => 2,
         idle_timeout => '5 min', connect_timeout => '3 s',
         reset_query => 'RESET ALL', password_required => false);
SELECT * FROM pool_options WHERE pool_name = 'p_named';
-- initial_size connections are opened at creation, and min_size kept
SELECT wait_for($$(SELECT idle = 2 AND total = 2 FROM pgpool_ext.pools WHERE pool_name = 'p_named')$$);
SELECT state, partition, count(*) FROM pgpool_ext.connections
 WHERE pool_name = 'p_named' GROUP BY 1, 2;

-- the options jsonb, including conninfo itself
SELECT pgpool_ext.create_pool('p_json', 'dbname=contrib_regression',
         options => '{"max_size": 4, "min_size": 0, "idle_timeout": "30s",
                      "connect_timeout": 5, "reset_query": "",
                      "password_required": false, "initial_size": 1}');
SELECT pgpool_ext.create_pool('p_json2', NULL,
         options => '{"conninfo": "dbname=contrib_regression", "max_size": 2}');
SELECT * FROM pool_options WHERE pool_name LIKE 'p_json%';
-- options given in jsonb and as arguments mix
SELECT pgpool_ext.create_pool('p_mixed', 'dbname=contrib_regression', min_size => 1,
         options => '{"max_size": 2}');
SELECT * FROM pool_options WHERE pool_name = 'p_mixed';

-- a pool that already exists
SELECT err($$SELECT pgpool_ext.create_pool('p_default', 'dbname=contrib_regression')$$);

--
-- Every option is validated: 22023, naming the option.
--
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'hots=x')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=''unterminated')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', NULL)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', min_size => 5, max_size => 2)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', min_size => -1)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', max_size => 0)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', max_size => 65)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', max_size => 64)$$) AS max_size_64;
SELECT pgpool_ext.drop_pool('bad');
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', initial_size => 11)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', initial_size => -1)$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', idle_timeout => '-1 s')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', connect_timeout => '-1 s')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', connect_timeout => '0')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', reset_query => repeat('x', 600))$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=' || repeat('x', 1100))$$, true);
-- the options jsonb
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"maxsize": 3}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', max_size => 3, options => '{"max_size": 4}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"conninfo": "dbname=y"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"max_size": "many"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"max_size": 2.5}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"max_size": null}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"idle_timeout": "soon"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"password_required": "maybe"}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"min_size": -1}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '[1, 2]')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => '{"max_size": {"n": 1}}')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x', options => 'null')$$, true);
-- the pool name
SELECT err($$SELECT pgpool_ext.create_pool(NULL, 'dbname=x')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('', 'dbname=x')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool(repeat('n', 64), 'dbname=x')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool(repeat('n', 63), 'dbname=x')$$) AS name_63_bytes;
SELECT pgpool_ext.drop_pool(repeat('n', 63));
-- conninfo values libpq would refuse when connecting are refused at once
-- (checked without connecting): 22023 naming the option, never quoting a
-- value (in a malformed URI a password can land in any option)
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'port=5x6')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'port=0')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'port=65536')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'sslmode=bogus')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'sslmode=')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'gssencmode=always')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'channel_binding=maybe')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'target_session_attrs=readonly')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'ssl_min_protocol_version=TLSv9')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'keepalives_idle=soon')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'connect_timeout=')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'host=a,b,c port=1,2')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'host=a,b hostaddr=127.0.0.1')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'hostaddr=db.example.com')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'hostaddr=127.0.0.1,::1,10.0.0.256')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'host=/tmp/' || repeat('d', 100))$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://h:5x6/db')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'host=''my host''')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'host=h' || chr(246) || 'te')$$, true);
SELECT err($$SELECT pgpool_ext.alter_pool('p_default', conninfo => 'sslmode=bogus')$$, true);
-- what libpq accepts is accepted
SELECT pgpool_ext.create_pool('p_libpq',
         'host=a,b,c port=5432,5433,5434 hostaddr=127.0.0.1,::1,10.0.0.1 '
         'sslmode=prefer gssencmode=disable channel_binding=prefer '
         'target_session_attrs=prefer-standby ssl_min_protocol_version=tlsv1.2 '
         'ssl_max_protocol_version='''' keepalives_idle='' 30 '' connect_timeout=5',
         max_size => 1);
SELECT pgpool_ext.create_pool('p_libpq2', 'postgresql://h1:5432,h-2.example_x.com/db?target_session_attrs=any',
         max_size => 1);
SELECT pgpool_ext.drop_pool('p_libpq');
SELECT pgpool_ext.drop_pool('p_libpq2');
SELECT pgpool_ext.create_pool('p_libpq3', 'host=@abstract,/tmp,fe80::1%lo port=', max_size => 1);
SELECT pgpool_ext.drop_pool('p_libpq3');
-- none of the failed calls left a definition behind
SELECT pool_name FROM pgpool_ext.pool_definition ORDER BY 1;
SELECT pool_name FROM pgpool_ext.pools ORDER BY 1;

--
-- alter_pool changes the options given and keeps the others.
--
SELECT pgpool_ext.alter_pool('p_default', max_size => 5, reset_query => '');
SELECT * FROM pool_options WHERE pool_name = 'p_default';
SELECT pgpool_ext.alter_pool('p_default', options => '{"idle_timeout": "1 min", "min_size": 1}');
SELECT * FROM pool_options WHERE pool_name = 'p_default';
-- min_size is kept open
SELECT wait_for($$(SELECT total = 1 FROM pgpool_ext.pools WHERE pool_name = 'p_default')$$);
SELECT pgpool_ext.alter_pool('p_default', min_size => 0, reset_query => 'DISCARD ALL',
                             idle_timeout => '10 min');
SELECT * FROM pool_options WHERE pool_name = 'p_default';
-- the stored row: each option given is written, the others kept as stored
-- (initial_size stays NULL: min_size)
SELECT pool_name, conninfo, min_size, max_size, initial_size, idle_timeout,
       connect_timeout, reset_query, password_required, owner
  FROM pgpool_ext.pool_definition WHERE pool_name = 'p_default';
-- validated against the resulting definition
SELECT err($$SELECT pgpool_ext.alter_pool('p_default', min_size => 6)$$, true);
SELECT err($$SELECT pgpool_ext.alter_pool('p_default', max_size => 0)$$, true);
SELECT err($$SELECT pgpool_ext.alter_pool('p_default', conninfo => 'hots=x')$$, true);
SELECT err($$SELECT pgpool_ext.alter_pool('p_default', options => '{"colour": "red"}')$$, true);
SELECT * FROM pool_options WHERE pool_name = 'p_default';
-- unknown pool, bad name
SELECT err($$SELECT pgpool_ext.alter_pool('nosuch', max_size => 2)$$);
SELECT err($$SELECT pgpool_ext.alter_pool(NULL, max_size => 2)$$);
SELECT err($$SELECT pgpool_ext.alter_pool('', max_size => 2)$$);
-- a new conninfo recycles the pool's connections
SELECT pgpool_ext.alter_pool('p_named', conninfo => 'dbname=contrib_regression application_name=renamed');
SELECT conninfo FROM pgpool_ext.pools WHERE pool_name = 'p_named';
-- (the recycled pool keeps min_size: one new connection)
SELECT wait_for($$(SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'renamed')
                   AND (SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'named')$$);

--
-- drop_pool
--
SELECT pgpool_ext.drop_pool('p_json2');
SELECT err($$SELECT pgpool_ext.drop_pool('p_json2')$$);
SELECT err($$SELECT pgpool_ext.drop_pool('nosuch')$$);
SELECT err($$SELECT pgpool_ext.drop_pool(NULL)$$);
SELECT count(*) FROM pgpool_ext.pools WHERE pool_name = 'p_json2';
-- its connections are closed
SELECT pgpool_ext.drop_pool('p_named');
SELECT wait_for($$(SELECT count(*) = 0 FROM pgpool_ext.connections WHERE pool_name = 'p_named')
                   AND (SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'renamed')$$);
-- with a handle held: 55006, unless force
SELECT pgpool_ext.acquire('p_mixed') AS h \gset
SELECT err($$SELECT pgpool_ext.drop_pool('p_mixed')$$, true);
SELECT err($$SELECT pgpool_ext.drop_pool('p_mixed', force => false)$$);
SELECT count(*) FROM pgpool_ext.pools WHERE pool_name = 'p_mixed';
SELECT pgpool_ext.drop_pool('p_mixed', force => true);
SELECT count(*) FROM pgpool_ext.pools WHERE pool_name = 'p_mixed';
-- the holder's handle is dead: 08006 on use; release still works
-- (only the SQLSTATE: the message depends on whether the worker had closed
-- the connection yet)
SELECT left(err(format('SELECT * FROM pgpool_ext.query(%s, %L) AS t(x int)', :h, 'SELECT 1')), 5);
SELECT left(err(format('SELECT pgpool_ext.execute(%s, %L)', :h, 'SELECT 1')), 5);
SELECT pgpool_ext.release(:h);
SELECT err(format('SELECT pgpool_ext.release(%s)', :h));
SELECT count(*) FROM pgpool_ext.handles;
SELECT wait_for($$(SELECT count(*) = 0 FROM pgpool_ext.connections WHERE pool_name = 'p_mixed')$$);
-- the name can be used again
SELECT pgpool_ext.create_pool('p_mixed', 'dbname=contrib_regression', max_size => 1);
SELECT * FROM pgpool_ext.run('p_mixed', 'SELECT 42') AS t(x int);

--
-- Definitions are transactional: they take effect at commit.
--
BEGIN;
SELECT pgpool_ext.create_pool('p_tx', 'dbname=contrib_regression');
-- not yet usable, not yet shown (the worker has not loaded it)
SELECT err($$SELECT pgpool_ext.acquire('p_tx')$$);
SELECT count(*) FROM pgpool_ext.pools WHERE pool_name = 'p_tx';
ROLLBACK;
SELECT err($$SELECT pgpool_ext.acquire('p_tx')$$);
SELECT count(*) FROM pgpool_ext.pools WHERE pool_name = 'p_tx';
SELECT count(*) FROM pgpool_ext.pool_definition WHERE pool_name = 'p_tx';
-- committed: usable by the very next statement
BEGIN;
SELECT pgpool_ext.create_pool('p_tx', 'dbname=contrib_regression', max_size => 1);
COMMIT;
SELECT * FROM pgpool_ext.run('p_tx', 'SELECT 1') AS t(x int);
-- the same with autocommit
SELECT pgpool_ext.create_pool('p_tx2', 'dbname=contrib_regression', max_size => 1);
SELECT * FROM pgpool_ext.run('p_tx2', 'SELECT 2') AS t(x int);
SELECT pgpool_ext.drop_pool('p_tx2');
SELECT err($$SELECT * FROM pgpool_ext.run('p_tx2', 'SELECT 2') AS t(x int)$$);
-- alter and drop rolled back leave the pool as it was
BEGIN;
SELECT pgpool_ext.alter_pool('p_tx', max_size => 7);
ROLLBACK;
SELECT max_size FROM pgpool_ext.pools WHERE pool_name = 'p_tx';
BEGIN;
SELECT pgpool_ext.drop_pool('p_tx');
ROLLBACK;
SELECT * FROM pgpool_ext.run('p_tx', 'SELECT 3') AS t(x int);
-- dropped and created again in one transaction: a new pool, the holders of
-- the old one's handles get 08006
SELECT pgpool_ext.acquire('p_tx') AS h \gset
BEGIN;
SELECT pgpool_ext.drop_pool('p_tx', force => true);
SELECT pgpool_ext.create_pool('p_tx', 'dbname=contrib_regression', max_size => 2);
COMMIT;
SELECT max_size FROM pgpool_ext.pools WHERE pool_name = 'p_tx';
SELECT left(err(format('SELECT pgpool_ext.execute(%s, %L)', :h, 'SELECT 1')), 5);
SELECT pgpool_ext.release(:h);
SELECT * FROM pgpool_ext.run('p_tx', 'SELECT 4') AS t(x int);
-- a transaction that changed definitions cannot be prepared
BEGIN;
SELECT pgpool_ext.alter_pool('p_tx', max_size => 1);
PREPARE TRANSACTION 'regress_pgpool';
\echo :LAST_ERROR_SQLSTATE
SELECT max_size FROM pgpool_ext.pools WHERE pool_name = 'p_tx';
-- a committed alter is seen by the next statement
SELECT pgpool_ext.alter_pool('p_tx', max_size => 7);
SELECT max_size FROM pgpool_ext.pools WHERE pool_name = 'p_tx';
SELECT pgpool_ext.drop_pool('p_tx');

--
-- Passwords are masked, and never printed in errors.
--
SELECT pgpool_ext.create_pool('p_pw', 'dbname=contrib_regression password=Secret42',
                              max_size => 1);
SELECT conninfo FROM pgpool_ext.pools WHERE pool_name = 'p_pw';
SELECT pgpool_ext.create_pool('p_pw2', 'dbname=contrib_regression password=''two words'' user=postgres',
                              max_size => 1);
SELECT conninfo FROM pgpool_ext.pools WHERE pool_name = 'p_pw2';
-- works (the server does not ask for the password)
SELECT * FROM pgpool_ext.run('p_pw', 'SELECT 1') AS t(x int);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'password=Secret42 hots=x')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'password=Secret42 dbname=''x')$$, true);
-- a password with a space but no quotes: libpq's message quotes a word of it
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x password=correct horse battery')$$, true)
       NOT LIKE '%horse%' AS no_password_fragment;
SELECT err($$SELECT pgpool_ext.alter_pool('p_pw', conninfo => 'password=Secret42 hots=x')$$, true);
-- a string that cannot be parsed: no fragment of it is shown, whatever the
-- form (a URI's user information, a password with a space or a quote)
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret42@[::1/db')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret42@h/db?sslmode')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret42@h/db?a=b=c')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret%zz42@h/db')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret42@h/db?x%00=1')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret42@h:5x/db')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret42/db@h')$$, true);
-- a password with an '@' not percent-encoded: part of it would be taken
-- for the host name, which libpq quotes in its connection errors
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'postgresql://app:Secret@42@h/db')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x password=Secret42" "other')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x password=correct Secret42=battery')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('bad', 'dbname=x password=correct Secret42" horse')$$, true);
-- a connection error keeps no password
SELECT pgpool_ext.create_pool('p_fail', 'dbname=regress_no_such_db password=Secret42',
                              min_size => 1, max_size => 1);
SELECT wait_for($$(SELECT connect_failures > 0 FROM pgpool_ext.pools WHERE pool_name = 'p_fail')$$);
SELECT last_connect_error LIKE '%regress_no_such_db%' AS names_db,
       last_connect_error NOT LIKE '%Secret42%' AS no_password,
       conninfo
  FROM pgpool_ext.pools WHERE pool_name = 'p_fail';
-- nor does the timeout's detail, which carries the last connection error
SELECT err($$SELECT pgpool_ext.acquire('p_fail', timeout => '50ms')$$, true)
       LIKE '%regress_no_such_db%' AS names_db,
       err($$SELECT pgpool_ext.acquire('p_fail', timeout => '50ms')$$, true)
       NOT LIKE '%Secret42%' AS no_password;
SELECT pgpool_ext.drop_pool('p_fail');
-- nor the server log (pg_regress keeps it in log/, next to tmp_check/)
SELECT strpos(pg_read_file(current_setting('data_directory') || '/../../log/postmaster.log'),
              'Secret42') = 0 AS not_in_log;
SELECT pgpool_ext.drop_pool('p_pw');
SELECT pgpool_ext.drop_pool('p_pw2');

SELECT pool_name FROM pgpool_ext.pools ORDER BY 1;
SELECT pgpool_ext.drop_pool('p_default');
SELECT pgpool_ext.drop_pool('p_json');
SELECT pgpool_ext.drop_pool('p_mixed');
-- every test leaves no pool, handle or connection behind
SELECT count(*) FROM pgpool_ext.pools;
SELECT count(*) FROM pgpool_ext.handles;
SELECT wait_for($$(SELECT count(*) = 0 FROM pgpool_ext.connections)$$);
