--
-- test/bench/functions.sql
--		The benchmark's cases, as functions of the "local" cluster (after
--		local.sql).  bench_<case>(n) returns microseconds per iteration of
--		its timed loop; bench_measure() times one call with the machine's
--		context switches and CPU meanwhile; the P4 and P5 helpers follow.
--
-- Run by test/bench/run.sh.
--
CREATE FUNCTION bench_us(t0 timestamptz, n int) RETURNS float8
LANGUAGE sql AS $$ SELECT extract(epoch FROM clock_timestamp() - t0) * 1e6 / n $$;

CREATE FUNCTION bench_floor(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r int; t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        r := pg_backend_pid();
    END LOOP;
    RETURN bench_us(t0, n);
END $$;

CREATE FUNCTION bench_B(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r int; t0 timestamptz; us float8;
BEGIN
    PERFORM dblink_connect('c', (SELECT conninfo FROM bench_conninfo WHERE name = 'direct'));
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        SELECT x INTO r FROM dblink('c', 'SELECT 1') AS t(x int);
    END LOOP;
    us := bench_us(t0, n);
    PERFORM dblink_disconnect('c');
    RETURN us;
END $$;

CREATE FUNCTION bench_connect_per_call(n int, target text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE r int; t0 timestamptz; cs text;
BEGIN
    cs := (SELECT conninfo FROM bench_conninfo WHERE name = target);
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        PERFORM dblink_connect('c2', cs);
        SELECT x INTO r FROM dblink('c2', 'SELECT 1') AS t(x int);
        PERFORM dblink_disconnect('c2');
    END LOOP;
    RETURN bench_us(t0, n);
END $$;

CREATE FUNCTION bench_C(n int) RETURNS float8 LANGUAGE sql
AS $$ SELECT bench_connect_per_call(n, 'direct') $$;

CREATE FUNCTION bench_D(n int) RETURNS float8 LANGUAGE sql
AS $$ SELECT bench_connect_per_call(n, 'pgbouncer') $$;

CREATE FUNCTION bench_E(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r int; t0 timestamptz;
BEGIN
    SELECT x INTO r FROM one_ft;        -- connect outside the timed loop
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        SELECT x INTO r FROM one_ft;
    END LOOP;
    RETURN bench_us(t0, n);
END $$;

CREATE FUNCTION bench_P1(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r int; t0 timestamptz; h bigint; us float8;
BEGIN
    h := pgpool_ext.acquire('bench');
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        SELECT x INTO r FROM pgpool_ext.query(h, 'SELECT 1') AS t(x int);
    END LOOP;
    us := bench_us(t0, n);
    PERFORM pgpool_ext.release(h);
    RETURN us;
END $$;

CREATE FUNCTION bench_run(n int, pool text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r int; t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        SELECT x INTO r FROM pgpool_ext.run(pool, 'SELECT 1') AS t(x int);
    END LOOP;
    RETURN bench_us(t0, n);
END $$;

CREATE FUNCTION bench_P2(n int) RETURNS float8 LANGUAGE sql
AS $$ SELECT bench_run(n, 'bench') $$;

CREATE FUNCTION bench_P2t(n int) RETURNS float8 LANGUAGE sql
AS $$ SELECT bench_run(n, 'bench_tx') $$;

-- release() returns void: assigned to a text variable, it is evaluated the
-- way the floor's pg_backend_pid() is.
CREATE FUNCTION bench_P3(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; h bigint; v text;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        h := pgpool_ext.acquire('bench');
        v := pgpool_ext.release(h);
    END LOOP;
    RETURN bench_us(t0, n);
END $$;

-- T1, T3: what pgpool_ext.track_timing costs.  bench_timing('P1' or 'P3',
-- n, blocks) runs blocks pairs of n iterations of the case in this session,
-- one with track_timing on and one with it off, in the order on/off, then
-- off/on, and so on (so that a drift of the machine hits both settings
-- alike), and returns the median block of each setting, microseconds per
-- iteration, and the median of the ratios on/off of the pairs (each pair
-- ran within a few milliseconds: the estimate least moved by the machine's
-- noise).  The loops are P1's and P3's, but P1's handle is held across all
-- the blocks: a block of its own would start with the reset of the previous
-- block's connection.
CREATE FUNCTION bench_timing(c text, n int, blocks int,
    OUT on_us float8, OUT off_us float8, OUT ratio float8)
LANGUAGE plpgsql AS $$
DECLARE
    ons float8[] := '{}'; offs float8[] := '{}'; s text;
    t0 timestamptz; t float8; h bigint; h2 bigint; r int; v text;
BEGIN
    IF c = 'P1' THEN
        h := pgpool_ext.acquire('bench');
    END IF;
    FOR b IN 1..blocks LOOP
        FOREACH s IN ARRAY CASE WHEN b % 2 = 1 THEN ARRAY['on', 'off']
                                ELSE ARRAY['off', 'on'] END LOOP
            PERFORM set_config('pgpool_ext.track_timing', s, false);
            t0 := clock_timestamp();
            IF c = 'P1' THEN
                FOR i IN 1..n LOOP
                    SELECT x INTO r FROM pgpool_ext.query(h, 'SELECT 1') AS q(x int);
                END LOOP;
            ELSE
                FOR i IN 1..n LOOP
                    h2 := pgpool_ext.acquire('bench');
                    v := pgpool_ext.release(h2);
                END LOOP;
            END IF;
            t := bench_us(t0, n);
            IF s = 'on' THEN ons := ons || t; ELSE offs := offs || t; END IF;
        END LOOP;
    END LOOP;
    IF c = 'P1' THEN
        PERFORM pgpool_ext.release(h);
    END IF;
    PERFORM set_config('pgpool_ext.track_timing', 'on', false);
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) INTO on_us FROM unnest(ons) x;
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) INTO off_us FROM unnest(offs) x;
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a / b) INTO ratio
      FROM unnest(ons, offs) AS p(a, b);
END $$;

-- What the whole machine did meanwhile, from /proc/stat: context switches
-- and busy CPU time in clock ticks (user, nice, system, irq, softirq, steal).
CREATE FUNCTION bench_machine(OUT ctxt bigint, OUT busy bigint) LANGUAGE sql AS $$
    WITH f AS (SELECT pg_read_file('/proc/stat') AS s),
         c AS (SELECT s, regexp_split_to_array((regexp_match(s, '^cpu +([0-9 ]+)'))[1],
                                               ' +')::bigint[] AS a FROM f)
    SELECT (regexp_match(s, E'\nctxt (\\d+)'))[1]::bigint,
           a[1] + a[2] + a[3] + a[6] + a[7] + a[8]
      FROM c
$$;

-- One timed call of bench_<c>(n): microseconds per iteration, and the
-- machine's context switches and CPU microseconds per iteration meanwhile.
CREATE FUNCTION bench_measure(c text, n int, hz int,
    OUT us float8, OUT cs float8, OUT cpu float8)
LANGUAGE plpgsql AS $$
DECLARE m0 record; m1 record;
BEGIN
    SELECT * INTO m0 FROM bench_machine();
    EXECUTE format('SELECT bench_%s($1)', c) INTO us USING n;
    SELECT * INTO m1 FROM bench_machine();
    cs := (m1.ctxt - m0.ctxt)::float8 / n;
    cpu := (m1.busy - m0.busy) * 1e6 / hz / n;
END $$;

-- P4, dblink persistent: the pgbench client's session opens its dblink
-- connection on its first transaction and keeps it.
CREATE FUNCTION bench_dblink_conn() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF NOT coalesce('c' = ANY (dblink_get_connections()), false) THEN
        PERFORM dblink_connect('c', (SELECT conninfo FROM bench_conninfo WHERE name = 'direct'));
    END IF;
    RETURN 'c';
END $$;

-- P4, through PgBouncer: connect, query, disconnect per transaction.
CREATE FUNCTION bench_pgbouncer_tx() RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
    PERFORM dblink_connect('p', (SELECT conninfo FROM bench_conninfo WHERE name = 'pgbouncer'));
    SELECT x INTO r FROM dblink('p', 'SELECT 1') AS t(x int);
    PERFORM dblink_disconnect('p');
    RETURN r;
END $$;

-- P5: peak RSS (VmHWM, kB) of a process of this server
CREATE FUNCTION bench_vmhwm(pid int) RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/' || pid || '/status'),
                         'VmHWM:\s+(\d+) kB'))[1]::bigint
$$;

CREATE FUNCTION bench_p5(method text, nrows int,
    OUT secs float8, OUT rows_got bigint,
    OUT backend_before bigint, OUT backend_after bigint,
    OUT worker_before bigint, OUT worker_after bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz; h bigint; wpid int;
    q text := format('SELECT i, md5(i::text) FROM generate_series(1, %s) AS i', nrows);
BEGIN
    SELECT pid INTO wpid FROM pg_stat_activity WHERE backend_type = 'pgpool_ext worker';
    IF method = 'pool' THEN
        h := pgpool_ext.acquire('bench');
    ELSE
        PERFORM dblink_connect('p5', (SELECT conninfo FROM bench_conninfo WHERE name = 'direct'));
    END IF;
    backend_before := bench_vmhwm(pg_backend_pid());
    worker_before := bench_vmhwm(wpid);
    t0 := clock_timestamp();
    IF method = 'pool' THEN
        SELECT count(*) INTO rows_got FROM pgpool_ext.query(h, q) AS t(i int, s text);
    ELSE
        SELECT count(*) INTO rows_got FROM dblink('p5', q) AS t(i int, s text);
    END IF;
    secs := extract(epoch FROM clock_timestamp() - t0);
    backend_after := bench_vmhwm(pg_backend_pid());
    worker_after := bench_vmhwm(wpid);
    IF method = 'pool' THEN
        PERFORM pgpool_ext.release(h);
    ELSE
        PERFORM dblink_disconnect('p5');
    END IF;
END $$;
