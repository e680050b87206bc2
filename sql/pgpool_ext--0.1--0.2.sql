/* pgpool_ext--0.1--0.2.sql: upgrade script */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgpool_ext UPDATE TO '0.2'" to load this file. \quit

-- Roles are stored by name, not as regrole: a dump restored into a cluster
-- that lacks one role keeps every row (the pool worker skips, with a
-- WARNING, what names a missing role: see pgpool_ext.missing_roles below),
-- and no row holds an OID that a dropped role would leave dangling.
--
-- Existing rows are converted in place.  A role that no longer exists gets
-- the name pg_get_userbyid() gives it ("unknown (OID=n)"), which matches no
-- role and is reported like any other missing role.  PUBLIC (OID 0 in 0.1)
-- becomes 'public', a name no role can have.
ALTER TABLE pgpool_ext.pool_definition
    ALTER COLUMN owner SET DATA TYPE pg_catalog.text
    USING pg_catalog.pg_get_userbyid(owner::pg_catalog.oid)::pg_catalog.text;

ALTER TABLE pgpool_ext.pool_usage
    ALTER COLUMN role SET DATA TYPE pg_catalog.text
    USING CASE WHEN role::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
               THEN 'public'::pg_catalog.text
               ELSE pg_catalog.pg_get_userbyid(role::pg_catalog.oid)::pg_catalog.text
          END;

-- What the pool worker can hold (PGPOOL_CONNINFO_LEN, PGPOOL_RESET_LEN and
-- PGPOOL_NAME_LEN in src/shmem.h, each with its terminating zero).  Table
-- constraints, so direct INSERT, UPDATE, COPY and pg_restore are held to
-- them too; the worker still refuses, with a WARNING, any row beyond them.
-- A row of 0.1 beyond them stops the upgrade, naming its pool.
DO $$
DECLARE
    bad pg_catalog.text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(pool_name), ', ')
      INTO bad
      FROM pgpool_ext.pool_definition
     WHERE pg_catalog.octet_length(conninfo) OPERATOR(pg_catalog.>=) 1024
        OR pg_catalog.octet_length(reset_query) OPERATOR(pg_catalog.>=) 512
        OR pg_catalog.octet_length(pool_name) OPERATOR(pg_catalog.>) 63
        OR pg_catalog.octet_length(pool_name) OPERATOR(pg_catalog.<) 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = 'pgpool_ext 0.2 cannot hold the definitions of pools: ' || bad,
            DETAIL = 'A conninfo must be shorter than 1024 bytes, a reset_query shorter than 512 bytes, a pool name 1 to 63 bytes long.',
            HINT = 'Shorten or delete those definitions in pgpool_ext.pool_definition, then update again.';
    END IF;
END
$$;

ALTER TABLE pgpool_ext.pool_definition
    ADD CONSTRAINT pool_definition_conninfo_length
        CHECK (pg_catalog.octet_length(conninfo) OPERATOR(pg_catalog.<) 1024),
    ADD CONSTRAINT pool_definition_reset_query_length
        CHECK (pg_catalog.octet_length(reset_query) OPERATOR(pg_catalog.<) 512),
    ADD CONSTRAINT pool_definition_pool_name_length
        CHECK (pg_catalog.octet_length(pool_name) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(pool_name) OPERATOR(pg_catalog.<=) 63);

-- Both tables stay configuration tables: pg_dump dumps their rows.
SELECT pg_catalog.pg_extension_config_dump('pgpool_ext.pool_definition', '');
SELECT pg_catalog.pg_extension_config_dump('pgpool_ext.pool_usage', '');

-- Definitions the pool worker skips because a role they name does not
-- exist (after a restore into a cluster that lacks it, say): a pool whose
-- owner is missing is not loaded, a grant to a missing role is not applied.
-- The worker also logs a WARNING for each at every load.
CREATE VIEW pgpool_ext.missing_roles AS
    SELECT d.pool_name, d.owner AS role, 'owner'::pg_catalog.text AS used_as,
           'pool not loaded'::pg_catalog.text AS effect
      FROM pgpool_ext.pool_definition d
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                        WHERE r.rolname OPERATOR(pg_catalog.=) d.owner)
    UNION ALL
    SELECT u.pool_name, u.role, 'usage'::pg_catalog.text,
           'grant skipped'::pg_catalog.text
      FROM pgpool_ext.pool_usage u
     WHERE u.role OPERATOR(pg_catalog.<>) 'public'
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                        WHERE r.rolname OPERATOR(pg_catalog.=) u.role);

-- It reads the definition tables as its owner: not for everyone.
REVOKE ALL ON pgpool_ext.missing_roles FROM PUBLIC;
GRANT SELECT ON pgpool_ext.missing_roles TO pg_read_all_stats;
