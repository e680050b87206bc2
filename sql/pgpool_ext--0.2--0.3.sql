/* pgpool_ext--0.2--0.3.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.3'" to load this file. \quit

--
-- Leak detection (issue 9, item 4).
--

-- Pool options, given in create_pool's / alter_pool's options jsonb:
-- leak_threshold (NULL: the pool follows pgpool_ext.leak_threshold; '0'
-- turns detection off for the pool), leak_action and leak_reclaim_after.
ALTER TABLE pgpool_ext.pool_definition
    ADD COLUMN leak_threshold pg_catalog.interval,
    ADD COLUMN leak_action pg_catalog.text NOT NULL DEFAULT 'report',
    ADD COLUMN leak_reclaim_after pg_catalog.interval NOT NULL DEFAULT '0',
    ADD CONSTRAINT pool_definition_leak_action
        CHECK (leak_action OPERATOR(pg_catalog.=) 'report'
               OR leak_action OPERATOR(pg_catalog.=) 'reclaim');

-- Handles held longer than their pool's leak threshold.  Durations are
-- seconds (double precision).
CREATE FUNCTION pgpool_ext.leak_info(
    OUT handle bigint, OUT pool_name text, OUT partition text,
    OUT holder_pid integer, OUT role text, OUT database text,
    OUT application_name text, OUT client_addr inet, OUT backend_state text,
    OUT acquired_at timestamptz, OUT held_for double precision,
    OUT last_used_at timestamptz, OUT idle_for double precision,
    OUT requests bigint, OUT acquire_query text, OUT acquire_context text,
    OUT remote_in_transaction boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_leak_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.leaks AS
    SELECT * FROM pgpool_ext.leak_info();

-- The last 100 leak events, oldest first.
CREATE FUNCTION pgpool_ext.leak_history_info(
    OUT detected_at timestamptz, OUT handle bigint, OUT pool_name text,
    OUT partition text, OUT holder_pid integer, OUT role text,
    OUT application_name text, OUT acquired_at timestamptz,
    OUT acquire_query text, OUT acquire_context text,
    OUT released_at timestamptz, OUT held_for double precision,
    OUT reclaimed boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_leak_history_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.leak_history AS
    SELECT * FROM pgpool_ext.leak_history_info();

-- As pg_stat_activity: everyone may look, superusers and pg_read_all_stats
-- see every row, other roles only the rows of their own sessions (the
-- functions filter).
GRANT SELECT ON pgpool_ext.leaks, pgpool_ext.leak_history TO PUBLIC;
GRANT EXECUTE ON FUNCTION pgpool_ext.leak_info(), pgpool_ext.leak_history_info()
    TO PUBLIC;
