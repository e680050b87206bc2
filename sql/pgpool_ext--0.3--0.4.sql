/* pgpool_ext--0.3--0.4.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.4'" to load this file. \quit

-- Version 0.4: usage over time, efficiency and sizing advice, the
-- dashboard and the partitions view.  Each part below has its own section.

-- Usage over time: the usage_hourly and usage_by_hour_of_day views
-- (issue 9 item 2).
--
-- One row per pool and slot of pgpool_ext.usage_interval seconds (an hour
-- by default; hour_start is the slot's start whatever its width,
-- interval_s its width) for the pool's last 168 slots, the current one
-- included (its averages over its elapsed part): events counted in the
-- slot, the time-weighted average and the peak of the connections in use
-- and of the backends waiting, the 95th percentile of the waits that ended
-- in it (seconds; NULL when none was recorded).
CREATE FUNCTION pgpool_ext.usage_hourly_info(
    OUT pool_name text, OUT hour_start timestamptz, OUT interval_s integer,
    OUT acquires bigint, OUT waits bigint, OUT timeouts bigint,
    OUT errors bigint, OUT connects bigint, OUT closes bigint,
    OUT avg_in_use double precision, OUT peak_in_use integer,
    OUT avg_waiting double precision, OUT peak_waiting integer,
    OUT wait_p95 double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_usage_hourly_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.usage_hourly AS
    SELECT * FROM pgpool_ext.usage_hourly_info();

-- The same slots folded onto the hour of the day their start falls in (in
-- the session's TimeZone): days is the number of slots folded; counts add,
-- averages are weighted by the time each slot covered, peaks are the
-- highest, wait_p95 is that of all the folded slots' waits.
CREATE FUNCTION pgpool_ext.usage_by_hour_info(
    OUT hour_of_day integer, OUT pool_name text, OUT days bigint,
    OUT acquires bigint, OUT waits bigint, OUT timeouts bigint,
    OUT errors bigint, OUT connects bigint, OUT closes bigint,
    OUT avg_in_use double precision, OUT peak_in_use integer,
    OUT avg_waiting double precision, OUT peak_waiting integer,
    OUT wait_p95 double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_usage_by_hour_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.usage_by_hour_of_day AS
    SELECT * FROM pgpool_ext.usage_by_hour_info();

-- Privileges: as the latency views (superusers and pg_read_all_stats).
REVOKE ALL ON FUNCTION
    pgpool_ext.usage_hourly_info(), pgpool_ext.usage_by_hour_info()
    FROM PUBLIC;
GRANT SELECT ON pgpool_ext.usage_hourly, pgpool_ext.usage_by_hour_of_day
    TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION
    pgpool_ext.usage_hourly_info(), pgpool_ext.usage_by_hour_info()
    TO pg_read_all_stats;

-- Efficiency and sizing advice (issue 9, item 3): the efficiency view and
-- the target_wait pool option.

-- Pool option target_wait (a key of create_pool's / alter_pool's options
-- jsonb): the wait p95 the sizing advice aims at.
ALTER TABLE pgpool_ext.pool_definition
    ADD COLUMN target_wait pg_catalog.interval NOT NULL DEFAULT '10 ms',
    ADD CONSTRAINT pool_definition_target_wait
        CHECK (target_wait OPERATOR(pg_catalog.>=) '1 ms');

-- One row per pool (partition NULL: all its partitions) and per partition,
-- per time_window ('total' since the last reset, '5min' the last five
-- minutes): how well the pool's connections are used, and the smallest
-- max_size that keeps the wait p95 under target_wait (Erlang C).
-- Durations and rates are double precision seconds; NULL where undefined.
CREATE FUNCTION pgpool_ext.efficiency_info(
    OUT pool_name text, OUT partition text, OUT time_window text,
    OUT elapsed double precision, OUT utilization double precision,
    OUT saturation double precision, OUT immediate_ratio double precision,
    OUT reuse double precision, OUT churn_per_hour double precision,
    OUT idle_connection_seconds double precision,
    OUT reset_share double precision, OUT busy_share double precision,
    OUT mean_hold double precision, OUT mean_query double precision,
    OUT arrival_rate double precision, OUT offered_load double precision,
    OUT max_size integer, OUT target_wait double precision,
    OUT wait_p95 double precision, OUT recommended_max_size integer,
    OUT advice text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgpool_ext_efficiency_info'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pgpool_ext.efficiency AS
    SELECT * FROM pgpool_ext.efficiency_info();

-- Privileges as the other statistics views: superusers and
-- pg_read_all_stats (aggregates per pool and partition: no row belongs to
-- a backend).
REVOKE ALL ON FUNCTION pgpool_ext.efficiency_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgpool_ext.efficiency_info() TO pg_read_all_stats;
GRANT SELECT ON pgpool_ext.efficiency TO pg_read_all_stats;

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
