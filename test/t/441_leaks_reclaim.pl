# Reclaiming leaked handles (leak_action 'reclaim'): a handle held
# leak_reclaim_after past its pool's leak_threshold is taken back; its
# connection is reset and returned to the pool; the holder's next call
# fails with 08003 and a detail saying it was reclaimed and after how long;
# a remote query the holder runs at that moment is cancelled.  Also: the
# leak views show a role without pg_read_all_stats only its own sessions'
# rows, and an acquiring statement that holds a password is masked.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

$local->safe_psql('postgres', qq{
CREATE ROLE app_user LOGIN;
CREATE ROLE other_user LOGIN;
CREATE ROLE watcher LOGIN IN ROLE pg_read_all_stats;
SELECT pgpool_ext.create_pool('r', '$ci', min_size => 1, max_size => 1,
                              password_required => false,
                              options => '{"leak_threshold": "1s", "leak_action": "reclaim", "leak_reclaim_after": "1s"}');
SELECT pgpool_ext.create_pool('rep', '$ci', max_size => 4,
                              password_required => false,
                              options => '{"leak_threshold": "1s"}');
SELECT pgpool_ext.grant_usage('r', 'public');
SELECT pgpool_ext.grant_usage('rep', 'public');
});
is( $local->safe_psql('postgres',
		"SELECT pool_name, leak_threshold, leak_action, leak_reclaim_after "
		  . "FROM pgpool_ext.pool_definition ORDER BY 1"),
	"r|00:00:01|reclaim|00:00:01\nrep|00:00:01|report|00:00:00",
	'leak options stored');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'r' AND state = 'idle'"),
	'pool r has its connection');
my $remote_pid = $local->safe_psql('postgres',
	"SELECT remote_pid FROM pgpool_ext.connections WHERE pool_name = 'r'");
my $logstart = -s $local->logfile;

# 1. An idle leaked handle: reclaimed, reset, returned to the pool.
my $a = session_as($local, 'postgres', 'app_user');
my $a_pid = sq_ok($a, 'SELECT pg_backend_pid()');
my $h = sq_ok($a, "SELECT pgpool_ext.acquire('r', timeout => '10s')");
sq_ok($a, "SELECT pgpool_ext.execute($h, 'SET work_mem = ''7MB''')");
sq_ok($a, "SELECT pgpool_ext.execute($h, 'CREATE TEMP TABLE leak_tmp (x int)')");
ok( $local->poll_query_until('postgres',
		"SELECT reclaimed AND released_at IS NOT NULL AND held_for >= 2 "
		  . "FROM pgpool_ext.leak_history WHERE handle = $h"),
	'leak_history: the handle was reclaimed');
like(
	slurp_file($local->logfile, $logstart),
	qr/LOG: .*pgpool_ext: reclaimed leaked handle $h of pool "r" from pid $a_pid after \d\d:\d\d:\d\d/,
	'the reclaim is logged');
is($local->safe_psql('postgres', "SELECT count(*) FROM pgpool_ext.handles WHERE handle = $h"),
	'0', 'handles: the reclaimed handle is no longer held');
is( $local->safe_psql('postgres',
		"SELECT count || ' ' || (max >= 1.9) FROM pgpool_ext.latency "
		  . "WHERE pool_name = 'r' AND partition IS NULL AND kind = 'hold' "
		  . "AND time_window = 'total'"),
	'1 true', 'latency: the reclaimed hold is recorded, with its length');

my ($out, $err) = sq($a, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
is(sqlstate($err), '08003', "the holder's next call fails with 08003");
like(
	$err,
	qr/invalid pgpool_ext handle $h\n.*DETAIL:  The handle was reclaimed as leaked after \d\d:\d\d:0[2-9]/,
	'the detail says it was reclaimed as leaked, and after how long');
($out, $err) = sq($a, "SELECT pgpool_ext.release($h)");
is(sqlstate($err), '08003', 'release of the reclaimed handle fails the same way');
like($err, qr/reclaimed as leaked/, 'with the same detail');

my $b = session($local);
my $g = sq_ok($b, "SELECT pgpool_ext.acquire('r', timeout => '10s')");
is( sq_ok($b,
		"SELECT * FROM pgpool_ext.query($g, 'SELECT current_setting(''work_mem''), "
		  . "(SELECT count(*) FROM pg_class WHERE relname = ''leak_tmp'')') AS t(wm text, n bigint)"),
	'4MB|0', "the next holder gets a reset connection (setting and temp table gone)");
is( $local->safe_psql('postgres',
		"SELECT remote_pid FROM pgpool_ext.connections WHERE pool_name = 'r'"),
	$remote_pid, 'the same remote connection, reset, not replaced');
sq_ok($b, "SELECT pgpool_ext.release($g)");

# A handle released before its reclaim is released normally.
my $h1 = sq_ok($a, "SELECT pgpool_ext.acquire('r', timeout => '10s')");
sq_ok($a, "SELECT pgpool_ext.release($h1)");
($out, $err) = sq($a, "SELECT pgpool_ext.release($h1)");
unlike($err, qr/reclaimed/, 'a released handle is not called reclaimed');

# 2. A leaked handle running a remote query: the query is cancelled and
# the holder's call fails with 08003.
my $h2 = sq_ok($a, "SELECT pgpool_ext.acquire('r', timeout => '10s')");
sq_ok($a, "SELECT pgpool_ext.execute($h2, 'BEGIN')");
start_query($a,
	"SELECT * FROM pgpool_ext.query($h2, 'SELECT pg_sleep(60)') AS t(x text)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query = 'SELECT pg_sleep(60)'"),
	'the leaker runs a remote query');
my $ended;
($ended, $out, $err) = finish_query_within($a, 30);
ok($ended, 'the running call ends');
is(sqlstate($err), '08003', 'the running call fails with 08003 when reclaimed');
like($err, qr/The handle was reclaimed as leaked after/, 'with the reclaim detail');
ok( poll_query_for($remote, 10,
		"SELECT count(*) = 0 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query = 'SELECT pg_sleep(60)'"),
	'the remote query was cancelled');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'r' AND state = 'idle'"),
	'the connection is back in the pool');
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity "
		  . "WHERE application_name = 'pgpool_ext' AND state <> 'idle'"),
	'the remote transaction was rolled back');
is( sq_ok($b, "SELECT * FROM pgpool_ext.run('r', 'SELECT 7', timeout => '10s') AS t(x int)"),
	'7', 'the pool works after the reclaim');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.leak_history WHERE handle = $h2 AND reclaimed"),
	'1', 'leak_history: the second reclaim');

# 3. Visibility and masking, in pool "rep" (report only).
my $c = session_as($local, 'postgres', 'other_user');
my $c_pid = sq_ok($c, 'SELECT pg_backend_pid()');
my $hc = sq_ok($c, "SELECT pgpool_ext.acquire('rep', timeout => '10s')");
# a statement quoting secrets acquires a handle
# (a newline around "=", quotes escaped with a backslash inside quoted
# passwords, and a URI whose password the 1 kB cut of the statement splits:
# the part before the cut is masked too)
my $stmt =
	"SELECT pgpool_ext.acquire('rep', timeout => '10s') AS h, "
  . "'host=x password=hunter2 user=u' AS ci, "
  . "'postgresql://u:hunter3\@h/db' AS uri, '{\"password\": \"hunter4\"}' AS j, "
  . "'password\n=\n hunter6' AS nl, "
  . "'x password=''ab\\''hunter8''' AS esc, '{\"password\": \"ab\\\"hunter9\"}' AS jesc, ";
my $cut_uri = "'postgresql://u:";
$stmt .= '/*' . ('x' x (1015 - length($stmt) - 4 - length($cut_uri))) . '*/'
  . $cut_uri . "hunter7hunter7hunter7\@h' AS cut";
my $hs = sq_ok($b, $stmt);
$hs =~ s/\|.*//s;
# and one that also creates a pool with a password in its conninfo
my $hp = sq_ok($b,
	"SELECT pgpool_ext.create_pool('pw', '$ci password=hunter5'), "
	  . "pgpool_ext.acquire('rep', timeout => '10s')");
$hp =~ s/^\|//;
my $ha = sq_ok($a, "SELECT pgpool_ext.acquire('rep', timeout => '10s')");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 4 FROM pgpool_ext.leaks WHERE pool_name = 'rep'"),
	'four leaks in pool rep');
ok( poll_until('four events', sub {
		$local->safe_psql('postgres',
			"SELECT count(*) FROM pgpool_ext.leak_history WHERE pool_name = 'rep'") eq '4' }),
	'four events in leak_history');

is( sq_ok($c, "SELECT string_agg(handle::text, ',') FROM pgpool_ext.leaks"),
	$hc, 'a role without pg_read_all_stats sees only its own leaks');
is( sq_ok($c, "SELECT string_agg(handle::text, ',') FROM pgpool_ext.leak_history"),
	$hc, 'and only its own leak_history events');
is( sq_ok($a, "SELECT count(*) FROM pgpool_ext.leak_history"),
	'3', 'app_user sees its three events (two reclaims, one leak)');
my $w = session_as($local, 'postgres', 'watcher');
is( sq_ok($w, "SELECT count(*) FROM pgpool_ext.leaks WHERE pool_name = 'rep'"),
	'4', 'a member of pg_read_all_stats sees every leak');
is( sq_ok($w, "SELECT count(*) FROM pgpool_ext.leak_history"),
	'6', 'and every event');

my $q = $local->safe_psql('postgres',
	"SELECT acquire_query FROM pgpool_ext.leaks WHERE handle = $hs");
unlike($q, qr/hunter/, 'acquire_query: passwords masked');
like($q, qr/password=\*{8} user=u/, 'acquire_query: password=********');
like($q, qr/postgresql:\/\/u:\*{8}\@h\/db/, 'acquire_query: URI password masked');
like($q, qr/"password": "\*{8}"/, 'acquire_query: JSON password masked');
$q = $local->safe_psql('postgres',
	"SELECT acquire_query FROM pgpool_ext.leaks WHERE handle = $hp");
like($q, qr/create_pool\('pw', '.*password=\*{8}'\)/, 'acquire_query with create_pool: masked');
ok( poll_until('the WARNINGs', sub {
		my $log = slurp_file($local->logfile, $logstart);
		my @n = ($log =~ /possible leak: handle \d+ of pool "rep"/g);
		return @n == 4; }),
	'the four WARNINGs are logged');
# (the test servers log every statement themselves: look at our lines)
my @acquired_by = (slurp_file($local->logfile, $logstart) =~ /Acquired by: ([^\n]*)/g);
is(scalar @acquired_by, 6, 'six acquire sites logged (two reclaimed in pool r, four in rep)');
unlike(join("\n", @acquired_by), qr/hunter/, 'no password in the WARNINGs');
unlike( $local->safe_psql('postgres',
		"SELECT string_agg(acquire_query, ' ') FROM pgpool_ext.leak_history"),
	qr/hunter/, 'no password in leak_history');

$a->quit;
$b->quit;
$c->quit;
$w->quit;
$local->stop;
$remote->stop;
done_testing();
