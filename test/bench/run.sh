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
#   T1     P1 with pgpool_ext.track_timing on and off             on/off <= 1.05
#   T3     P3 with pgpool_ext.track_timing on and off             on/off <= 1.05
#          (the cost of the latency statistics: each repetition, in a
#          fresh session, alternates blocks of the case with the setting on
#          and off, on/off then off/on, so that the machine's noise hits
#          both alike, and gives the median block of each and the median
#          of the pairs' ratios on/off; the table shows the medians of the
#          repetitions)
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
#                    200,000 rows, 100 on/off block pairs instead of 400)
#   BENCH_OUT        result file (default /tmp/pgpool_bench/results.txt); a
#                    dated copy, <name>-YYYYmmdd-HHMMSS.txt, is written
#                    beside it.  Nothing is written into the source tree
#                    except by the build that test/setup.sh runs.
#   BENCH_REPS       repetitions per case (default 3, at least 3)
#   BENCH_PGBENCH_T  seconds per pgbench run (default 10, quick 2)
#   BENCH_ROWS       rows for P5 (default 1000000, quick 200000)
#   BENCH_PORT       first TCP port tried (default 55432); three are used
#   BENCH_KEEP=1     keep the temporary directory (servers stopped)
#   PG_CONFIG        the PostgreSQL to build for and run (test/lib.sh)
#
# Files: this driver (servers, runs, measurements) runs the SQL of
# remote.sql (role, table, bench_sample) on remote, local.sql (extensions,
# foreign table, pools) and functions.sql (one function per case, the P4
# and P5 helpers) on local, and pgbench on p4_<system>.sql; it writes what it
# measured to $WORK/results.sh, and report.sh makes the table of that (it
# can be run again on a kept results.sh).  format.sh has the number helpers
# both use.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTDIR=$(cd "$HERE/.." && pwd)
ROOT=$(cd "$TESTDIR/.." && pwd)
LOG_TAG=bench
# shellcheck source=test/lib.sh
. "$TESTDIR/lib.sh"
# shellcheck source=test/bench/format.sh
. "$HERE/format.sh"

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
# T1, T3: the case each times, its iterations per block, and the block
# pairs (one on, one off) of a repetition.  Blocks last about a millisecond,
# shorter than a scheduler time slice: on a busy machine most pairs then
# run without being preempted, and the median pair is one of those.
TCASES=(T1 T3)
declare -A TCASE=([T1]=P1 [T3]=P3) TITER=([T1]=10 [T3]=2000)
TBLOCKS=400
if [ "$QUICK" = 1 ]; then
	for k in "${!ITER[@]}"; do
		ITER[$k]=$((ITER[$k] / 5))
	done
	TBLOCKS=100
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
pg_paths

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
[ -f "$PG_SHAREDIR/extension/postgres_fdw.control" ] ||
	die "postgres_fdw is not installed (expected $PG_SHAREDIR/extension/postgres_fdw.control)"

###########################################################################
# Work directory and cleanup

WORK=$(make_pg_tmpdir pgpool_ext_bench)
REMOTE=$WORK/remote
LOCAL=$WORK/local
PGB_DIR=$WORK/pgbouncer
REPORT=$WORK/report.txt
RESULTS=$WORK/results.sh
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

# first_error FILE: the first ERROR line of a psql or pgbench error output
first_error()
{
	{ grep -m 1 'ERROR' "$1" || head -n 1 "$1"; } 2>/dev/null |
		sed 's/^.*ERROR: *//; s/^psql:[^:]*:[0-9]*: //'
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

# Role bench, the one-row table, bench_sample()
remote_psql -v pw="$BENCH_PASSWORD" <"$HERE/remote.sql"

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
	-v rport="$REMOTE_PORT" -v pw="$BENCH_PASSWORD" <"$HERE/local.sql"
local_psql <"$HERE/functions.sql"

# pgbench scripts for P4, where postgres can read them
for sys in "${SYSTEMS[@]}"; do
	cp "$HERE/p4_$sys.sql" "$WORK/p4_$sys.sql"
done
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
banner "T1, T3: track_timing on and off ($TBLOCKS block pairs, $REPS repetitions)"

# Each repetition in a fresh session: an untimed warm-up call of the case,
# then bench_timing(), which alternates its blocks on and off.
declare -A TON=() TOFF=() TRATIO=() TERRS=() TMSG=()
for t in "${TCASES[@]}"; do TON[$t]=""; TOFF[$t]=""; TRATIO[$t]=""; TERRS[$t]=0; done
for ((rep = 1; rep <= REPS; rep++)); do
	for t in "${TCASES[@]}"; do
		c=${TCASE[$t]}
		n=${TITER[$t]}
		if row=$(local_psql -At -F ' ' -c "SELECT bench_$c($((n * 20)))" \
			-c "SELECT * FROM bench_timing('$c', $n, $TBLOCKS)" 2>"$WORK/case.err" | tail -n 1) &&
			read -r on off r <<<"$row" && [ -n "$r" ]; then
			TON[$t]+="$on "
			TOFF[$t]+="$off "
			TRATIO[$t]+="$r "
			log "rep $rep  $t: $(num "$on") us/call on, $(num "$off") off, pairs on/off $(num "$r") x"
		else
			TERRS[$t]=$((TERRS[$t] + 1))
			[ -n "${TMSG[$t]:-}" ] || TMSG[$t]=$(first_error "$WORK/case.err")
			warn "rep $rep  $t failed: $(first_error "$WORK/case.err")"
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
# The results: what was measured, then the report that report.sh makes
# of it.

RUN_DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
MACHINE_CPUS=$(nproc)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$CPU_MODEL" ] || CPU_MODEL=unknown
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
KERNEL=$(uname -r)
PG_VERSION=$(local_psql -At -c 'SHOW server_version')
PGB_VERSION=$("$PGBOUNCER" --version 2>/dev/null | head -n 1 | awk '{ print $NF }')
REV=$rev
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

declare -p MODE REPS PGBENCH_T ROWS CLEAR_REFS_OK RUN_DATE MACHINE_CPUS \
	CPU_MODEL MEM_GIB KERNEL PG_VERSION PGB_VERSION REV LOAD_START LOAD_END \
	CASES CLIENTS SYSTEMS ITER RAW CSW CPUC ERRS ERRMSG \
	TCASES TCASE TITER TBLOCKS TON TOFF TRATIO TERRS TMSG \
	TPS CPU CONNS P4ERR P4MSG P5T P5B P5W P5ERR P5MSG >"$RESULTS"
"$HERE/report.sh" "$RESULTS" >"$REPORT"

banner "results"
cat "$REPORT"

mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT"
dated="${OUT%.txt}-$(date -u '+%Y%m%d-%H%M%S').txt"
cp "$REPORT" "$dated"
log "results written to $OUT and $dated"

# dashboard(): its own clusters (16 pools, 64 connections), appended to
# both result files
banner "dashboard()"
BENCH_PORT=$((LOCAL_PORT + 10)) "$HERE/dashboard.sh" | tee -a "$OUT" "$dated"
