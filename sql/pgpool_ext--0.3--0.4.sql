/* pgpool_ext--0.3--0.4.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.4'" to load this file. \quit

-- Version 0.4: usage over time, efficiency and sizing advice, the
-- dashboard and the partitions view.  Each part below has its own section.

-- Dashboard: dashboard() (every pool in one jsonb document for UIs) and
-- the partitions view (issue 9, items 6 and 7).

-- One document: per pool its definition (password masked), connections by
-- state, waiting, recent percentiles, efficiency, partitions, the ten
-- oldest waiters, leaked handles, the last 60 minutes of usage.  Its keys
-- are documented in the README; "version" changes when one changes.
CREATE FUNCTION pgpool_ext.dashboard()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgpool_ext_dashboard'
LANGUAGE C STRICT VOLATILE;

-- One row per partition of every pool ('' is the default partition):
-- connections by state, waiters, acquires, waits and timeouts since the
-- last reset, and the wait percentiles of the last five minutes (seconds).
CREATE FUNCTION pgpool_ext.partition_info(
    OUT pool_name text, OUT partition text,
    OUT total integer, OUT idle integer, OUT in_use integer,
    OUT busy integer, OUT connecting integer, OUT resetting integer,
    OUT waiting integer,
    OUT acquires bigint, OUT waits bigint, OUT timeouts bigint,
    OUT wait_p50 double precision, OUT wait_p95 double precision,
    OUT wait_p99 double precision, OUT max_wait double precision,
    OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_partition_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.partitions AS
    SELECT * FROM pgpool_ext.partition_info();

-- Privileges: the rule of the views (superusers and pg_read_all_stats).
REVOKE ALL ON FUNCTION pgpool_ext.dashboard(), pgpool_ext.partition_info()
    FROM PUBLIC;
GRANT SELECT ON pgpool_ext.partitions TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION pgpool_ext.dashboard(), pgpool_ext.partition_info()
    TO pg_read_all_stats;
