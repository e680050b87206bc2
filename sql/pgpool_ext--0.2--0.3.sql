/* pgpool_ext--0.2--0.3.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.3'" to load this file. \quit

-- Latency: how long acquires wait, handles are held and remote requests
-- take, per pool and per partition, since the last reset and over the
-- last five minutes.  Every duration is double precision seconds.

-- The pools view gains the recent wait percentiles and the age of the
-- oldest waiter.  A new C symbol for the new shape (pg_stat_statements'
-- way): the library still serves the 0.2 definition until this update.
DROP VIEW pgpool_ext.pools;
DROP FUNCTION pgpool_ext.pool_info();

CREATE FUNCTION pgpool_ext.pool_info(
    OUT pool_name text, OUT conninfo text, OUT min_size integer,
    OUT max_size integer, OUT initial_size integer,
    OUT idle_timeout_s integer, OUT connect_timeout_s integer,
    OUT reset_query text, OUT password_required boolean,
    OUT total integer, OUT idle integer, OUT in_use integer,
    OUT connecting integer, OUT waiting integer,
    OUT acquires bigint, OUT waits bigint, OUT timeouts bigint,
    OUT connects bigint, OUT connect_failures bigint, OUT closes bigint,
    OUT last_connect_error text, OUT stats_reset timestamptz,
    OUT wait_p50 double precision, OUT wait_p95 double precision,
    OUT wait_p99 double precision, OUT max_wait double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_pool_info_0_3'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.pools AS
    SELECT pool_name, conninfo, min_size, max_size, initial_size,
           make_interval(secs => idle_timeout_s) AS idle_timeout,
           make_interval(secs => connect_timeout_s) AS connect_timeout,
           reset_query, password_required,
           total, idle, in_use, connecting, waiting,
           acquires, waits, timeouts, connects, connect_failures, closes,
           last_connect_error, stats_reset,
           wait_p50, wait_p95, wait_p99, max_wait
      FROM pgpool_ext.pool_info();

-- One row per pool (partition NULL: all its partitions merged) and per
-- partition ('' is the default), per kind ('wait', 'hold', 'query') and
-- per time_window ('total' since the last reset, '5min' the last five
-- minutes).  timeouts and cancels are waits that ended without a grant
-- (counted in count too); errors are requests that ended in an error.
CREATE FUNCTION pgpool_ext.latency_info(
    OUT pool_name text, OUT partition text, OUT kind text,
    OUT time_window text, OUT count bigint,
    OUT mean double precision, OUT p50 double precision,
    OUT p90 double precision, OUT p95 double precision,
    OUT p99 double precision, OUT p999 double precision,
    OUT max double precision,
    OUT timeouts bigint, OUT cancels bigint, OUT errors bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_latency_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.latency AS
    SELECT * FROM pgpool_ext.latency_info();

-- The non-empty buckets of the same distributions, bounds in seconds.
CREATE FUNCTION pgpool_ext.histogram_info(
    OUT pool_name text, OUT partition text, OUT kind text,
    OUT time_window text, OUT lower double precision,
    OUT upper double precision, OUT count bigint, OUT cumulative bigint,
    OUT bar text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_histogram_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.histogram AS
    SELECT * FROM pgpool_ext.histogram_info();

-- Zero the counters and distributions of one pool (NULL: of every pool).
CREATE FUNCTION pgpool_ext.reset_stats(pool text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pgpool_ext_reset_stats'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Privileges: the views as the others (superusers and pg_read_all_stats);
-- resetting is a write: superusers only unless granted
-- (pg_stat_statements_reset's rule).
REVOKE ALL ON FUNCTION
    pgpool_ext.pool_info(), pgpool_ext.latency_info(),
    pgpool_ext.histogram_info(), pgpool_ext.reset_stats(text)
    FROM PUBLIC;
GRANT SELECT ON pgpool_ext.pools, pgpool_ext.latency, pgpool_ext.histogram
    TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION
    pgpool_ext.pool_info(), pgpool_ext.latency_info(),
    pgpool_ext.histogram_info()
    TO pg_read_all_stats;

-- Every statistic in one document: 'prometheus' (the text exposition
-- format), 'json' or 'csv'.  Aggregates per pool and partition only (no
-- pid, role or handle), readable like the views: by pg_read_all_stats.
CREATE FUNCTION pgpool_ext.metrics(format text DEFAULT 'prometheus')
RETURNS text
AS 'MODULE_PATHNAME', 'pgpool_ext_metrics'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION pgpool_ext.metrics(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgpool_ext.metrics(text) TO pg_read_all_stats;

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
