/* pgpool_ext--0.3--0.4.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.4'" to load this file. \quit

-- Version 0.4: usage over time, efficiency and sizing advice, the
-- dashboard and the partitions view.  Each part below has its own section.
