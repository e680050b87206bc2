#!/usr/bin/env bash
#
# test/bench/dashboard.sh
#		How long pgpool_ext.dashboard() takes with 16 pools and 64 remote
#		connections, against the 10 ms target.
#
# Usage, as root ("sudo test/bench/dashboard.sh"), from any directory.
# Like test/bench/run.sh (and with its helpers of test/lib.sh) it runs
# test/setup.sh (build and install), then starts on loopback, in a
# temporary directory, a "remote" cluster and a "local" one with pgpool_ext
# preloaded, and stops both at the end (also on error or ^C).  On local:
# 16 pools of 4 connections each (min_size = max_size = 4, so 64 remote
# connections), a leak_threshold of 1 s; a background session holds two
# handles of each pool, a second one the other two of the first pool and
# waits for a third, so 34 connections are held (reported as leaks once
# the pool worker has seen them held for 1 s), 30 idle, and every part of
# the document has content.  Then DASH_CALLS
# calls (default 500) of dashboard() are timed one by one inside PL/pgSQL
# (clock_timestamp(), no client round trip), after DASH_WARMUP (50)
# untimed ones, and the script prints the median, the 90th percentile and
# the maximum per call, the document's size, and
# the ratio of the median to the 10 ms target (PASS at <= 1).  A MISS
# does not fail the script; only a benchmark that could not run does.
#
# Environment: DASH_CALLS, DASH_WARMUP, BENCH_PORT (first TCP port tried,
# default 55532), BENCH_KEEP=1 (keep the directory), PG_CONFIG (the
# PostgreSQL to build for and run, test/lib.sh).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTDIR=$(cd "$HERE/.." && pwd)
LOG_TAG=bench-dashboard
# shellcheck source=test/lib.sh
. "$TESTDIR/lib.sh"

CALLS=${DASH_CALLS:-500}
WARMUP=${DASH_WARMUP:-50}
FIRST_PORT=${BENCH_PORT:-55532}
NPOOLS=16
POOL_SIZE=4
HELD_PER_POOL=2
TARGET_MS=10
PASSWORD=dash-bench-secret

require_root
save_stdio
"$TESTDIR/setup.sh"
pg_paths

WORK=$(make_pg_tmpdir pgpool_ext_bench_dash)
REMOTE=$WORK/remote
LOCAL=$WORK/local
BG_PIDS=()

# shellcheck disable=SC2317
cleanup()
{
	local rc=$? pid

	restore_stdio
	trap - EXIT INT TERM
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	finish_local_remote "$rc" "${BENCH_KEEP:-0}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

banner "clusters"
REMOTE_PORT=$(find_free_port "$FIRST_PORT")
LOCAL_PORT=$(find_free_port $((REMOTE_PORT + 1)) "$REMOTE_PORT")
log "directory $WORK; remote: port $REMOTE_PORT, local: port $LOCAL_PORT"
start_local_remote "" "pgpool_ext.leak_threshold = '1s'"
echo "CREATE ROLE bench LOGIN PASSWORD :'pw'" | remote_psql -v pw="$PASSWORD" \
	>/dev/null


banner "$NPOOLS pools of $POOL_SIZE connections"
POOL_CONN="host=127.0.0.1 port=$REMOTE_PORT dbname=postgres user=bench password=$PASSWORD"
local_psql -v conn="$POOL_CONN" -v n="$NPOOLS" -v size="$POOL_SIZE" <<'EOF' >/dev/null
CREATE EXTENSION pgpool_ext;
SELECT pgpool_ext.create_pool('dash_' || i, :'conn', min_size => :size,
                              max_size => :size)
  FROM generate_series(1, :n) i;
EOF

# wait_for WHAT SQL: poll SQL (a boolean) for up to 30 s
wait_for()
{
	local i

	for ((i = 0; i < 300; i++)); do
		[ "$(local_psql -At -c "SELECT ($2)")" = t ] && return 0
		sleep 0.1
	done
	die "timed out waiting for $1"
}

wait_for "$((NPOOLS * POOL_SIZE)) idle connections" \
	"(SELECT sum(idle) FROM pgpool_ext.pools) >= $((NPOOLS * POOL_SIZE))"

# Holders and a waiter, in the background until the end (psql runs as
# postgres through as_postgres; the subshell's pid is killed at the end,
# and the clusters' stop ends the sessions in any case).
as_postgres "$PGBIN/psql" -X -q -h "$WORK" -p "$LOCAL_PORT" -d postgres \
	-c "SELECT count(pgpool_ext.acquire('dash_' || i))
	      FROM generate_series(1, $NPOOLS) i, generate_series(1, $HELD_PER_POOL) j" \
	-c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
BG_PIDS+=($!)
wait_for "$((NPOOLS * HELD_PER_POOL)) leaked handles" \
	"(SELECT count(*) FROM pgpool_ext.leaks) >= $((NPOOLS * HELD_PER_POOL))"
as_postgres "$PGBIN/psql" -X -q -h "$WORK" -p "$LOCAL_PORT" -d postgres \
	-c "SELECT count(pgpool_ext.acquire('dash_1'))
	      FROM generate_series(1, $((POOL_SIZE - HELD_PER_POOL)))" \
	-c "SELECT pgpool_ext.acquire('dash_1', timeout => '1h')" \
	>/dev/null 2>&1 &
BG_PIDS+=($!)
wait_for "a waiter" "(SELECT count(*) FROM pgpool_ext.waiters) >= 1"

banner "dashboard()"
result=$(local_psql -At -v calls="$CALLS" -v warmup="$WARMUP" <<'EOF'
CREATE FUNCTION pg_temp.time_dashboard(calls int, warmup int)
RETURNS TABLE (median_ms float8, p90_ms float8, max_ms float8)
LANGUAGE plpgsql AS $$
DECLARE
  d jsonb;
  t timestamptz;
  ms float8[] := '{}';
BEGIN
  FOR i IN 1 .. warmup LOOP
    d := pgpool_ext.dashboard();
  END LOOP;
  FOR i IN 1 .. calls LOOP
    t := clock_timestamp();
    d := pgpool_ext.dashboard();
    ms := ms || extract(epoch FROM clock_timestamp() - t)::float8 * 1000;
  END LOOP;
  RETURN QUERY
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY x), max(x)
      FROM unnest(ms) x;
END $$;
SELECT round(median_ms::numeric, 3), round(p90_ms::numeric, 3),
       round(max_ms::numeric, 3)
  FROM pg_temp.time_dashboard(:calls, :warmup);
EOF
)
IFS='|' read -r median p90 max <<<"$result"
shape=$(local_psql -At <<'EOF'
SELECT jsonb_array_length(d->'pools') || ' pools, ' ||
       (SELECT sum((p->>'total')::int) FROM jsonb_array_elements(d->'pools') p) || ' connections, ' ||
       (SELECT sum(jsonb_array_length(p->'leaks')) FROM jsonb_array_elements(d->'pools') p) || ' leaks, ' ||
       (SELECT sum(jsonb_array_length(p->'waiters')) FROM jsonb_array_elements(d->'pools') p) || ' waiters, ' ||
       length(d::text) || ' bytes'
  FROM pgpool_ext.dashboard() d;
EOF
)
[ -n "$median" ] || die "no timing"
ratio=$(awk -v m="$median" -v t="$TARGET_MS" 'BEGIN { printf "%.3f", m / t }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1 ? "PASS" : "MISS") }')
printf '\n'
printf 'document:        %s\n' "$shape"
printf 'calls:           %s (after %s untimed)\n' "$CALLS" "$WARMUP"
printf 'median per call: %s ms   (p90 %s ms, max %s ms)\n' "$median" "$p90" "$max"
printf 'target:          %s ms   ratio %s   %s\n' "$TARGET_MS" "$ratio" "$verdict"
