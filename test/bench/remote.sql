--
-- test/bench/remote.sql
--		The benchmark's "remote" cluster: role bench (password :pw), the
--		one-row table every case reads, and bench_sample(), which counts the
--		remote connections of each system during a pgbench run.
--
-- Run by test/bench/run.sh with psql -v pw=PASSWORD, as postgres.
--
CREATE ROLE bench LOGIN PASSWORD :'pw';
CREATE TABLE one (x int);
INSERT INTO one VALUES (1);
GRANT SELECT ON one TO bench;
ANALYZE one;

-- Remote connections are told apart by application_name: the pool's
-- (bench_pool, bench_pool_tx), dblink's direct ones (bench_dblink),
-- postgres_fdw's (bench_fdw); everything else of user bench is PgBouncer's.
-- bench_sample(secs) returns the most of each seen at once, sampled every
-- 50 ms: "pool pool_tx dblink pgbouncer".
CREATE FUNCTION bench_sample(secs float8) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t_end timestamptz := clock_timestamp() + secs * interval '1 second';
    mp int := 0; mt int := 0; md int := 0; mb int := 0; p int; t int; d int; b int;
BEGIN
    WHILE clock_timestamp() < t_end LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) FILTER (WHERE application_name = 'bench_pool'),
               count(*) FILTER (WHERE application_name = 'bench_pool_tx'),
               count(*) FILTER (WHERE application_name = 'bench_dblink'),
               count(*) FILTER (WHERE application_name IS DISTINCT FROM 'bench_pool'
                                  AND application_name IS DISTINCT FROM 'bench_dblink'
                                  AND application_name IS DISTINCT FROM 'bench_fdw'
                                  AND application_name IS DISTINCT FROM 'bench_pool_tx')
          INTO p, t, d, b
          FROM pg_stat_activity
         WHERE usename = 'bench' AND pid <> pg_backend_pid();
        mp := greatest(mp, p); mt := greatest(mt, t);
        md := greatest(md, d); mb := greatest(mb, b);
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN format('%s %s %s %s', mp, mt, md, mb);
END
$$;
