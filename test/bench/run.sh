#!/usr/bin/env bash
#
# test/bench/run.sh
#		The benchmark: pgpool_ext against dblink, dblink through PgBouncer
#		and postgres_fdw, on throw-away local clusters.
#
# Usage, as root on Debian 12 with PostgreSQL 15 ("sudo test/bench/run.sh"),
# from any directory:
#
#     test/bench/run.sh                  # full run, about 9 minutes on 2 CPUs
#     BENCH_QUICK=1 test/bench/run.sh    # about 2 minutes, fewer iterations
#
# It
#
#  1. runs test/setup.sh (packages, build and install of the extension) and
#     installs pgbouncer with apt-get if it is missing;
#  2. starts, as postgres in a temporary directory, on loopback only: a
#     "remote" cluster (role bench with a scram-sha-256 password, a one-row
#     table), a "local" cluster with pgpool_ext preloaded
#     (pgpool_ext.database = postgres), and PgBouncer in transaction mode
#     (default_pool_size 8) in front of remote, authenticating user bench
#     with scram-sha-256 from an auth_file;
#  3. on local creates dblink, postgres_fdw (a foreign table on the one-row
#     table) and a pool "bench" (min_size 1, max_size 8) to remote, every
#     remote login being bench with its password over TCP;
#  4. runs the cases below, interleaved, each repetition in a fresh session;
#  5. prints the table, writes it to $BENCH_OUT, and stops everything it
#     started (also on error or ^C).
#
# Cases (latencies are timed inside PL/pgSQL with clock_timestamp(), so no
# client round trip is counted; each is the median of the repetitions, with
# min-max, and a ratio to its anchor measured in the same run):
#
#   floor  r := pg_backend_pid() in a PL/pgSQL loop
#   B      dblink('c', 'SELECT 1') on a persistent named connection
#   C      dblink_connect + dblink + dblink_disconnect per call, direct
#   D      the same through PgBouncer
#   E      SELECT from a one-row postgres_fdw foreign table
#   P1     pgpool_ext.query(h, 'SELECT 1') on a held handle     <= 1.25 x B
#   P2     pgpool_ext.run('bench', 'SELECT 1')                  <= 1.3 x B, <= 0.25 x D
#   P2t    the same on a pool with reset_query => '' (no DISCARD ALL after
#          each use, as PgBouncer's transaction pooling): what the reset costs
#   P3     acquire + release, an idle connection available      <= 1.5 x (2 x floor)
#          (both called as PL/pgSQL expressions, as the floor's function is:
#          PERFORM would add the executor start-up of a whole query to each)
#   P4     pgbench -c 1/8/32: run() on the pool (max 8), and on the pool
#          with reset_query '' (max 8), vs dblink persistent
#          (one remote connection per client, opened once) vs dblink
#          connect+query+disconnect through PgBouncer; tps and the most
#          remote connections each held (sampled on remote every 50 ms)
#          target at 32 clients: pool tps >= dblink tps, pool <= 8 conns;
#          also the machine's CPU time per transaction (from /proc/stat), to
#          show what a CPU-bound run spends where
#   P5     1,000,000 rows (int, text) through query() vs dblink: time, and
#          peak RSS growth (VmHWM) of the local backend (a fresh one each
#          time) and of the pool worker (its VmHWM reset through
#          /proc/PID/clear_refs before each run)
#          target: time <= 1.1 x dblink, growth <= 16 MiB each
#
# Targets are reported as PASS or MISS; a MISS never fails the script (it
# exits non-zero only if the benchmark itself could not run).  A case whose
# repetition fails (an SQL error, or pgbench clients aborted) is still
# reported, from the repetitions that succeeded, with its target marked ERR
# (not met) and the first error message listed under "errors"; the table
# ends with the raw value of every repetition.  The machine, the load
# average at start and end, and the versions are in the header: the numbers
# mean little on a machine that is busy with something else.
#
# Environment:
#   BENCH_QUICK=1    shorter run (a fifth of the iterations, pgbench -T 2,
#                    200,000 rows)
#   BENCH_OUT        result file (default /tmp/pgpool_bench/results.txt); a
#                    dated copy, <name>-YYYYmmdd-HHMMSS.txt, is written
#                    beside it.  Nothing is written into the source tree
#                    except by the build that test/setup.sh runs.
#   BENCH_REPS       repetitions per case (default 3, at least 3)
#   BENCH_PGBENCH_T  seconds per pgbench run (default 10, quick 2)
#   BENCH_ROWS       rows for P5 (default 1000000, quick 200000)
#   BENCH_PORT       first TCP port tried (default 55432); three are used
#   BENCH_KEEP=1     keep the temporary directory (servers stopped)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTDIR=$(cd "$HERE/.." && pwd)
ROOT=$(cd "$TESTDIR/.." && pwd)
LOG_TAG=bench
# shellcheck source=test/lib.sh
. "$TESTDIR/lib.sh"

QUICK=${BENCH_QUICK:-0}
OUT=${BENCH_OUT:-/tmp/pgpool_bench/results.txt}
REPS=${BENCH_REPS:-3}
[ "$REPS" -ge 3 ] 2>/dev/null || REPS=3
FIRST_PORT=${BENCH_PORT:-55432}
BENCH_PASSWORD=bench-secret

# Iterations per timed call, chosen so that one call takes about a second
# on a small machine; BENCH_QUICK divides them by 5.
declare -A ITER=(
	[floor]=2000000 [B]=20000 [C]=300 [D]=500 [E]=10000
	[P1]=20000 [P2]=20000 [P2t]=20000 [P3]=200000
)
if [ "$QUICK" = 1 ]; then
	for k in "${!ITER[@]}"; do
		ITER[$k]=$((ITER[$k] / 5))
	done
	PGBENCH_T=${BENCH_PGBENCH_T:-2}
	ROWS=${BENCH_ROWS:-200000}
	MODE=quick
else
	PGBENCH_T=${BENCH_PGBENCH_T:-10}
	ROWS=${BENCH_ROWS:-1000000}
	MODE=full
fi
CASES=(floor B C D E P1 P2 P2t P3)
CLIENTS=(1 8 32)
SYSTEMS=(pool pool_tx dblink pgbouncer)

require_root
save_stdio

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

###########################################################################
# Packages and build

"$TESTDIR/setup.sh"

# The revision just built (taken now: the tree may change during the run).
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	rev="$rev (+ uncommitted changes)"
fi

PGBOUNCER=$(command -v pgbouncer || true)
[ -n "$PGBOUNCER" ] || PGBOUNCER=/usr/sbin/pgbouncer
if [ ! -x "$PGBOUNCER" ]; then
	log "installing pgbouncer"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the package from starting its own system-wide daemon: we run
	# our own instance and must not leave one behind.
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	rc=0
	{ apt-get update -q && apt-get install -y -q pgbouncer; } || rc=$?
	[ "$made_policy" -eq 0 ] || rm -f /usr/sbin/policy-rc.d
	[ "$rc" -eq 0 ] || die "could not install pgbouncer"
	PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
fi
[ -x "$PGBOUNCER" ] || die "pgbouncer not found"
[ -f /usr/share/postgresql/15/extension/postgres_fdw.control ] ||
	die "postgres_fdw is not installed"

###########################################################################
# Work directory and cleanup

WORK=$(make_pg_tmpdir pgpool_ext_bench)
REMOTE=$WORK/remote
LOCAL=$WORK/local
PGB_DIR=$WORK/pgbouncer
REPORT=$WORK/report.txt
BG_PIDS=()

# shellcheck disable=SC2317
cleanup()
{
	local rc=$? pid f i

	restore_stdio
	trap - EXIT INT TERM
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if [ -f "$PGB_DIR/pgbouncer.pid" ]; then
		pid=$(cat "$PGB_DIR/pgbouncer.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			log "stopping pgbouncer"
			kill -INT "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.2
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	if [ "$rc" -ne 0 ]; then
		for f in "$LOCAL.log" "$REMOTE.log" "$PGB_DIR/pgbouncer.log"; do
			[ -s "$f" ] || continue
			banner "$(basename "$f") (last 30 lines)"
			tail -n 30 "$f"
		done
	fi
	finish_local_remote "$rc" "${BENCH_KEEP:-0}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Statistics and formatting helpers.

# stats V...: "median min max" of numbers
stats()
{
	printf '%s\n' "$@" | sort -g | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "ERR ERR ERR"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			print m, a[1], a[NR]
		}'
}

# num V: a number with 3 or 4 significant digits
num()
{
	awk -v v="$1" 'BEGIN {
		if (v !~ /^-?[0-9]/) { printf "%s", (v == "" ? "-" : v); exit }
		a = (v < 0) ? -v : v
		if (a < 1) printf "%.3f", v
		else if (a < 10) printf "%.2f", v
		else if (a < 1000) printf "%.1f", v
		else printf "%.0f", v }'
}

# ratio VALUE SUFFIX: "VALUE SUFFIX" with VALUE formatted, or - without a
# number
ratio()
{
	case $1 in
	[0-9]* | -[0-9]*) printf '%s %s' "$(num "$1")" "$2" ;;
	*) printf -- - ;;
	esac
}

# range MIN MAX: "MIN-MAX", or - without numbers
range()
{
	case $1 in
	[0-9]*) printf '%s-%s' "$(num "$1")" "$(num "$2")" ;;
	*) printf -- - ;;
	esac
}

# calc A B OP: A OP B (OP one of + - * /); ERR if an operand is missing or
# not a number, or on a division by zero
calc()
{
	awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN {
		n = "^-?[0-9]+([.][0-9]*)?([eE][-+]?[0-9]+)?$"
		if (a !~ n || b !~ n) { print "ERR"; exit }
		if (op == "/") { if (b + 0 == 0) print "ERR"; else print a / b }
		else if (op == "*") print a * b
		else if (op == "-") print a - b
		else print a + b }'
}

# verdict VALUE LIMIT [ge]: PASS if VALUE <= LIMIT (>= with ge)
verdict()
{
	awk -v a="$1" -v b="$2" -v op="${3:-le}" 'BEGIN {
		n = "^-?[0-9]+([.][0-9]*)?([eE][-+]?[0-9]+)?$"
		if (a !~ n || b !~ n) { print "MISS"; exit }
		ok = (op == "ge") ? (a >= b) : (a <= b)
		print ok ? "PASS" : "MISS" }'
}

# first_error FILE: the first ERROR line of a psql or pgbench error output
first_error()
{
	{ grep -m 1 'ERROR' "$1" || head -n 1 "$1"; } 2>/dev/null |
		sed 's/^.*ERROR: *//; s/^psql:[^:]*:[0-9]*: //'
}

# report FORMAT [ARG...]: append to the report
report()
{
	# shellcheck disable=SC2059
	printf "$@" >>"$REPORT"
}

###########################################################################
banner "clusters and pgbouncer"

REMOTE_PORT=$(find_free_port "$FIRST_PORT")
LOCAL_PORT=$(find_free_port $((REMOTE_PORT + 1)) "$REMOTE_PORT")
PGB_PORT=$(find_free_port $((LOCAL_PORT + 1)) "$REMOTE_PORT" "$LOCAL_PORT")
log "directory $WORK"
log "remote: port $REMOTE_PORT, local: port $LOCAL_PORT, pgbouncer: port $PGB_PORT"

start_local_remote \
	"# 32 dblink clients + 8 pool + 8 pgbouncer + some
max_connections = 150" \
	"# 32 pgbench clients, the pool worker and a few sessions of this script
max_connections = 64"

remote_psql <<EOF
CREATE ROLE bench LOGIN PASSWORD '$BENCH_PASSWORD';
CREATE TABLE one (x int);
INSERT INTO one VALUES (1);
GRANT SELECT ON one TO bench;
ANALYZE one;
EOF

# Remote connections are told apart on remote by application_name: the
# pool's (bench_pool), dblink's direct ones (bench_dblink), postgres_fdw's
# (bench_fdw); everything else of user bench is PgBouncer's.
remote_psql <<'EOF'
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
EOF

# PgBouncer: transaction pooling, 8 server connections per pool, scram
# between the client and PgBouncer and between PgBouncer and remote (the
# auth_file holds the password in clear so that PgBouncer can log in).
mkdir -p "$PGB_DIR"
cat >"$PGB_DIR/userlist.txt" <<EOF
"bench" "$BENCH_PASSWORD"
EOF
cat >"$PGB_DIR/pgbouncer.ini" <<EOF
[databases]
postgres = host=127.0.0.1 port=$REMOTE_PORT dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PGB_DIR/userlist.txt
pool_mode = transaction
default_pool_size = 8
max_client_conn = 200
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_DIR/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
chown -R "$PG_OS_USER:" "$PGB_DIR"
chmod 0600 "$PGB_DIR/userlist.txt"
log "starting pgbouncer"
as_postgres "$PGBOUNCER" -d -q "$PGB_DIR/pgbouncer.ini" ||
	die "could not start pgbouncer"
for ((i = 0; i < 50; i++)); do
	! port_is_free "$PGB_PORT" && break
	sleep 0.2
done

DIRECT_CONN="host=127.0.0.1 port=$REMOTE_PORT dbname=postgres user=bench password=$BENCH_PASSWORD application_name=bench_dblink"
PGB_CONN="host=127.0.0.1 port=$PGB_PORT dbname=postgres user=bench password=$BENCH_PASSWORD application_name=bench_pgbouncer"
POOL_CONN="host=127.0.0.1 port=$REMOTE_PORT dbname=postgres user=bench password=$BENCH_PASSWORD application_name=bench_pool"

as_postgres "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$PGB_CONN" \
	-c "SELECT 'pgbouncer -> remote as ' || current_user" ||
	die "cannot log in through pgbouncer"

###########################################################################
banner "local: extensions, pool, benchmark functions"

local_psql -v direct="$DIRECT_CONN" -v pgb="$PGB_CONN" -v pool="$POOL_CONN" \
	-v rport="$REMOTE_PORT" -v pw="$BENCH_PASSWORD" <<'EOF'
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
EOF

# Each function returns microseconds per iteration of its timed loop.
local_psql <<'EOF'
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
EOF

# pgbench scripts for P4
cat >"$WORK/p4_pool.sql" <<'EOF'
SELECT * FROM pgpool_ext.run('bench', 'SELECT 1') AS t(x int);
EOF
cat >"$WORK/p4_pool_tx.sql" <<'EOF'
SELECT * FROM pgpool_ext.run('bench_tx', 'SELECT 1') AS t(x int);
EOF
cat >"$WORK/p4_dblink.sql" <<'EOF'
SELECT * FROM dblink(bench_dblink_conn(), 'SELECT 1') AS t(x int);
EOF
cat >"$WORK/p4_pgbouncer.sql" <<'EOF'
SELECT bench_pgbouncer_tx();
EOF
chown "$PG_OS_USER:" "$WORK"/p4_*.sql

# Wait for the pools' first connections (min_size 1).
for ((i = 0; i < 100; i++)); do
	idle=$(local_psql -At -c "SELECT min(idle) FROM pgpool_ext.pools WHERE pool_name LIKE 'bench%'")
	[ "${idle:-0}" -ge 1 ] && break
	sleep 0.2
done
[ "${idle:-0}" -ge 1 ] ||
	die "the pool has no idle connection: $(local_psql -At -c 'SELECT last_connect_error FROM pgpool_ext.pools')"
log "pool bench ready"

WORKER_PID=$(local_psql -At -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pgpool_ext worker'")
[ -n "$WORKER_PID" ] || die "pool worker not found in pg_stat_activity"

###########################################################################
banner "per-call cases ($MODE, $REPS repetitions)"

declare -A RAW=() ERRS=() ERRMSG=()
for c in "${CASES[@]}"; do RAW[$c]=""; ERRS[$c]=0; done

# Each repetition of each case runs in a fresh session: one untimed warm-up
# call of a tenth of the iterations, then the timed call, with the machine's
# context switches and CPU time per call meanwhile.
HZ=$(getconf CLK_TCK)
declare -A CSW=() CPUC=()
for ((rep = 1; rep <= REPS; rep++)); do
	for c in "${CASES[@]}"; do
		n=${ITER[$c]}
		w=$((n / 10 > 0 ? n / 10 : 1))
		if row=$(local_psql -At -F ' ' -c "SELECT bench_$c($w)" \
			-c "SELECT * FROM bench_measure('$c', $n, $HZ)" 2>"$WORK/case.err" | tail -n 1) &&
			read -r v cs cpu <<<"$row" && [ -n "$v" ]; then
			RAW[$c]+="$v "
			CSW[$c]+="$cs "
			CPUC[$c]+="$cpu "
			log "rep $rep  $c: $(num "$v") us/call, $(num "$cs") context switches and $(num "$cpu") us CPU per call"
		else
			ERRS[$c]=$((ERRS[$c] + 1))
			[ -n "${ERRMSG[$c]:-}" ] || ERRMSG[$c]=$(first_error "$WORK/case.err")
			warn "rep $rep  $c failed: $(first_error "$WORK/case.err")"
		fi
	done
done

###########################################################################
banner "P4: pgbench, -T $PGBENCH_T, clients ${CLIENTS[*]}"

declare -A TPS=() CPU=() CONNS=() P4ERR=() P4MSG=()

# cpu_busy_ticks: the machine's non-idle CPU time so far, in clock ticks
cpu_busy_ticks()
{
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# run_pgbench SYSTEM CLIENTS: sets P4_TPS to the run's tps (empty on failure),
# P4_CPU to the machine's CPU microseconds per transaction meanwhile, and
# P4_HELD to the most remote connections of SYSTEM seen meanwhile.
run_pgbench()
{
	local sys=$1 clients=$2 jobs out rc=0 sp st sd sb busy0 busy1
	jobs=$(nproc)
	[ "$jobs" -le "$clients" ] || jobs=$clients
	remote_psql -At -c "SELECT bench_sample($PGBENCH_T)" >"$WORK/sample.out" 2>&1 &
	BG_PIDS=($!)
	busy0=$(cpu_busy_ticks)
	out=$(as_postgres "$PGBIN/pgbench" -n -M prepared -T "$PGBENCH_T" \
		-c "$clients" -j "$jobs" -f "$WORK/p4_$sys.sql" \
		-h "$WORK" -p "$LOCAL_PORT" postgres 2>&1) || rc=$?
	busy1=$(cpu_busy_ticks)
	wait "${BG_PIDS[0]}" || true
	BG_PIDS=()
	# pgbench exits 2 when clients aborted on an error; the tps it prints
	# then counts only what was done before.
	P4_FAILED=0
	if [ "$rc" -ne 0 ]; then
		P4_FAILED=1
		printf '%s\n' "$out" >"$WORK/pgbench.err"
		[ -n "${P4MSG[$sys]:-}" ] || P4MSG[$sys]=$(first_error "$WORK/pgbench.err")
		warn "pgbench $sys -c $clients: clients aborted (exit $rc): $(first_error "$WORK/pgbench.err")"
	fi
	P4_TPS=$(printf '%s\n' "$out" |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p')
	# CPU time of the whole machine per transaction, in microseconds
	P4_CPU=""
	if [ -n "$P4_TPS" ]; then
		P4_CPU=$(awk -v b="$((busy1 - busy0))" -v hz="$(getconf CLK_TCK)" \
			-v tps="$P4_TPS" -v t="$PGBENCH_T" \
			'BEGIN { if (tps > 0) printf "%.1f", b / hz * 1e6 / (tps * t) }')
	fi
	read -r sp st sd sb <"$WORK/sample.out" || true
	case $sys in
	pool) P4_HELD=$sp ;;
	pool_tx) P4_HELD=$st ;;
	dblink) P4_HELD=$sd ;;
	*) P4_HELD=$sb ;;
	esac
	[[ "$P4_HELD" =~ ^[0-9]+$ ]] || P4_HELD="?"
}

for ((rep = 1; rep <= REPS; rep++)); do
	for cl in "${CLIENTS[@]}"; do
		for sys in "${SYSTEMS[@]}"; do
			run_pgbench "$sys" "$cl"
			TPS[$sys,$cl]+="${P4_TPS:+$P4_TPS }"
			CPU[$sys,$cl]+="${P4_CPU:+$P4_CPU }"
			P4ERR[$sys,$cl]=$((${P4ERR[$sys,$cl]:-0} + P4_FAILED))
			prev=${CONNS[$sys,$cl]:-0}
			if [ "$P4_HELD" != "?" ] && [ "$P4_HELD" -gt "$prev" ]; then
				prev=$P4_HELD
			fi
			CONNS[$sys,$cl]=$prev
			log "rep $rep  $sys  -c $cl: ${P4_TPS:-ERR} tps, $P4_HELD remote connections, ${P4_CPU:-?} us CPU/tx"
		done
	done
done

###########################################################################
banner "P5: $ROWS rows (int, text), query() vs dblink"

declare -A P5T=() P5B=() P5W=() P5ERR=([pool]=0 [dblink]=0) P5MSG=()
CLEAR_REFS_OK=1
for ((rep = 1; rep <= REPS; rep++)); do
	for m in pool dblink; do
		# Reset the worker's peak RSS to its current RSS, so that VmHWM
		# after the run is this run's peak.
		echo 5 >"/proc/$WORKER_PID/clear_refs" 2>/dev/null || CLEAR_REFS_OK=0
		if row=$(local_psql -At -F ' ' -c "SELECT * FROM bench_p5('$m', $ROWS)" 2>"$WORK/case.err"); then
			read -r secs got bb ba wb wa <<<"$row"
			[ "$got" = "$ROWS" ] || warn "P5 $m returned $got rows, expected $ROWS"
			P5T[$m]+="$secs "
			P5B[$m]+="$(calc "$ba" "$bb" - | awk '{ printf "%.1f", $1 / 1024 }') "
			if [ "$m" = pool ]; then
				P5W[$m]+="$(calc "$wa" "$wb" - | awk '{ printf "%.1f", $1 / 1024 }') "
			fi
			log "rep $rep  $m: $(num "$secs") s, backend +$(calc "$ba" "$bb" -) kB, worker +$(calc "$wa" "$wb" -) kB"
		else
			P5ERR[$m]=$((P5ERR[$m] + 1))
			[ -n "${P5MSG[$m]:-}" ] || P5MSG[$m]=$(first_error "$WORK/case.err")
			warn "rep $rep  P5 $m failed: $(first_error "$WORK/case.err")"
		fi
	done
done

###########################################################################
# The report

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu_model" ] || cpu_model=unknown
mem_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
pg_version=$(local_psql -At -c 'SHOW server_version')
pgb_version=$("$PGBOUNCER" --version 2>/dev/null | head -n 1 | awk '{ print $NF }')

: >"$REPORT"
report 'pgpool_ext benchmark, %s run, %s\n' "$MODE" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
report 'machine: %s CPUs, %s, %s GiB RAM, Linux %s\n' "$(nproc)" "$cpu_model" "$mem_gib" "$(uname -r)"
report 'software: PostgreSQL %s, PgBouncer %s, pgpool_ext %s\n' "$pg_version" "${pgb_version:-?}" "$rev"
report 'load average (1, 5, 15 min) at start: %s, at end: %s\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
report 'every server on this machine, over loopback TCP, scram-sha-256 logins; %d repetitions per case\n' "$REPS"

# Per-call table
declare -A MED=() MIN=() MAX=()
for c in "${CASES[@]}"; do
	# shellcheck disable=SC2086
	read -r MED[$c] MIN[$c] MAX[$c] <<<"$(stats ${RAW[$c]})"
done

declare -A LABEL=(
	[floor]="floor  pg_backend_pid() in PL/pgSQL"
	[B]="B   dblink SELECT 1, persistent conn"
	[C]="C   dblink connect+query+disconnect"
	[D]="D   same as C through PgBouncer"
	[E]="E   postgres_fdw one-row table"
	[P1]="P1  query(h) on a held handle"
	[P2]="P2  run(pool)"
	[P2t]="P2t run(pool), reset_query ''"
	[P3]="P3  acquire + release"
)
row_fmt='%-37s %7s %9s %17s %4s %13s %12s %s\n'

report '\nPer call: microseconds per call, timed in PL/pgSQL with clock_timestamp();\n'
report '    median and min-max of the repetitions that succeeded (ok)\n'
report "$row_fmt" case iters median min-max ok ratio target result
report "$row_fmt" ------------------------------------- ------- --------- ----------------- ---- ------------- ------------ ------

# judge CASE ANCHOR RATIO LIMIT: PASS or MISS; ERR if a repetition of CASE
# or of ANCHOR failed (the numbers are then not comparable)
judge()
{
	if [ "${ERRS[$1]}" -gt 0 ] || [ "${ERRS[$2]}" -gt 0 ]; then
		echo ERR
	else
		verdict "$3" "$4"
	fi
}
per_call_row()
{
	local c=$1 ratio=$2 target=$3 result=$4
	report "$row_fmt" "${LABEL[$c]}" "${ITER[$c]}" "$(num "${MED[$c]}")" \
		"$(range "${MIN[$c]}" "${MAX[$c]}")" "$((REPS - ERRS[$c]))/$REPS" \
		"$ratio" "$target" "$result"
}
two_floor=$(calc "${MED[floor]}" 2 '*')
r_b_floor=$(calc "${MED[B]}" "${MED[floor]}" /)
r_c=$(calc "${MED[C]}" "${MED[B]}" /)
r_d=$(calc "${MED[D]}" "${MED[B]}" /)
r_e=$(calc "${MED[E]}" "${MED[B]}" /)
r_p1=$(calc "${MED[P1]}" "${MED[B]}" /)
r_p2=$(calc "${MED[P2]}" "${MED[B]}" /)
r_p2d=$(calc "${MED[P2]}" "${MED[D]}" /)
r_p2t=$(calc "${MED[P2t]}" "${MED[B]}" /)
r_p2td=$(calc "${MED[P2t]}" "${MED[D]}" /)
r_p3=$(calc "${MED[P3]}" "$two_floor" /)
per_call_row floor "" "" ""
per_call_row B "$(ratio "$r_b_floor" "x floor")" "" ""
per_call_row C "$(ratio "$r_c" "x B")" "" ""
per_call_row D "$(ratio "$r_d" "x B")" "" ""
per_call_row E "$(ratio "$r_e" "x B")" "" ""
per_call_row P1 "$(ratio "$r_p1" "x B")" "<= 1.25 x B" "$(judge P1 B "$r_p1" 1.25)"
per_call_row P2 "$(ratio "$r_p2" "x B")" "<= 1.3 x B" "$(judge P2 B "$r_p2" 1.3)"
report "$row_fmt" "" "" "" "" "" "$(ratio "$r_p2d" "x D")" "<= 0.25 x D" "$(judge P2 D "$r_p2d" 0.25)"
per_call_row P2t "$(ratio "$r_p2t" "x B")" "" ""
report "$row_fmt" "" "" "" "" "" "$(ratio "$r_p2td" "x D")" "" ""
per_call_row P3 "$(ratio "$r_p3" "x 2floor")" "<= 1.5 x 2fl" "$(judge P3 floor "$r_p3" 1.5)"

# What the machine did per call: the cost of a hop is mostly the kernel's
report '\nPer call, the whole machine meanwhile (/proc/stat), medians: context switches\n'
report '    and CPU microseconds per call (CPU above the latency: both servers were busy)\n'
cs_fmt='%-37s %10s %12s\n'
report "$cs_fmt" case "ctx sw" "CPU us"
for c in B E P1 P2 P2t P3; do
	# shellcheck disable=SC2086
	read -r m_cs _ _ <<<"$(stats ${CSW[$c]:-})"
	# shellcheck disable=SC2086
	read -r m_cpu _ _ <<<"$(stats ${CPUC[$c]:-})"
	report "$cs_fmt" "${LABEL[$c]}" "$(num "$m_cs")" "$(num "$m_cpu")"
done

# P4 table
report '\nP4: pgbench -n -M prepared -T %s -c N, one remote SELECT 1 per transaction;\n' "$PGBENCH_T"
report '    tps median (min-max) of %d runs; conns: most remote connections open at once\n' "$REPS"
report '    (sampled on remote every 50 ms); ! = clients aborted on errors in some run\n'
p4_fmt='%-7s %29s %29s %29s %29s\n'
report "$p4_fmt" clients "pool run(), max 8" "same, reset_query ''" "dblink persistent" "dblink via PgBouncer"
report "$p4_fmt" ------- ----------------------------- ----------------------------- ----------------------------- -----------------------------
int() { num "$1" | sed 's/\..*//'; }
declare -A P4MED=()
for cl in "${CLIENTS[@]}"; do
	cells=()
	for sys in "${SYSTEMS[@]}"; do
		# shellcheck disable=SC2086
		read -r m lo hi <<<"$(stats ${TPS[$sys,$cl]})"
		P4MED[$sys,$cl]=$m
		flag=" "
		[ "${P4ERR[$sys,$cl]:-0}" -eq 0 ] || flag="!"
		cells+=("$(printf '%s%s (%s) %2s conns' "$(int "$m")" "$flag" \
			"$(range "$lo" "$hi" | sed 's/\.[0-9]*//g')" "${CONNS[$sys,$cl]}")")
	done
	report "$p4_fmt" "$cl" "${cells[@]}"
done

# p4_verdict SYS: the 32-client target for pool system SYS; sets R_P4 (the
# tps ratio to dblink) and V_P4
p4_verdict()
{
	local sys=$1
	R_P4=$(calc "${P4MED[$sys,32]}" "${P4MED[dblink,32]}" /)
	V_P4=MISS
	if [ "$(verdict "$R_P4" 1 ge)" = PASS ] &&
		[ "$(verdict "${CONNS[$sys,32]}" 8)" = PASS ]; then
		V_P4=PASS
	fi
	if [ "${P4ERR[$sys,32]:-0}" -gt 0 ] || [ "${P4ERR[dblink,32]:-0}" -gt 0 ]; then
		V_P4=ERR
	fi
}
p4_verdict pool
report 'target at 32 clients: pool tps >= dblink persistent tps (%s x) and pool <= 8 remote conns (%s): %s\n' \
	"$(num "$R_P4")" "${CONNS[pool,32]}" "$V_P4"
p4_verdict pool_tx
report '    the same for the pool with reset_query '"''"' (no DISCARD ALL, as PgBouncer'"'"'s transaction\n'
report '    pooling behind D): %s x, %s remote conns: %s\n' "$(num "$R_P4")" "${CONNS[pool_tx,32]}" "$V_P4"
report '\nP4, CPU time of the whole machine (pgbench, both servers, PgBouncer) per\n'
report '    transaction, microseconds, median of the runs: when every CPU is busy, tps is\n'
report '    about (CPUs x 1e6) / this\n'
report "$p4_fmt" clients "pool run(), max 8" "same, reset_query ''" "dblink persistent" "dblink via PgBouncer"
for cl in "${CLIENTS[@]}"; do
	cells=()
	for sys in "${SYSTEMS[@]}"; do
		# shellcheck disable=SC2086
		read -r m _ _ <<<"$(stats ${CPU[$sys,$cl]:-})"
		cells+=("$(num "$m")")
	done
	report "$p4_fmt" "$cl" "${cells[@]}"
done

# P5 table
report '\nP5: %s rows (int, text) of SELECT i, md5(i::text) FROM generate_series(1, %s), counted locally;\n' "$ROWS" "$ROWS"
report '    seconds: median (min-max); peak RSS growth (VmHWM after - before, MiB): the largest of\n'
report '    the runs, a fresh backend each run\n'
p5_fmt='%-10s %24s %5s %12s %12s\n'
report "$p5_fmt" method seconds ok "backend MiB" "worker MiB"
report "$p5_fmt" ---------- ------------------------ ----- ------------ ------------
declare -A P5MED=() P5BMAX=() P5WMAX=()
for m in pool dblink; do
	# shellcheck disable=SC2086
	read -r med lo hi <<<"$(stats ${P5T[$m]:-})"
	P5MED[$m]=$med
	# shellcheck disable=SC2086
	read -r _ _ P5BMAX[$m] <<<"$(stats ${P5B[$m]:-})"
	if [ "$m" = pool ]; then
		# shellcheck disable=SC2086
		read -r _ _ P5WMAX[$m] <<<"$(stats ${P5W[$m]:-})"
	else
		P5WMAX[$m]=-
	fi
	label=dblink
	[ "$m" != pool ] || label="query()"
	report "$p5_fmt" "$label" "$(num "$med") ($(range "$lo" "$hi"))" \
		"$((REPS - P5ERR[$m]))/$REPS" "${P5BMAX[$m]}" "${P5WMAX[$m]}"
done
r_p5=$(calc "${P5MED[pool]}" "${P5MED[dblink]}" /)
v_p5t=$(verdict "$r_p5" 1.1)
v_p5b=$(verdict "${P5BMAX[pool]}" 16)
v_p5w=$(verdict "${P5WMAX[pool]}" 16)
if [ "${P5ERR[pool]}" -gt 0 ] || [ "${P5ERR[dblink]}" -gt 0 ]; then
	v_p5t=ERR v_p5b=ERR v_p5w=ERR
fi
report 'targets: query() time <= 1.1 x dblink (%s x): %s;\n' "$(num "$r_p5")" "$v_p5t"
report '         backend growth <= 16 MiB (%s): %s; worker growth <= 16 MiB (%s): %s\n' \
	"${P5BMAX[pool]}" "$v_p5b" "${P5WMAX[pool]}" "$v_p5w"
[ "$CLEAR_REFS_OK" -eq 1 ] ||
	report 'note: /proc/PID/clear_refs was not writable; worker growth is from its lifetime peak\n'

report '\nA MISS above is explained, with the profiles that show why, in README.md,\n'
report 'section Performance (per-call context switches, CPU per transaction).\n'

# Errors: ERR and ! above
errors=()
for c in "${CASES[@]}"; do
	[ "${ERRS[$c]}" -eq 0 ] ||
		errors+=("$c: ${ERRS[$c]} of $REPS repetitions failed: ${ERRMSG[$c]}")
done
for sys in "${SYSTEMS[@]}"; do
	n=0
	for cl in "${CLIENTS[@]}"; do
		n=$((n + ${P4ERR[$sys,$cl]:-0}))
	done
	[ "$n" -eq 0 ] ||
		errors+=("P4 $sys: clients aborted in $n of $((REPS * ${#CLIENTS[@]})) runs: ${P4MSG[$sys]}")
done
for m in pool dblink; do
	[ "${P5ERR[$m]}" -eq 0 ] ||
		errors+=("P5 $m: ${P5ERR[$m]} of $REPS runs failed: ${P5MSG[$m]}")
done
if [ ${#errors[@]} -gt 0 ]; then
	report '\nerrors (ERR: a target whose case, or anchor, failed in some repetition is not met):\n'
	for e in "${errors[@]}"; do
		report '  %s\n' "$e"
	done
fi

# Raw numbers, for whoever wants to look closer.
{
	printf '\nraw values\n'
	for c in "${CASES[@]}"; do
		printf '  %-6s us/call: %s ctx sw/call: %s CPU us/call: %s\n' "$c" "${RAW[$c]}" \
			"${CSW[$c]:-}" "${CPUC[$c]:-}"
	done
	for cl in "${CLIENTS[@]}"; do
		for sys in "${SYSTEMS[@]}"; do
			printf '  P4 %-9s -c %-2s tps: %s CPU us/tx: %s\n' "$sys" "$cl" \
				"${TPS[$sys,$cl]}" "${CPU[$sys,$cl]:-}"
		done
	done
	for m in pool dblink; do
		printf '  P5 %-6s seconds: %s backend MiB: %s worker MiB: %s\n' \
			"$m" "${P5T[$m]:-}" "${P5B[$m]:-}" "${P5W[$m]:-}"
	done
} >>"$REPORT"

banner "results"
cat "$REPORT"

mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT"
dated="${OUT%.txt}-$(date -u '+%Y%m%d-%H%M%S').txt"
cp "$REPORT" "$dated"
log "results written to $OUT and $dated"
