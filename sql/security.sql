--
-- security: who may define pools, who may use them, the password rule,
-- and definitions made outside pgpool_ext.database.
--
CREATE ROLE regress_pool_user;
CREATE ROLE regress_pool_other;
CREATE ROLE regress_pool_group;
CREATE ROLE regress_pool_member IN ROLE regress_pool_group;
CREATE ROLE regress_pool_creator;

-- the remote server (this one) uses trust: connections use no password
SELECT pgpool_ext.create_pool('s_pw', 'dbname=contrib_regression', max_size => 2);
SELECT pgpool_ext.create_pool('s_nopw', 'dbname=contrib_regression', max_size => 2,
                              password_required => false);

--
-- A role without a grant may not use a pool, nor define pools.
--
SET ROLE regress_pool_user;
SELECT err($$SELECT pgpool_ext.acquire('s_pw')$$, true);
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
SELECT err($$SELECT * FROM pgpool_ext.run('s_nopw', 'SELECT 1') AS t(x int)$$);
-- an unknown pool is still unknown
SELECT err($$SELECT pgpool_ext.acquire('nosuch')$$);
SELECT err($$SELECT pgpool_ext.create_pool('s_mine', 'dbname=contrib_regression password=x')$$);
SELECT err($$SELECT pgpool_ext.alter_pool('s_pw', max_size => 3)$$);
SELECT err($$SELECT pgpool_ext.drop_pool('s_pw')$$);
SELECT err($$SELECT pgpool_ext.grant_usage('s_pw', 'regress_pool_user')$$);
SELECT err($$SELECT pgpool_ext.revoke_usage('s_pw', 'regress_pool_user')$$);
-- the definitions hold connection strings: not readable
SELECT err($$SELECT * FROM pgpool_ext.pool_definition$$);
SELECT err($$SELECT * FROM pgpool_ext.pool_usage$$);
SELECT err($$INSERT INTO pgpool_ext.pool_definition VALUES ('x', 'dbname=x', 0, 1, NULL, '1s', '1s', '', false, 'regress_pool_user')$$);
SELECT err($$UPDATE pgpool_ext.pool_definition SET password_required = false$$);
RESET ROLE;

--
-- grant_usage: then the password rule applies.
--
SELECT pgpool_ext.grant_usage('s_pw', 'regress_pool_user');
SELECT pgpool_ext.grant_usage('s_nopw', 'regress_pool_user');
-- granting twice is harmless
SELECT pgpool_ext.grant_usage('s_nopw', 'regress_pool_user');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
SET ROLE regress_pool_user;
-- the connection did not authenticate with a password: refused
SELECT err($$SELECT pgpool_ext.acquire('s_pw')$$, true);
SELECT err($$SELECT * FROM pgpool_ext.run('s_pw', 'SELECT 1') AS t(x int)$$);
-- password_required => false: allowed
SELECT pgpool_ext.acquire('s_nopw') AS h \gset
SELECT * FROM pgpool_ext.query(:h, 'SELECT current_user') AS t(remote_user name);
SELECT pgpool_ext.execute(:h, 'SELECT 1');
SELECT pgpool_ext.release(:h);
SELECT * FROM pgpool_ext.run('s_nopw', 'SELECT $1::int + 1', ARRAY['1']) AS t(x int);
-- another role still may not
SET ROLE regress_pool_other;
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
RESET ROLE;
-- the refused acquire gave its connection back
SELECT count(*) FROM pgpool_ext.handles;
SELECT bool_and(NOT used_password) AS no_password_used FROM pgpool_ext.connections
 WHERE pool_name IN ('s_pw', 's_nopw');

-- revoke_usage: refused again
SELECT pgpool_ext.revoke_usage('s_nopw', 'regress_pool_user');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
SET ROLE regress_pool_user;
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
RESET ROLE;
-- revoking what was not granted is harmless
SELECT pgpool_ext.revoke_usage('s_nopw', 'regress_pool_user');

-- members of a granted role may use the pool
SELECT pgpool_ext.grant_usage('s_nopw', 'regress_pool_group');
SET ROLE regress_pool_member;
SELECT * FROM pgpool_ext.run('s_nopw', 'SELECT 1') AS t(x int);
SET ROLE regress_pool_user;
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
RESET ROLE;
SELECT pgpool_ext.revoke_usage('s_nopw', 'regress_pool_group');

-- public: everyone
SELECT pgpool_ext.grant_usage('s_nopw', 'public');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
SET ROLE regress_pool_other;
SELECT * FROM pgpool_ext.run('s_nopw', 'SELECT 2') AS t(x int);
RESET ROLE;
SELECT pgpool_ext.revoke_usage('s_nopw', 'public');
SET ROLE regress_pool_other;
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
RESET ROLE;

-- bad arguments
SELECT err($$SELECT pgpool_ext.grant_usage('nosuch', 'regress_pool_user')$$);
SELECT err($$SELECT pgpool_ext.revoke_usage('nosuch', 'regress_pool_user')$$);
SELECT err($$SELECT pgpool_ext.grant_usage('s_pw', NULL)$$);
SELECT err($$SELECT pgpool_ext.grant_usage(NULL, 'regress_pool_user')$$);
SELECT err($$SELECT pgpool_ext.grant_usage('s_pw', 'regress_no_such_role')$$);

--
-- Defining pools can be delegated with GRANT EXECUTE; a non-superuser must
-- put a password in the conninfo and cannot waive the password rule.
--
GRANT EXECUTE ON FUNCTION
  pgpool_ext.create_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.alter_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.drop_pool(text, boolean)
  TO regress_pool_creator;
SET ROLE regress_pool_creator;
SELECT err($$SELECT pgpool_ext.create_pool('s_mine', 'dbname=contrib_regression')$$, true);
SELECT err($$SELECT pgpool_ext.create_pool('s_mine', 'dbname=contrib_regression password=x', password_required => false)$$);
SELECT err($$SELECT pgpool_ext.create_pool('s_mine', 'dbname=contrib_regression password=x', options => '{"password_required": false}')$$);
SELECT pgpool_ext.create_pool('s_mine', 'dbname=contrib_regression password=x', max_size => 1);
-- nor remove the password later
SELECT err($$SELECT pgpool_ext.alter_pool('s_mine', conninfo => 'dbname=contrib_regression')$$);
SELECT err($$SELECT pgpool_ext.alter_pool('s_mine', password_required => false)$$);
-- the creator may use its pool without a grant; the password rule still
-- applies (this server did not ask for the password)
SELECT err($$SELECT pgpool_ext.acquire('s_mine')$$);
-- others may not
SET ROLE regress_pool_user;
SELECT err($$SELECT pgpool_ext.acquire('s_mine')$$);
RESET ROLE;
SELECT owner FROM pgpool_ext.pool_definition WHERE pool_name = 's_mine';
-- a superuser waives the password rule for it
SELECT pgpool_ext.alter_pool('s_mine', password_required => false);
SET ROLE regress_pool_creator;
SELECT * FROM pgpool_ext.run('s_mine', 'SELECT 3') AS t(x int);
SELECT pgpool_ext.drop_pool('s_mine');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION
  pgpool_ext.create_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.alter_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.drop_pool(text, boolean)
  FROM regress_pool_creator;

--
-- Delegates may change, drop and grant only the pools they own (or whose
-- owner's privileges they have), never a superuser's pool: its reset_query
-- runs with the pool's remote credentials.
--
CREATE ROLE regress_pool_delegate;
CREATE ROLE regress_pool_delegate2;
CREATE ROLE regress_pool_mate IN ROLE regress_pool_delegate;
GRANT EXECUTE ON FUNCTION
  pgpool_ext.create_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.alter_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.drop_pool(text, boolean),
  pgpool_ext.grant_usage(text, text),
  pgpool_ext.revoke_usage(text, text)
  TO regress_pool_delegate, regress_pool_delegate2, regress_pool_mate;
SET ROLE regress_pool_delegate;
SELECT pgpool_ext.create_pool('s_deleg', 'dbname=contrib_regression password=x', max_size => 1);
-- a superuser's pool: 42501 for every change
SELECT err($$SELECT pgpool_ext.alter_pool('s_pw', reset_query => 'ALTER ROLE regress_pool_delegate SUPERUSER')$$, true);
SELECT err($$SELECT pgpool_ext.alter_pool('s_pw', options => '{"max_size": 1}')$$);
SELECT err($$SELECT pgpool_ext.drop_pool('s_pw')$$);
SELECT err($$SELECT pgpool_ext.drop_pool('s_pw', force => true)$$);
SELECT err($$SELECT pgpool_ext.grant_usage('s_pw', 'regress_pool_delegate')$$);
SELECT err($$SELECT pgpool_ext.revoke_usage('s_pw', 'regress_pool_user')$$);
-- nor can it be taken over by creating it again
SELECT err($$SELECT pgpool_ext.create_pool('s_pw', 'dbname=contrib_regression password=x')$$);
-- an unknown pool is still unknown
SELECT err($$SELECT pgpool_ext.alter_pool('nosuch', max_size => 1)$$);
-- another delegate's pool: 42501
SET ROLE regress_pool_delegate2;
SELECT err($$SELECT pgpool_ext.alter_pool('s_deleg', max_size => 2)$$);
SELECT err($$SELECT pgpool_ext.drop_pool('s_deleg')$$);
SELECT err($$SELECT pgpool_ext.grant_usage('s_deleg', 'regress_pool_delegate2')$$);
-- a member of the owner role may
SET ROLE regress_pool_mate;
SELECT pgpool_ext.alter_pool('s_deleg', max_size => 2);
SELECT pgpool_ext.grant_usage('s_deleg', 'regress_pool_user');
SELECT pgpool_ext.revoke_usage('s_deleg', 'regress_pool_user');
RESET ROLE;
-- nothing of the refused calls was stored
SELECT pool_name, reset_query, max_size, owner FROM pgpool_ext.pool_definition
 WHERE pool_name IN ('s_pw', 's_deleg') ORDER BY 1;
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
-- an owner that is a superuser now: only superusers may change the pool
ALTER ROLE regress_pool_delegate SUPERUSER;
SET ROLE regress_pool_mate;
SELECT err($$SELECT pgpool_ext.alter_pool('s_deleg', max_size => 1)$$, true);
RESET ROLE;
ALTER ROLE regress_pool_delegate NOSUPERUSER;
-- an owner that no longer exists (a restored dump): only superusers
UPDATE pgpool_ext.pool_definition SET owner = 'regress_pool_gone' WHERE pool_name = 's_deleg';
SET ROLE regress_pool_mate;
SELECT err($$SELECT pgpool_ext.drop_pool('s_deleg')$$, true);
RESET ROLE;
SELECT pgpool_ext.drop_pool('s_deleg');
REVOKE EXECUTE ON FUNCTION
  pgpool_ext.create_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.alter_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
  pgpool_ext.drop_pool(text, boolean),
  pgpool_ext.grant_usage(text, text),
  pgpool_ext.revoke_usage(text, text)
  FROM regress_pool_delegate, regress_pool_delegate2, regress_pool_mate;
DROP ROLE regress_pool_mate, regress_pool_delegate, regress_pool_delegate2;

--
-- Role names are taken as they are spelled: a role "PUBLIC" is not PUBLIC
-- (only 'public' and spellings no role has mean PUBLIC); the grant of a
-- role that no longer exists can still be revoked by name.
--
CREATE ROLE "PUBLIC";
SELECT pgpool_ext.grant_usage('s_nopw', 'PUBLIC');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
SET ROLE regress_pool_other;
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
RESET ROLE;
SELECT pgpool_ext.revoke_usage('s_nopw', 'PUBLIC');
DROP ROLE "PUBLIC";
-- the grant of a role that no longer exists (a restored dump) is revoked
-- by its name
INSERT INTO pgpool_ext.pool_usage VALUES ('s_nopw', 'PUBLIC');
SELECT pgpool_ext.revoke_usage('s_nopw', 'PUBLIC');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
-- with no role "Public", 'Public' means PUBLIC
SELECT pgpool_ext.grant_usage('s_nopw', 'Public');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
SELECT pgpool_ext.revoke_usage('s_nopw', 'PUBLIC');
SELECT pool_name, role FROM pgpool_ext.pool_usage ORDER BY 1, 2;
SELECT err($$SELECT pgpool_ext.grant_usage('s_nopw', repeat('r', 64))$$, true);

--
-- Pools are defined in pgpool_ext.database only (55000 elsewhere), and
-- usable from every database with the extension.
--
SELECT pg_get_functiondef('err(text, boolean)'::regprocedure) AS err_function \gset
CREATE DATABASE regress_pgpool_other;
\c regress_pgpool_other
CREATE EXTENSION pgpool_ext;
-- the same err() helper
:err_function;
SELECT err($$SELECT pgpool_ext.create_pool('s_other', 'dbname=contrib_regression')$$, true);
SELECT err($$SELECT pgpool_ext.alter_pool('s_pw', max_size => 1)$$);
SELECT err($$SELECT pgpool_ext.drop_pool('s_pw')$$);
SELECT err($$SELECT pgpool_ext.grant_usage('s_pw', 'regress_pool_user')$$);
SELECT err($$SELECT pgpool_ext.revoke_usage('s_pw', 'regress_pool_user')$$);
-- the pools of contrib_regression are usable here
SELECT * FROM pgpool_ext.run('s_pw', 'SELECT current_database()') AS t(db name);
SELECT pgpool_ext.acquire('s_nopw') AS h \gset
SELECT pgpool_ext.execute(:h, 'SELECT 1');
SELECT pool_name, holder_pid = pg_backend_pid() AS mine FROM pgpool_ext.handles;
SELECT pgpool_ext.release(:h);
SELECT pool_name FROM pgpool_ext.pools WHERE pool_name LIKE 's\_%' ORDER BY 1;
-- with the same usage rules
SET ROLE regress_pool_user;
SELECT err($$SELECT pgpool_ext.acquire('s_nopw')$$);
RESET ROLE;
\c contrib_regression
DROP DATABASE regress_pgpool_other;

SELECT pgpool_ext.drop_pool('s_pw');
SELECT pgpool_ext.drop_pool('s_nopw');
SELECT count(*) FROM pgpool_ext.pool_usage;
DROP ROLE regress_pool_user, regress_pool_other, regress_pool_member, regress_pool_group,
          regress_pool_creator;
