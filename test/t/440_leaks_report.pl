# Leak reports: a PL/pgSQL function acquires a handle and returns without
# releasing it, and its session stays open.  Once the handle is held longer
# than the pool's leak threshold it is listed in pgpool_ext.leaks with the
# function and line that acquired it, a WARNING naming pool, handle,
# holder, role, application_name and acquire site is in the server log
# (once), leak_history has the event; its release logs a LOG line and ends
# the event.  Pools follow pgpool_ext.leak_threshold unless they set their
# own leak_threshold; '0' turns detection off for a pool.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local', conf => "pgpool_ext.leak_threshold = '1s'\n");
my $ci = conninfo_of($remote);

$local->safe_psql('postgres', qq{
CREATE ROLE app_user LOGIN;
SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 3,
                              password_required => false);
SELECT pgpool_ext.create_pool('quiet', '$ci', max_size => 1,
                              password_required => false);
SELECT pgpool_ext.grant_usage('p', 'app_user');
SELECT pgpool_ext.grant_usage('quiet', 'app_user');
CREATE SCHEMA app;
GRANT USAGE ON SCHEMA app TO app_user;
CREATE FUNCTION app.sync() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE
  h bigint;
BEGIN
  PERFORM 1;
  -- the handle is acquired below and never released
  h := pgpool_ext.acquire('p', timeout => '10s');
  PERFORM pgpool_ext.execute(h, 'SELECT 1');
  RETURN h;
END
\$\$;
});
# detection off for pool "quiet" (the option overrides the GUC)
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('quiet', options => '{\"leak_threshold\": \"0\"}')");

my $logstart = -s $local->logfile;

# The leaker: app_user, application_name leaky_app.
my $a = session_as($local, 'postgres', 'app_user');
sq_ok($a, "SET application_name = 'leaky_app'");
my $a_pid = sq_ok($a, 'SELECT pg_backend_pid()');
my $h = sq_ok($a, 'SELECT app.sync()');
like($h, qr/^\d+$/, 'app.sync() returned a handle');
my $hq = sq_ok($a, "SELECT pgpool_ext.acquire('quiet', timeout => '10s')");

ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.leaks WHERE handle = $h"),
	'the leaked handle is listed in pgpool_ext.leaks');
is( $local->safe_psql('postgres',
		"SELECT pool_name, partition IS NULL, holder_pid, role, database, "
		  . "application_name, backend_state, requests, "
		  . "acquire_query ~ '^SELECT app.sync\\(\\)', "
		  . "held_for >= 1, idle_for >= 0, client_addr IS NULL "
		  . "FROM pgpool_ext.leaks WHERE handle = $h"),
	"p|t|$a_pid|app_user|postgres|leaky_app|idle|1|t|t|t|t",
	'leaks: pool, holder, role, database, application_name, state, requests, query');
like( $local->safe_psql('postgres',
		"SELECT acquire_context FROM pgpool_ext.leaks WHERE handle = $h"),
	qr/^PL\/pgSQL function app\.sync\(\) line 7 at assignment$/m,
	'leaks: acquire_context names the function and the line');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.leaks WHERE pool_name = 'quiet'"),
	'0', 'a pool with leak_threshold 0 reports nothing');

# The WARNING, once.
my $log;
ok( poll_until(
		'the WARNING',
		sub {
			$log = slurp_file($local->logfile, $logstart);
			return $log =~ /possible leak: handle $h of pool "p"/;
		}),
	'WARNING in the server log');
like(
	$log,
	qr/WARNING: .*pgpool_ext: possible leak: handle $h of pool "p" held by pid $a_pid for [^\n]*\n[^\n]*DETAIL:  Role "app_user", application_name "leaky_app"\.\n\s*Acquired by: SELECT app\.sync\(\)\n\s*;\n\s*Acquire context: PL\/pgSQL function app\.sync\(\) line 7 at assignment/,
	'WARNING names pool, handle, pid, role, application_name and acquire site');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.leak_history WHERE handle = $h "
		  . "AND released_at IS NULL AND NOT reclaimed AND pool_name = 'p' "
		  . "AND holder_pid = $a_pid AND role = 'app_user' "
		  . "AND application_name = 'leaky_app' "
		  . "AND acquire_query ~ '^SELECT app.sync\\(\\)' "
		  . "AND acquire_context LIKE '%app.sync() line 7 at assignment%'"),
	'1', 'leak_history: the event, not released yet');

# The remote transaction status is shown.
sq_ok($a, "SELECT pgpool_ext.execute($h, 'BEGIN')");
ok( $local->poll_query_until('postgres',
		"SELECT remote_in_transaction FROM pgpool_ext.leaks WHERE handle = $h"),
	'leaks: remote_in_transaction after BEGIN');
is( $local->safe_psql('postgres',
		"SELECT requests FROM pgpool_ext.leaks WHERE handle = $h"),
	'2', 'leaks: requests counted');
sq_ok($a, "SELECT pgpool_ext.execute($h, 'ROLLBACK')");
ok( $local->poll_query_until('postgres',
		"SELECT NOT remote_in_transaction FROM pgpool_ext.leaks WHERE handle = $h"),
	'leaks: not in a remote transaction after ROLLBACK');

# Reported once only: the next passes of the janitor stay quiet.
ok( $local->poll_query_until('postgres',
		"SELECT held_for > 3 FROM pgpool_ext.leaks WHERE handle = $h"),
	'held for some passes more');
$log = slurp_file($local->logfile, $logstart);
my @warnings = ($log =~ /possible leak: handle $h /g);
is(scalar @warnings, 1, 'one WARNING per handle');

# Release: the LOG line and the end of the event.
sq_ok($a, "SELECT pgpool_ext.release($h)");
ok( poll_until(
		'the release LOG line',
		sub {
			$log = slurp_file($local->logfile, $logstart);
			return $log =~
			  /LOG: .*pgpool_ext: previously reported leaked handle $h of pool "p" was released after \d\d:\d\d:\d\d/;
		}),
	'release logs "previously reported leaked handle ... was released after ..."');
is($local->safe_psql('postgres', "SELECT count(*) FROM pgpool_ext.leaks WHERE handle = $h"),
	'0', 'leaks: the released handle is gone');
is( $local->safe_psql('postgres',
		"SELECT released_at IS NOT NULL, held_for > 3, NOT reclaimed "
		  . "FROM pgpool_ext.leak_history WHERE handle = $h"),
	't|t|t', 'leak_history: released, held_for at release');

# A handle acquired by a plain statement, released before the threshold:
# nothing is reported.
my $h2 = sq_ok($a, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
sq_ok($a, "SELECT pgpool_ext.release($h2)");
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.leak_history WHERE handle = $h2"),
	'0', 'a handle released in time is never an event');

# Turning detection off with the GUC (pool "p" follows it).
$local->append_conf('postgresql.conf', "pgpool_ext.leak_threshold = 0\n");
$local->reload;
ok( $local->poll_query_until('postgres',
		"SELECT current_setting('pgpool_ext.leak_threshold') = '0'"),
	'leak_threshold is 0 after reload');
my $h3 = sq_ok($a, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
ok( $local->poll_query_until('postgres',
		"SELECT clock_timestamp() - acquired_at > '2s' FROM pgpool_ext.handles "
		  . "WHERE handle = $h3"),
	'held for longer than the old threshold');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.leaks"),
	'0', 'with the GUC at 0 nothing is listed');
sq_ok($a, "SELECT pgpool_ext.release($h3)");
sq_ok($a, "SELECT pgpool_ext.release($hq)");

$a->quit;
$local->stop;
$remote->stop;
done_testing();
