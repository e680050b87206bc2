#!/usr/bin/env bash
#
# test/setup.sh
#		Install what building and testing pgpool_ext needs, then build and
#		install the extension.
#
# Run as root on Debian 12.  Idempotent: packages are installed only when
# missing (and "apt-get update" runs only then), and a second build is a
# no-op for make.  Used by test/check.sh, test/demo.sh and test/bench/run.sh;
# it can also be run on its own.
#
# Environment: PG_CONFIG, the server to build for (test/lib.sh: by default
# the pg_config on PATH, else Debian's PostgreSQL 15).  The Debian packages
# are those of its major version (postgresql-server-dev-NN...).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOG_TAG=setup
# shellcheck source=test/lib.sh
. "$HERE/lib.sh"

require_root

# True if the Debian package is installed.
pkg_installed()
{
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# extension_installed NAME: true if the server has the extension NAME
extension_installed()
{
	[ -n "$PG_SHAREDIR" ] && [ -f "$PG_SHAREDIR/extension/$1.control" ]
}

missing=()

# pg_config and PGXS come with postgresql-server-dev-NN, the server with
# postgresql-NN.  dblink and postgres_fdw are used by the benchmarks; on
# Debian the contrib modules ship in postgresql-NN, which provides the
# virtual package postgresql-contrib-NN.
if [ ! -x "$PG_CONFIG" ] || [ ! -f "$("$PG_CONFIG" --pgxs)" ]; then
	missing+=("postgresql-server-dev-$PG_MAJOR")
fi
[ -n "$PGBIN" ] && [ -x "$PGBIN/postgres" ] || missing+=("postgresql-$PG_MAJOR")
if [ -x "$PG_CONFIG" ] && ! extension_installed dblink; then
	missing+=("postgresql-contrib-$PG_MAJOR")
fi
pkg_installed libipc-run-perl || missing+=(libipc-run-perl)
if ! command -v gcc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
	missing+=(build-essential)
fi

if [ ${#missing[@]} -gt 0 ]; then
	log "installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q "${missing[@]}"
	pg_paths
else
	log "all required packages are installed"
fi

[ -x "$PG_CONFIG" ] || die "pg_config not found at $PG_CONFIG"
[ -f "$("$PG_CONFIG" --pgxs)" ] ||
	die "PGXS not found; is postgresql-server-dev-$PG_MAJOR installed?"
[ -x "$PGBIN/postgres" ] ||
	die "PostgreSQL $PG_MAJOR server not found in $PGBIN"
extension_installed dblink ||
	die "dblink is not installed (expected $PG_SHAREDIR/extension/dblink.control)"
id "$PG_OS_USER" >/dev/null 2>&1 || die "OS user $PG_OS_USER does not exist"

log "PostgreSQL: $("$PG_CONFIG" --version), programs in $PGBIN"
log "building pgpool_ext in $ROOT"
make --no-print-directory -C "$ROOT" -j"$(nproc)" PG_CONFIG="$PG_CONFIG"

log "installing pgpool_ext into $("$PG_CONFIG" --pkglibdir)"
make --no-print-directory -C "$ROOT" install PG_CONFIG="$PG_CONFIG"

log "done"
