--
-- test/bench/local.sql
--		The benchmark's "local" cluster (pgpool_ext preloaded): the
--		extensions, the conninfo of each remote path, the postgres_fdw
--		foreign table, and the pools "bench" and "bench_tx" (reset_query '').
--
-- Run by test/bench/run.sh with psql variables direct, pgb (conninfo
-- direct to remote and through PgBouncer), pool (the pools' conninfo),
-- rport (remote's port) and pw (bench's password).
--
CREATE EXTENSION pgpool_ext;
CREATE EXTENSION dblink;
CREATE EXTENSION postgres_fdw;
CREATE TABLE bench_conninfo (name text PRIMARY KEY, conninfo text NOT NULL);
INSERT INTO bench_conninfo VALUES ('direct', :'direct'), ('pgbouncer', :'pgb');
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port :'rport', dbname 'postgres',
             application_name 'bench_fdw');
CREATE USER MAPPING FOR postgres SERVER remote
    OPTIONS (user 'bench', password :'pw');
CREATE FOREIGN TABLE one_ft (x int) SERVER remote
    OPTIONS (schema_name 'public', table_name 'one');
SELECT pgpool_ext.create_pool('bench', :'pool', min_size => 1, max_size => 8);
SELECT pgpool_ext.create_pool('bench_tx', :'pool' || ' application_name=bench_pool_tx',
                              min_size => 1, max_size => 8,
                              reset_query => '');
