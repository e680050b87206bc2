-- P4 (test/bench/run.sh): a pgbench transaction, run() on pool "bench_tx"
-- (reset_query '')
SELECT * FROM pgpool_ext.run('bench_tx', 'SELECT 1') AS t(x int);
