#!/usr/bin/env bash
#
# test/demo.sh
#		The demo: two throw-away clusters, a pool between them, and eight
#		sessions sharing four remote connections.
#
# Run as root ("sudo test/demo.sh"), from any directory.  It
#
#  1. runs test/setup.sh (packages, build, install);
#  2. creates two clusters as postgres in a temporary directory: "remote"
#     holds a table orders(id, customer, amount) of 10,000 rows readable by
#     role app, which logs in over TCP with a scram-sha-256 password;
#     "local" preloads pgpool_ext;
#  3. on local, creates the extension and a pool "orders" of 2 to 4
#     connections to remote, and a PL/pgSQL function that acquires a
#     connection, runs a parameterized query, and releases it, in a loop;
#  4. runs that function from 8 concurrent sessions while printing the
#     views pools, connections, handles and waiters, then checks every
#     session's result against the same sum computed directly on remote;
#  5. prints the pool's latency summary and query-time histogram, then
#     lets a PL/pgSQL function hold a handle past a 1 s leak_threshold and
#     prints the leak report, its history row and the server log's lines,
#     and the pool's efficiency row with its sizing advice;
#  6. shows run() and query_json();
#  7. stops both clusters and removes the directory, also on error or ^C.
#
# Environment: DEMO_SESSIONS (8), DEMO_ITERATIONS (50), DEMO_TIMEOUT
# (seconds to wait for the sessions, 300), DEMO_PORT (first port tried,
# 54321), DEMO_KEEP=1 keeps the directory (clusters stopped) for inspection.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_TAG=demo
# shellcheck source=test/lib.sh
. "$HERE/lib.sh"

SESSIONS=${DEMO_SESSIONS:-8}
ITERATIONS=${DEMO_ITERATIONS:-50}
TIMEOUT=${DEMO_TIMEOUT:-300}
FIRST_PORT=${DEMO_PORT:-54321}
APP_PASSWORD=demo-secret

require_root
save_stdio

"$HERE/setup.sh"
pg_paths

WORK=$(make_pg_tmpdir pgpool_ext_demo)
REMOTE=$WORK/remote
LOCAL=$WORK/local
SESSION_PIDS=()

# Runs on every exit (trap EXIT): stop the sessions and both clusters, show
# the server logs if something went wrong, remove the directory.
# shellcheck disable=SC2317
cleanup()
{
	local rc=$? pid f

	restore_stdio
	trap - EXIT INT TERM
	for pid in "${SESSION_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$LOCAL.log" "$REMOTE.log"; do
			[ -s "$f" ] || continue
			banner "$(basename "$f") (last 40 lines)"
			tail -n 40 "$f"
		done
	fi
	finish_local_remote "$rc" "${DEMO_KEEP:-0}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Print the four views of pgpool_ext under a title.
show_views()
{
	banner "$1"
	local_psql <<'EOF'
\echo '== pgpool_ext.pools'
\x on
SELECT * FROM pgpool_ext.pools;
\x off
\echo '== pgpool_ext.connections'
SELECT * FROM pgpool_ext.connections;
\echo '== pgpool_ext.handles'
SELECT * FROM pgpool_ext.handles;
\echo '== pgpool_ext.waiters'
SELECT * FROM pgpool_ext.waiters;
EOF
}

###########################################################################
banner "clusters"

REMOTE_PORT=$(find_free_port "$FIRST_PORT")
LOCAL_PORT=$(find_free_port $((REMOTE_PORT + 1)) "$REMOTE_PORT")
log "directory $WORK"
log "remote: port $REMOTE_PORT, local: port $LOCAL_PORT (127.0.0.1 and Unix socket in $WORK)"

start_local_remote

###########################################################################
banner "remote: role app, table orders"

remote_psql <<EOF
CREATE ROLE app LOGIN PASSWORD '$APP_PASSWORD';
CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric);
INSERT INTO orders
    SELECT i, 'customer ' || (i % 100), ((i * 37) % 10000) * 0.01
    FROM generate_series(1, 10000) AS i;
GRANT SELECT ON orders TO app;
ANALYZE orders;
EOF

# The pool will log in exactly like this: TCP, user app, password.
CONNINFO="host=127.0.0.1 port=$REMOTE_PORT dbname=postgres user=app password=$APP_PASSWORD"
as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$CONNINFO" -c \
	"SELECT current_user AS remote_user, count(*) AS orders, sum(amount) AS total FROM orders"

# What every session must compute: the loop of demo_work, done on remote.
EXPECTED=$(remote_psql -At <<EOF
SELECT sum(s) FROM generate_series(1, $ITERATIONS) AS i,
    LATERAL (SELECT sum(amount) AS s FROM orders WHERE id % (i % 7 + 1) = 0) AS t;
EOF
)
log "expected result of demo_work($ITERATIONS): $EXPECTED"

###########################################################################
banner "local: extension, pool, function"

local_psql -e <<EOF
CREATE EXTENSION pgpool_ext;
SELECT pgpool_ext.create_pool('orders',
    'host=127.0.0.1 port=$REMOTE_PORT dbname=postgres user=app password=$APP_PASSWORD',
    min_size => 2, max_size => 4);
EOF

local_psql <<'EOF'
CREATE FUNCTION demo_work(n int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    h bigint;
    total numeric := 0;
    r record;
BEGIN
    FOR i IN 1..n LOOP
        h := pgpool_ext.acquire('orders', timeout => '10s');
        SELECT s INTO r
            FROM pgpool_ext.query(h,
                'SELECT sum(amount) FROM orders WHERE id % $1 = 0',
                ARRAY[(i % 7 + 1)::text]) AS t(s numeric);
        total := total + r.s;
        PERFORM pgpool_ext.release(h);
    END LOOP;
    RETURN total;
END
$$;
EOF
log "created demo_work(n): n times acquire, query, release"

###########################################################################
banner "$SESSIONS sessions x demo_work($ITERATIONS), pool of 2..4 connections"

for i in $(seq 1 "$SESSIONS"); do
	local_psql -At -c "SET application_name = 'demo session $i'" \
		-c "SELECT demo_work($ITERATIONS)" \
		>"$WORK/session_$i.out" 2>&1 &
	SESSION_PIDS+=($!)
done
log "started ${#SESSION_PIDS[@]} sessions"

# Watch the views while the sessions run (they may finish first).
sleep 0.5
show_views "while the sessions run (1)"
sleep 1
show_views "while the sessions run (2)"

# Wait for the sessions, at most TIMEOUT seconds.
deadline=$((SECONDS + TIMEOUT))
for pid in "${SESSION_PIDS[@]}"; do
	while kill -0 "$pid" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] ||
			die "the sessions did not finish within ${TIMEOUT}s"
		sleep 0.2
	done
done

banner "results"
failed=0
i=0
for pid in "${SESSION_PIDS[@]}"; do
	i=$((i + 1))
	status=0
	wait "$pid" || status=$?
	result=$(cat "$WORK/session_$i.out")
	if [ "$status" -ne 0 ]; then
		printf 'session %d: FAILED (exit %d)\n%s\n' "$i" "$status" "$result"
		failed=1
	elif [ "$result" != "$EXPECTED" ]; then
		printf 'session %d: %s  WRONG (expected %s)\n' "$i" "$result" "$EXPECTED"
		failed=1
	else
		printf 'session %d: %s  ok\n' "$i" "$result"
	fi
done
SESSION_PIDS=()
[ "$failed" -eq 0 ] || die "some sessions failed"
log "all $SESSIONS sessions got the right total through the shared pool"

show_views "after the sessions"

###########################################################################
banner "statistics: how long the sessions waited, held and queried"

local_psql -e <<'EOF'
SELECT kind, count, round(mean::numeric, 6) AS mean_s,
       round(p50::numeric, 6) AS p50_s, round(p95::numeric, 6) AS p95_s,
       round(p99::numeric, 6) AS p99_s, round(max::numeric, 6) AS max_s
    FROM pgpool_ext.latency
    WHERE pool_name = 'orders' AND partition IS NULL AND time_window = 'total'
    ORDER BY kind;
SELECT round(lower::numeric, 6) AS lower_s, round(upper::numeric, 6) AS upper_s,
       count, cumulative, bar
    FROM pgpool_ext.histogram
    WHERE pool_name = 'orders' AND partition IS NULL AND kind = 'query'
      AND time_window = 'total'
    ORDER BY lower;
EOF

###########################################################################
banner "leak report: a handle held past leak_threshold"

local_psql >/dev/null <<'EOF'
SELECT pgpool_ext.alter_pool('orders', options => '{"leak_threshold": "1s"}');
CREATE FUNCTION demo_forgetful() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    h bigint;
BEGIN
    h := pgpool_ext.acquire('orders', timeout => '10s');
    PERFORM pg_sleep(3);    -- "forgets" to release until its session ends
END
$$;
EOF
local_psql -At -c "SET application_name = 'demo forgetful'" \
	-c "SELECT demo_forgetful()" >"$WORK/forgetful.out" 2>&1 &
SESSION_PIDS+=($!)
poll_local "SELECT count(*) > 0 FROM pgpool_ext.leaks WHERE pool_name = 'orders'" \
	"the leak report" 30
local_psql -e <<'EOF'
\x on
SELECT * FROM pgpool_ext.leaks WHERE pool_name = 'orders';
\x off
EOF
wait "${SESSION_PIDS[@]}"
SESSION_PIDS=()
poll_local "SELECT count(*) > 0 FROM pgpool_ext.leak_history WHERE released_at IS NOT NULL" \
	"the leak's release" 30
local_psql -e <<'EOF'
SELECT pool_name, holder_pid, application_name, acquire_context, detected_at,
       released_at, round(held_for::numeric, 3) AS held_for_s
    FROM pgpool_ext.leak_history;
EOF
log "the server log says:"
grep -E 'possible leak|previously reported leaked handle' "$LOCAL.log" | sed 's/^/    /'
local_psql -q -c "SELECT pgpool_ext.alter_pool('orders', options => '{\"leak_threshold\": \"0\"}')" >/dev/null

###########################################################################
banner "efficiency and sizing advice (since the pool was made)"

# the advice wants at least 10 s of history
poll_local "SELECT elapsed >= 10 FROM pgpool_ext.efficiency WHERE pool_name = 'orders' AND partition IS NULL AND time_window = 'total'" \
	"10 s of statistics" 30
local_psql -e <<'EOF'
SELECT pool_name, round(elapsed::numeric, 1) AS elapsed_s,
       round(utilization::numeric, 2) AS utilization,
       round(saturation::numeric, 2) AS saturation,
       round(immediate_ratio::numeric, 2) AS immediate,
       round(busy_share::numeric, 2) AS busy_share,
       round(offered_load::numeric, 2) AS erlangs,
       max_size, recommended_max_size, advice
    FROM pgpool_ext.efficiency
    WHERE pool_name = 'orders' AND partition IS NULL AND time_window = 'total';
EOF

###########################################################################
banner "run(): acquire, query and release in one call"

local_psql -e <<'EOF'
SELECT * FROM pgpool_ext.run('orders', 'SELECT count(*) FROM orders') AS t(n bigint);
EOF

banner "query_json() and execute() on a handle"

local_psql -e <<'EOF'
SELECT pgpool_ext.acquire('orders', timeout => '10s') AS h \gset
SELECT * FROM pgpool_ext.query_json(:h,
    'SELECT id, customer, amount FROM orders WHERE id <= $1 ORDER BY id',
    ARRAY['3']);
SELECT pgpool_ext.execute(:h, 'SET statement_timeout = ''5s''');
SELECT pgpool_ext.release(:h);
EOF

show_views "at the end"
