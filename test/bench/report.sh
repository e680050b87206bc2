#!/usr/bin/env bash
#
# test/bench/report.sh
#		The benchmark's report: the tables, ratios and PASS/MISS verdicts of
#		one run, from the values test/bench/run.sh measured.
#
# Usage: test/bench/report.sh RESULTS >report.txt
#
# RESULTS is the file run.sh writes at the end of a run ($WORK/results.sh,
# kept with BENCH_KEEP=1): bash declarations (declare -p) of what it
# measured, read here with "source", so that a run can be formatted again.
# Scalars: MODE (full or quick), REPS, PGBENCH_T, ROWS, CLEAR_REFS_OK, and
# the header's RUN_DATE, MACHINE_CPUS, CPU_MODEL, MEM_GIB, KERNEL,
# PG_VERSION, PGB_VERSION, REV, LOAD_START, LOAD_END.  Arrays: CASES,
# CLIENTS, SYSTEMS; per case ITER, RAW (us per call of each repetition, in
# a space-separated list; so are the others), CSW, CPUC, ERRS, ERRMSG; per
# "system,clients" TPS, CPU, CONNS, P4ERR and per system P4MSG; per P5
# method P5T, P5B, P5W, P5ERR, P5MSG; the track_timing cases TCASES, their
# TBLOCKS and per case TCASE, TITER, TON and TOFF (us per call, on and off,
# of each repetition), TRATIO (the median ratio on/off of its block pairs),
# TERRS, TMSG (absent from the results of older runs:
# the section is left out).  What each case is and its target: run.sh's
# header.
#
# The report goes to stdout.  Nothing here runs a server.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/bench/format.sh
. "$HERE/format.sh"

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: $0 RESULTS (the results.sh of a run of test/bench/run.sh)" >&2
	exit 2
fi
# shellcheck disable=SC1090
. "$1"
# (shellcheck cannot see that these come from RESULTS, associative)
declare -A ITER RAW CSW CPUC ERRS ERRMSG TPS CPU CONNS P4ERR P4MSG P5T P5B P5W P5ERR P5MSG
declare -A TCASE TITER TON TOFF TRATIO TERRS TMSG
declare -a TCASES
TBLOCKS=${TBLOCKS:-0}

# report FORMAT [ARG...]: a line (or more) of the report
report()
{
	# shellcheck disable=SC2059
	printf "$@"
}

report 'pgpool_ext benchmark, %s run, %s\n' "$MODE" "$RUN_DATE"
report 'machine: %s CPUs, %s, %s GiB RAM, Linux %s\n' "$MACHINE_CPUS" "$CPU_MODEL" "$MEM_GIB" "$KERNEL"
report 'software: PostgreSQL %s, PgBouncer %s, pgpool_ext %s\n' "$PG_VERSION" "${PGB_VERSION:-?}" "$REV"
report 'load average (1, 5, 15 min) at start: %s, at end: %s\n' "$LOAD_START" "$LOAD_END"
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

# track_timing on/off
if [ ${#TCASES[@]} -gt 0 ]; then
	declare -A TLABEL=([T1]="T1  P1 query(h), timing on/off" [T3]="T3  P3 acquire+release, on/off")
	report '\ntrack_timing: what the latency statistics cost; each repetition alternates, in one\n'
	report '    session, %d blocks of the case with pgpool_ext.track_timing on and %d off\n' "$TBLOCKS" "$TBLOCKS"
	report '    (on/off, off/on, ...): us per call, the median block of each setting, and\n'
	report '    on/off, the median of the ratios of the pairs; all medians of the repetitions\n'
	t_fmt='%-37s %7s %9s %9s %4s %9s %12s %s\n'
	report "$t_fmt" case iters on off ok on/off target result
	report "$t_fmt" ------------------------------------- ------- --------- --------- ---- --------- ------------ ------
	for t in "${TCASES[@]}"; do
		# shellcheck disable=SC2086
		read -r m_on _ _ <<<"$(stats ${TON[$t]})"
		# shellcheck disable=SC2086
		read -r m_off _ _ <<<"$(stats ${TOFF[$t]})"
		# shellcheck disable=SC2086
		read -r r _ _ <<<"$(stats ${TRATIO[$t]})"
		result=ERR
		[ "${TERRS[$t]}" -gt 0 ] || result=$(verdict "$r" 1.05)
		report "$t_fmt" "${TLABEL[$t]:-$t}" "${TITER[$t]}" "$(num "$m_on")" "$(num "$m_off")" \
			"$((REPS - TERRS[$t]))/$REPS" "$(ratio "$r" x)" "<= 1.05 x" "$result"
	done
fi

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
for t in "${TCASES[@]}"; do
	[ "${TERRS[$t]}" -eq 0 ] ||
		errors+=("$t: ${TERRS[$t]} of $REPS repetitions failed: ${TMSG[$t]}")
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
printf '\nraw values\n'
for c in "${CASES[@]}"; do
	printf '  %-6s us/call: %s ctx sw/call: %s CPU us/call: %s\n' "$c" "${RAW[$c]}" \
		"${CSW[$c]:-}" "${CPUC[$c]:-}"
done
for t in "${TCASES[@]}"; do
	printf '  %-6s us/call on: %s off: %s pairs on/off: %s\n' "$t" "${TON[$t]}" \
		"${TOFF[$t]}" "${TRATIO[$t]}"
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
