/* pgpool_ext--0.1.sql: install script */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pgpool_ext" to load this file. \quit

-- Pool definitions.  Only rows in the database named by pgpool_ext.database
-- are used; the pool worker loads them after each committed change.
CREATE TABLE pgpool_ext.pool_definition (
    pool_name         text PRIMARY KEY,
    conninfo          text NOT NULL,
    min_size          integer NOT NULL,
    max_size          integer NOT NULL,
    initial_size      integer,
    idle_timeout      interval NOT NULL,
    connect_timeout   interval NOT NULL,
    reset_query       text NOT NULL,
    password_required boolean NOT NULL,
    owner             regrole NOT NULL,
    -- identifies this definition: a pool dropped and created again under
    -- the same name is a new pool, even if the worker sees both at once
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (min_size >= 0 AND max_size >= 1 AND min_size <= max_size)
);

CREATE TABLE pgpool_ext.pool_usage (
    pool_name text NOT NULL REFERENCES pgpool_ext.pool_definition (pool_name)
              ON UPDATE CASCADE ON DELETE CASCADE,
    role      regrole NOT NULL,   -- 0 ('-') is PUBLIC
    PRIMARY KEY (pool_name, role)
);

-- The tables hold connection strings (with passwords): no access for others.
REVOKE ALL ON pgpool_ext.pool_definition, pgpool_ext.pool_usage FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpool_ext.pool_definition', '');
SELECT pg_catalog.pg_extension_config_dump('pgpool_ext.pool_usage', '');

CREATE FUNCTION pgpool_ext.config_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgpool_ext_config_trigger'
LANGUAGE C;

CREATE TRIGGER pool_definition_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pgpool_ext.pool_definition
    FOR EACH STATEMENT EXECUTE FUNCTION pgpool_ext.config_trigger();
CREATE TRIGGER pool_usage_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pgpool_ext.pool_usage
    FOR EACH STATEMENT EXECUTE FUNCTION pgpool_ext.config_trigger();

-- Defining pools
CREATE FUNCTION pgpool_ext.create_pool(
    pool_name         text,
    conninfo          text,
    min_size          integer DEFAULT NULL,
    max_size          integer DEFAULT NULL,
    initial_size      integer DEFAULT NULL,
    idle_timeout      interval DEFAULT NULL,
    connect_timeout   interval DEFAULT NULL,
    reset_query       text DEFAULT NULL,
    password_required boolean DEFAULT NULL,
    options           jsonb DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_create_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.alter_pool(
    pool_name         text,
    conninfo          text DEFAULT NULL,
    min_size          integer DEFAULT NULL,
    max_size          integer DEFAULT NULL,
    initial_size      integer DEFAULT NULL,
    idle_timeout      interval DEFAULT NULL,
    connect_timeout   interval DEFAULT NULL,
    reset_query       text DEFAULT NULL,
    password_required boolean DEFAULT NULL,
    options           jsonb DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_alter_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.drop_pool(pool_name text, force boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_drop_pool'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- role is a role name, or 'public'
CREATE FUNCTION pgpool_ext.grant_usage(pool_name text, role text)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_grant_usage'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.revoke_usage(pool_name text, role text)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_revoke_usage'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Handles
CREATE FUNCTION pgpool_ext.acquire(
    pool_name text,
    timeout   interval DEFAULT NULL,
    priority  text DEFAULT 'normal',
    partition text DEFAULT NULL,
    scope     text DEFAULT 'session')
RETURNS bigint
AS 'MODULE_PATHNAME', 'pgpool_ext_acquire'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.release(handle bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_release'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Remote work
CREATE FUNCTION pgpool_ext.query(handle bigint, sql text, params text[] DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_query'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.query_json(handle bigint, sql text, params text[] DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'pgpool_ext_query_json'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.execute(handle bigint, sql text, params text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pgpool_ext_execute'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION pgpool_ext.run(pool_name text, sql text, params text[] DEFAULT NULL,
                               timeout interval DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_run'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Views
CREATE FUNCTION pgpool_ext.pool_info(
    OUT pool_name text, OUT conninfo text, OUT min_size integer,
    OUT max_size integer, OUT initial_size integer,
    OUT idle_timeout_s integer, OUT connect_timeout_s integer,
    OUT reset_query text, OUT password_required boolean,
    OUT total integer, OUT idle integer, OUT in_use integer,
    OUT connecting integer, OUT waiting integer,
    OUT acquires bigint, OUT waits bigint, OUT timeouts bigint,
    OUT connects bigint, OUT connect_failures bigint, OUT closes bigint,
    OUT last_connect_error text, OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_pool_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.pools AS
    SELECT pool_name, conninfo, min_size, max_size, initial_size,
           make_interval(secs => idle_timeout_s) AS idle_timeout,
           make_interval(secs => connect_timeout_s) AS connect_timeout,
           reset_query, password_required,
           total, idle, in_use, connecting, waiting,
           acquires, waits, timeouts, connects, connect_failures, closes,
           last_connect_error, stats_reset
      FROM pgpool_ext.pool_info();

CREATE FUNCTION pgpool_ext.connection_info(
    OUT pool_name text, OUT partition text, OUT slot integer, OUT state text,
    OUT remote_pid integer, OUT created_at timestamptz,
    OUT last_used_at timestamptz, OUT uses bigint, OUT holder_pid integer,
    OUT used_password boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_connection_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.connections AS
    SELECT * FROM pgpool_ext.connection_info();

CREATE FUNCTION pgpool_ext.handle_info(
    OUT handle bigint, OUT pool_name text, OUT partition text,
    OUT holder_pid integer, OUT role text, OUT scope text, OUT state text,
    OUT acquired_at timestamptz, OUT last_used_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_handle_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.handles AS
    SELECT * FROM pgpool_ext.handle_info();

CREATE FUNCTION pgpool_ext.waiter_info(
    OUT pid integer, OUT pool_name text, OUT partition text,
    OUT priority text, OUT "position" integer, OUT waiting_since timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_waiter_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.waiters AS
    SELECT * FROM pgpool_ext.waiter_info();

-- Privileges: defining pools is for superusers (or roles granted these
-- functions); using a pool needs grant_usage; the views are for
-- pg_read_all_stats.
REVOKE ALL ON FUNCTION
    pgpool_ext.create_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
    pgpool_ext.alter_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
    pgpool_ext.drop_pool(text, boolean),
    pgpool_ext.grant_usage(text, text),
    pgpool_ext.revoke_usage(text, text),
    pgpool_ext.config_trigger()
    FROM PUBLIC;
REVOKE ALL ON FUNCTION
    pgpool_ext.pool_info(), pgpool_ext.connection_info(),
    pgpool_ext.handle_info(), pgpool_ext.waiter_info()
    FROM PUBLIC;
GRANT USAGE ON SCHEMA pgpool_ext TO PUBLIC;
GRANT SELECT ON pgpool_ext.pools, pgpool_ext.connections, pgpool_ext.handles,
    pgpool_ext.waiters TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION
    pgpool_ext.pool_info(), pgpool_ext.connection_info(),
    pgpool_ext.handle_info(), pgpool_ext.waiter_info()
    TO pg_read_all_stats;
