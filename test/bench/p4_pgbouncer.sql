-- P4 (test/bench/run.sh): a pgbench transaction, dblink connect, query and
-- disconnect through PgBouncer
SELECT bench_pgbouncer_tx();
