#!/usr/bin/env bash
#
# test/devserver.sh
#		A server for the developer loop "make installcheck RUNNING=1": the
#		library preloaded, the settings of the temporary instances, kept
#		running between test runs.
#
# Usage, as yourself (PostgreSQL refuses to run as root), after
# "make && sudo make install":
#
#     test/devserver.sh start [regress|isolation]   # default regress
#     eval "$(test/devserver.sh env)"               # PGHOST and PGPORT
#     make installcheck RUNNING=1 REGRESS="setup pools" ISOLATION= TAP_TESTS=
#     test/devserver.sh stop
#
# "start" makes the cluster the first time (initdb), then starts it with
# test/pgpool_ext.conf (regress: pgpool_ext.database = contrib_regression)
# or test/pgpool_ext_iso.conf (isolation: isolation_regression); a running
# server is restarted when asked for the other one.  It is laid out like
# pg_regress's temporary instance (the data directory two levels below the
# directory of the server log, as the pools test expects), listens on a
# Unix socket only, and is started with PGHOST and PGPORT pointing to
# itself: the tests' pools name only a database, and the pool worker
# connects with libpq's defaults.
#
# "env" prints the PGHOST and PGPORT to export, "status" says whether the
# server runs and with which configuration, "stop" stops it; remove
# $PGPOOL_DEV to start afresh.
#
# Environment: PGPOOL_DEV, the directory (default /tmp/pgpool_ext_dev_$USER);
# PGPOOL_DEV_PORT (default 5499); PG_CONFIG, the server's programs
# (test/lib.sh).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_TAG=devserver
# shellcheck source=test/lib.sh
. "$HERE/lib.sh"

DEV=${PGPOOL_DEV:-/tmp/pgpool_ext_dev_$(id -un)}
PORT=${PGPOOL_DEV_PORT:-5499}
DATA=$DEV/instance/data
LOGFILE=$DEV/log/postmaster.log

# the configuration a running server was started with ("" if none)
running_suite()
{
	if "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		cat "$DATA/pgpool_dev.suite" 2>/dev/null || echo unknown
	fi
}

dev_init()
{
	[ -f "$DATA/PG_VERSION" ] && return 0
	log "initdb in $DATA"
	mkdir -p "$DEV/log"
	"$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth=trust --no-sync >"$DEV/log/initdb.log" 2>&1 ||
		{ cat "$DEV/log/initdb.log" >&2; die "initdb failed"; }
	cat >>"$DATA/postgresql.conf" <<EOF

# --- added by test/devserver.sh ---
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DEV'
fsync = off
# test/pgpool_ext.conf or test/pgpool_ext_iso.conf, copied at each start
include = 'pgpool_dev.conf'
EOF
}

dev_start()
{
	local suite=${1:-regress} conf running

	case $suite in
	regress) conf=$HERE/pgpool_ext.conf ;;
	isolation) conf=$HERE/pgpool_ext_iso.conf ;;
	*) die "unknown configuration \"$suite\" (regress or isolation)" ;;
	esac
	dev_init
	running=$(running_suite)
	if [ "$running" = "$suite" ]; then
		log "already running ($suite) on $DEV, port $PORT"
		return 0
	fi
	[ -z "$running" ] || dev_stop
	cp "$conf" "$DATA/pgpool_dev.conf"
	echo "$suite" >"$DATA/pgpool_dev.suite"
	PGHOST=$DEV PGPORT=$PORT "$PGBIN/pg_ctl" -D "$DATA" -l "$LOGFILE" \
		-w -t 60 start >/dev/null ||
		{ tail -n 20 "$LOGFILE" >&2; die "could not start the server"; }
	log "running ($suite, $(basename "$conf")) on $DEV, port $PORT; log $LOGFILE"
	log "now: eval \"\$($0 env)\"; make installcheck RUNNING=1 ..."
}

dev_stop()
{
	if [ -n "$(running_suite)" ]; then
		"$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
		log "stopped"
	fi
}

[ "$(id -u)" -ne 0 ] ||
	die "run as the user who owns the server, not root (e.g. sudo -u postgres $0 ...)"
[ -x "$PGBIN/pg_ctl" ] || die "pg_ctl not found in \"$PGBIN\" (PG_CONFIG=$PG_CONFIG)"

case ${1:-} in
start) dev_start "${2:-}" ;;
stop) dev_stop ;;
status)
	suite=$(running_suite)
	if [ -n "$suite" ]; then
		log "running ($suite) on $DEV, port $PORT"
	else
		log "not running ($DEV)"
		exit 3
	fi
	;;
env) printf 'export PGHOST=%q PGPORT=%q\n' "$DEV" "$PORT" ;;
*) die "usage: $0 start [regress|isolation] | stop | status | env" ;;
esac
