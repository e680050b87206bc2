-- P4 (test/bench/run.sh): a pgbench transaction, dblink on the client's
-- persistent connection (opened by its first transaction)
SELECT * FROM dblink(bench_dblink_conn(), 'SELECT 1') AS t(x int);
