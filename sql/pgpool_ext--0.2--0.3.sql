/* pgpool_ext--0.2--0.3.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.3'" to load this file. \quit

-- Every statistic in one document: 'prometheus' (the text exposition
-- format), 'json' or 'csv'.  Aggregates per pool and partition only (no
-- pid, role or handle), readable like the views: by pg_read_all_stats.
CREATE FUNCTION pgpool_ext.metrics(format text DEFAULT 'prometheus')
RETURNS text
AS 'MODULE_PATHNAME', 'pgpool_ext_metrics'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION pgpool_ext.metrics(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgpool_ext.metrics(text) TO pg_read_all_stats;
