# shellcheck shell=bash
#
# test/lib.sh
#		Shell functions shared by the pgpool_ext test, demo and benchmark
#		scripts: PostgreSQL's paths (from pg_config), messages, clusters.
#
# Sourced, never run.  The scripts run as root (they install packages);
# every PostgreSQL program runs as the "postgres" OS user through
# as_postgres, because the server refuses to run as root.  Servers started
# here live in a temporary directory owned by postgres, listen on 127.0.0.1
# only and put their Unix socket in that same directory, so nothing here
# touches a cluster the machine already runs.  (test/devserver.sh, run by a
# developer as themselves, uses only the paths and the messages.)
#
# Callers are expected to use "set -euo pipefail".

# The PostgreSQL to build and test against is the one of PG_CONFIG (a path,
# or a name looked up on PATH).  By default: the pg_config on PATH if it
# belongs to a server (its PGXS is installed), else Debian's for
# PostgreSQL $PG_DEFAULT_MAJOR, which test/setup.sh installs when no server
# is found.  Everything else (programs, version, share directory) is asked
# of pg_config by pg_paths; PGBIN may still name other programs.
PG_DEFAULT_MAJOR=15
PG_OS_USER=${PG_OS_USER:-postgres}
PGBIN_GIVEN=${PGBIN:-}

if [ -z "${PG_CONFIG:-}" ]; then
	PG_CONFIG=/usr/lib/postgresql/$PG_DEFAULT_MAJOR/bin/pg_config
	if command -v pg_config >/dev/null 2>&1 &&
		[ -f "$(pg_config --pgxs 2>/dev/null)" ]; then
		PG_CONFIG=$(command -v pg_config)
	fi
fi
case $PG_CONFIG in
/*) ;;
*/*) PG_CONFIG=$PWD/$PG_CONFIG ;;
*) PG_CONFIG=$(command -v "$PG_CONFIG" 2>/dev/null || echo "$PG_CONFIG") ;;
esac
# the scripts this one runs (test/setup.sh) use the same server
export PG_CONFIG

#
# pg_paths
#		Set, from $PG_CONFIG: PGBIN (its programs, unless PGBIN was given),
#		PG_MAJOR (15 for 15.20) and PG_SHAREDIR (where extensions' control
#		files are).  While pg_config is not installed (test/setup.sh installs
#		it), PG_MAJOR is $PG_DEFAULT_MAJOR and the others are empty.  Run
#		when this file is sourced, and again after test/setup.sh.
#
# shellcheck disable=SC2034  # PG_MAJOR and PG_SHAREDIR are for the callers
pg_paths()
{
	PGBIN=$PGBIN_GIVEN
	PG_MAJOR=$PG_DEFAULT_MAJOR
	PG_SHAREDIR=
	if [ -x "$PG_CONFIG" ]; then
		PGBIN=${PGBIN_GIVEN:-$("$PG_CONFIG" --bindir)}
		PG_MAJOR=$("$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
		PG_SHAREDIR=$("$PG_CONFIG" --sharedir)
	fi
}
pg_paths

# Progress and error messages.  LOG_TAG names the calling script.
LOG_TAG=${LOG_TAG:-$(basename "$0" .sh)}

log()
{
	printf '==> %s: %s\n' "$LOG_TAG" "$*"
}

warn()
{
	printf '==> %s: WARNING: %s\n' "$LOG_TAG" "$*" >&2
}

die()
{
	printf '==> %s: ERROR: %s\n' "$LOG_TAG" "$*" >&2
	exit 1
}

# Section header for output meant to be read by a person (demo, benchmark).
banner()
{
	printf '\n---------- %s ----------\n' "$*"
}

#
# save_stdio / restore_stdio
#		A signal trap that calls "exit" runs the EXIT trap with the
#		redirections of whatever command was running at that moment (e.g.
#		">/dev/null"), so cleanup output would be lost.  Scripts call
#		save_stdio once at the top and restore_stdio first thing in their
#		EXIT trap.  Descriptors 7 and 8 are closed for every command run
#		through as_postgres, so servers never hold the caller's output open.
#
save_stdio()
{
	exec 7>&1 8>&2
}

restore_stdio()
{
	exec 1>&7 2>&8
}

require_root()
{
	[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0)"
}

#
# as_postgres CMD [ARG...]
#		Run CMD as the postgres OS user, from "/" (postgres may not be
#		allowed into the caller's cwd) and with a small, fixed environment
#		so that the caller's PG* variables, locale or PATH cannot change
#		what the tests see.
#
as_postgres()
{
	(
		exec 7>&- 8>&-
		cd / &&
		runuser -u "$PG_OS_USER" -- env -i \
			PATH="$PGBIN:/usr/local/bin:/usr/bin:/bin" \
			HOME="$(getent passwd "$PG_OS_USER" | cut -d: -f6)" \
			LANG=C.UTF-8 \
			TZ="${TZ:-UTC}" \
			${PG_TEST_PORT_DIR:+PG_TEST_PORT_DIR="$PG_TEST_PORT_DIR"} \
			"$@"
	)
}

#
# make_pg_tmpdir PREFIX
#		Create a fresh temporary directory, give it to postgres and print
#		its path.  Fails if postgres cannot reach it (a parent directory
#		that is not traversable, e.g. TMPDIR=/root/tmp).
#
make_pg_tmpdir()
{
	local dir

	dir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	chown "$PG_OS_USER:" "$dir"
	chmod 0755 "$dir"
	if ! as_postgres test -d "$dir" -a -w "$dir" -a -x "$dir"; then
		rm -rf "$dir"
		die "$PG_OS_USER cannot use $dir (is every parent directory traversable? set TMPDIR)"
	fi
	printf '%s\n' "$dir"
}

#
# port_is_free PORT
#		True if nothing listens on TCP PORT (any address).  Uses ss when
#		available, otherwise tries to connect to 127.0.0.1:PORT.
#
port_is_free()
{
	local port=$1

	if command -v ss >/dev/null 2>&1; then
		[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] || return 1
	fi
	! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

#
# find_free_port START [TAKEN...]
#		Print the first free TCP port >= START that is not among TAKEN.
#
find_free_port()
{
	local start=$1 port=$1 taken p
	shift

	while [ "$port" -le 65535 ]; do
		taken=0
		for p in "$@"; do
			[ "$p" = "$port" ] && taken=1
		done
		if [ "$taken" -eq 0 ] && port_is_free "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
		port=$((port + 1))
	done
	die "no free TCP port found from $start"
}

#
# pg_init_cluster DATADIR
#		initdb a cluster owned by postgres: UTF8, C.UTF-8 locale, superuser
#		"postgres", trust on the Unix socket, scram-sha-256 on TCP.
#
pg_init_cluster()
{
	local datadir=$1

	as_postgres "$PGBIN/initdb" -D "$datadir" -U postgres -E UTF8 \
		--locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
		--no-sync >"$datadir.initdb.log" 2>&1 ||
		{ cat "$datadir.initdb.log" >&2; die "initdb $datadir failed"; }
}

#
# pg_conf DATADIR
#		Append the lines read from stdin to DATADIR/postgresql.conf.
#
pg_conf()
{
	cat >>"$1/postgresql.conf"
}

#
# pg_base_conf DATADIR PORT SOCKDIR
#		The settings every cluster of ours gets: loopback only, its own
#		port and socket directory, quick shutdown, readable logs.
#
pg_base_conf()
{
	pg_conf "$1" <<EOF

# --- added by test/lib.sh ---
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$3'
max_connections = 100
fsync = off
log_line_prefix = '%m [%p] %q%a %u@%d '
log_min_messages = warning
EOF
}

#
# start_local_remote [REMOTE_CONF [LOCAL_CONF]]
#		Make and start the two clusters of the demo and the benchmark, in
#		$REMOTE and $LOCAL (under $WORK, on $REMOTE_PORT and $LOCAL_PORT):
#		"remote" trusts postgres on its socket and asks everyone else over
#		TCP for a scram-sha-256 password; "local" preloads pgpool_ext (its
#		worker in database postgres) and trusts its socket.  The arguments
#		are extra postgresql.conf lines for each.
#
start_local_remote()
{
	pg_init_cluster "$REMOTE"
	pg_init_cluster "$LOCAL"

	pg_base_conf "$REMOTE" "$REMOTE_PORT" "$WORK"
	printf '%s\n' "${1:-}" | pg_conf "$REMOTE"
	cat >"$REMOTE/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
host    all       all       127.0.0.1/32   scram-sha-256
EOF

	pg_base_conf "$LOCAL" "$LOCAL_PORT" "$WORK"
	pg_conf "$LOCAL" <<EOF
shared_preload_libraries = 'pgpool_ext'
pgpool_ext.database = 'postgres'
${2:-}
EOF
	cat >"$LOCAL/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       all                      trust
host    all       all       127.0.0.1/32   scram-sha-256
EOF
	chown "$PG_OS_USER:" "$REMOTE/pg_hba.conf" "$LOCAL/pg_hba.conf"

	log "starting remote"
	pg_start_cluster "$REMOTE" "$WORK" "$REMOTE_PORT"
	log "starting local (shared_preload_libraries = 'pgpool_ext')"
	pg_start_cluster "$LOCAL" "$WORK" "$LOCAL_PORT"
}

#
# pg_wait_ready SOCKDIR PORT [SECONDS]
#		Wait until the server accepts connections.
#
pg_wait_ready()
{
	local sockdir=$1 port=$2 secs=${3:-60} i

	for ((i = 0; i < secs * 5; i++)); do
		if as_postgres "$PGBIN/pg_isready" -q -h "$sockdir" -p "$port" -t 1; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

#
# pg_start_cluster DATADIR SOCKDIR PORT
#		Start the cluster (log in DATADIR.log) and wait until it is ready.
#
pg_start_cluster()
{
	local datadir=$1 sockdir=$2 port=$3

	if ! as_postgres "$PGBIN/pg_ctl" -D "$datadir" -l "$datadir.log" \
		-w -t 60 start >/dev/null; then
		tail -n 30 "$datadir.log" >&2 || true
		die "could not start the cluster in $datadir"
	fi
	pg_wait_ready "$sockdir" "$port" 60 ||
		die "the cluster in $datadir does not accept connections on port $port"
}

#
# pg_stop_cluster DATADIR
#		Stop the cluster if it runs: fast, then immediate.  Never fails.
#
pg_stop_cluster()
{
	local datadir=$1

	[ -f "$datadir/postmaster.pid" ] || return 0
	as_postgres "$PGBIN/pg_ctl" -D "$datadir" -m fast -w -t 30 stop \
		>/dev/null 2>&1 ||
		as_postgres "$PGBIN/pg_ctl" -D "$datadir" -m immediate -w -t 30 stop \
			>/dev/null 2>&1 ||
		warn "could not stop the cluster in $datadir"
}

#
# pg_stop_all_under DIR
#		Stop every cluster whose data directory is somewhere under DIR
#		(pg_regress temp instances, TAP test nodes, our own clusters).
#
pg_stop_all_under()
{
	local pidfile

	[ -d "$1" ] || return 0
	while IFS= read -r pidfile; do
		pg_stop_cluster "$(dirname "$pidfile")"
	done < <(find "$1" -maxdepth 6 -name postmaster.pid -type f 2>/dev/null)
}

#
# pg_psql SOCKDIR PORT DBNAME [PSQL ARGS...]
#		psql as postgres over the Unix socket: no psqlrc, quiet, stop on
#		the first error, no pager.
#
pg_psql()
{
	local sockdir=$1 port=$2 db=$3
	shift 3

	as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -P pager=off \
		-h "$sockdir" -p "$port" -d "$db" "$@"
}

# The "local" and "remote" clusters of demo.sh and bench/run.sh, in $WORK,
# listening on $LOCAL_PORT and $REMOTE_PORT.
remote_psql()
{
	pg_psql "$WORK" "$REMOTE_PORT" postgres "$@"
}

local_psql()
{
	pg_psql "$WORK" "$LOCAL_PORT" postgres "$@"
}

# poll_local SQL WHAT SECONDS: wait until SQL (a boolean query) is true on
# local, polling every 0.1 s; die naming WHAT after SECONDS.
poll_local()
{
	local deadline=$((SECONDS + $3))

	until [ "$(local_psql -At -c "$1")" = t ]; do
		[ "$SECONDS" -lt "$deadline" ] || die "no $2 within $3 s"
		sleep 0.1
	done
}

# finish_local_remote RC KEEP: the end of an EXIT trap: stop both clusters
# (and anything else under $WORK), remove $WORK unless KEEP is 1, exit RC.
finish_local_remote()
{
	local rc=$1 keep=$2

	log "stopping the clusters"
	pg_stop_cluster "$LOCAL"
	pg_stop_cluster "$REMOTE"
	pg_stop_all_under "$WORK"
	if [ "$keep" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	if [ "$rc" -eq 0 ]; then
		log "done"
	else
		log "failed (exit status $rc)"
	fi
	exit "$rc"
}
