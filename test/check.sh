#!/usr/bin/env bash
#
# test/check.sh
#		The test command: build and install pgpool_ext, then run every
#		suite (pg_regress, isolation, TAP) on temporary instances.
#
# Run as root ("sudo test/check.sh"), from any directory.  Steps:
#
#  0. The include check (test/check_layers.pl, "make check-layers"): src/ is
#     layered, its includes point downward only.  Nothing else runs if it
#     fails.
#  1. test/setup.sh installs missing packages, builds and installs the
#     extension (as root, in the project tree) for the PostgreSQL of
#     PG_CONFIG (test/lib.sh).
#  1b. "make unit-check": the C unit tests of test/unit/ (the latency
#     histogram's bucket bounds, its 5 % error claim, merging, the ring of
#     recent minutes and concurrent recording), built against the server
#     headers of PG_CONFIG.
#  2. The project tree, without .git and build outputs, is copied to a fresh
#     temporary directory owned by postgres, because PostgreSQL will not run
#     as root and the suites write their results next to the sources.
#  3. "make installcheck" runs there as postgres.  The Makefile gives each
#     suite its own --temp-instance started with test/pgpool_ext*.conf, so no
#     running cluster is used or needed.
#  4. On failure the regression.diffs files and the tails of the failing
#     suite's server logs are printed, the copy is kept for inspection and the
#     exit status is non-zero.  On success the copy is removed.
#
# Extra arguments are passed to make, e.g.
#     test/check.sh PROVE_FLAGS=--verbose
#     test/check.sh REGRESS="setup pools" ISOLATION= TAP_TESTS=
#     test/check.sh REGRESS= ISOLATION=handoff TAP_TESTS=
#     test/check.sh REGRESS= ISOLATION= PROVE_TESTS='test/t/00[1-6]*.pl'
# (every pg_regress test but setup needs setup to run first, in the same
# list; an isolation spec or a TAP test runs alone).
#
# Each run uses its own directory and pg_regress/TAP pick free ports, so the
# command can be run again (or twice at once) without cleaning up.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOG_TAG=check
# shellcheck source=test/lib.sh
. "$HERE/lib.sh"

log "checking the include layers of src/"
perl "$HERE/check_layers.pl" || die "the include check failed (problems above)"

require_root
save_stdio

"$HERE/setup.sh"
pg_paths

log "running the unit tests (make unit-check)"
make --no-print-directory -C "$ROOT" unit-check PG_CONFIG="$PG_CONFIG" \
	|| die "the unit tests failed (output above)"

WORK=$(make_pg_tmpdir pgpool_ext_check)
TREE=$WORK/pgpool_ext
KEEP_WORK=0

# Runs on every exit (trap EXIT).
# shellcheck disable=SC2317
cleanup()
{
	local rc=$?

	restore_stdio
	# A suite interrupted half-way may leave a temporary instance running.
	pg_stop_all_under "$WORK"
	if [ "$KEEP_WORK" -eq 1 ]; then
		log "test tree kept in $TREE (remove with: rm -rf $WORK)"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "copying the project to $TREE"
mkdir "$TREE"
tar -C "$ROOT" -cf - \
	--exclude=./.git \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' \
	--exclude=./tmp_check --exclude=./tmp_check_iso \
	--exclude=./results --exclude=./log \
	--exclude=./regression.diffs --exclude=./regression.out \
	--exclude=./test/isolation/output_iso \
	. | tar -C "$TREE" -xf -
chown -R "$PG_OS_USER:" "$TREE"

# Print what explains a failure: the diffs of pg_regress and isolation, and
# the end of the logs of the suite that failed.  make stops at the first
# failing suite, so that is the last one that ran: TAP if it started
# (tmp_check/log/regress_log_* and one log per node), else isolation
# (test/isolation/output_iso/log/), else pg_regress (log/).
report_failure()
{
	local f logdir

	while IFS= read -r f; do
		banner "${f#"$TREE"/}"
		head -n 2000 "$f"
	done < <(find "$TREE" -name regression.diffs -type f | sort)

	if compgen -G "$TREE/tmp_check/log/regress_log_*" >/dev/null; then
		logdir=$TREE/tmp_check/log
	elif [ -d "$TREE/test/isolation/output_iso/log" ]; then
		logdir=$TREE/test/isolation/output_iso/log
	else
		logdir=$TREE/log
	fi
	for f in "$logdir"/*; do
		[ -f "$f" ] || continue
		banner "${f#"$TREE"/} (last 100 lines)"
		tail -n 100 "$f"
	done
}

# TMPDIR inside WORK: TAP keeps its socket directories on failure, and
# they should go away with the rest.
mkdir "$WORK/tmp"
chown "$PG_OS_USER:" "$WORK/tmp"

log "running make installcheck as $PG_OS_USER"
if as_postgres env TMPDIR="$WORK/tmp" \
	make --no-print-directory -C "$TREE" installcheck \
	PG_CONFIG="$PG_CONFIG" "$@"; then
	log "all suites passed"
	exit 0
fi

report_failure
KEEP_WORK=1
die "make installcheck failed (diffs and logs above)"
