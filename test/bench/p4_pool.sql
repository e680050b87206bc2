-- P4 (test/bench/run.sh): a pgbench transaction, run() on pool "bench"
SELECT * FROM pgpool_ext.run('bench', 'SELECT 1') AS t(x int);
