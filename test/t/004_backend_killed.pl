# A backend holding two handles (one with an open remote transaction, both
# with session settings changed) is terminated: its handles are released,
# the connections are reset (ROLLBACK, then DISCARD ALL) and become idle,
# and the next session sees clean connections.
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

$remote->safe_psql('postgres', 'CREATE TABLE t (x int)');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 2, max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'two idle connections');

my $a = session($local);
my $a_pid = sq_ok($a, 'SELECT pg_backend_pid()');
my $h1 = sq_ok($a, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $h2 = sq_ok($a, "SELECT pgpool_ext.acquire('p', timeout => '10s')");

# h1: a session setting, then an open transaction that wrote a row.
is(sq_ok($a, "SELECT pgpool_ext.execute($h1, 'SET statement_timeout = ''123s''')"),
	'SET', 'h1: SET statement_timeout');
is(sq_ok($a, "SELECT pgpool_ext.execute($h1, 'BEGIN')"), 'BEGIN', 'h1: BEGIN');
is(sq_ok($a, "SELECT pgpool_ext.execute($h1, 'INSERT INTO t VALUES (1)')"),
	'INSERT 0 1', 'h1: INSERT in the open transaction');
# h2: a session setting and a temp table.
is(sq_ok($a, "SELECT pgpool_ext.execute($h2, 'SET work_mem = ''7MB''')"),
	'SET', 'h2: SET work_mem');
is(sq_ok($a, "SELECT pgpool_ext.execute($h2, 'CREATE TEMP TABLE tmp_a (y int)')"),
	'CREATE TABLE', 'h2: CREATE TEMP TABLE');

is( $remote->safe_psql('postgres',
		"SELECT state FROM pg_stat_activity WHERE application_name = 'pgpool_ext' "
		  . "ORDER BY state"),
	"idle\nidle in transaction",
	'remote: one pool connection idle in transaction');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE holder_pid = $a_pid"),
	'2', 'handles view: session A holds two handles');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.connections "
		  . "WHERE holder_pid = $a_pid AND state = 'acquired'"),
	'2', 'connections view: both acquired by session A');

my $pids_before = $local->safe_psql('postgres',
	"SELECT string_agg(remote_pid::text, ',' ORDER BY remote_pid) FROM pgpool_ext.connections");

# Kill session A.
is($local->safe_psql('postgres', "SELECT pg_terminate_backend($a_pid)"),
	't', 'session A terminated');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $a_pid"),
	'session A is gone');
eval { $a->quit };

ok( $local->poll_query_until('postgres',
		'SELECT count(*) = 0 FROM pgpool_ext.handles'),
	'handles view is empty');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections "
		  . "WHERE state = 'idle' AND holder_pid IS NULL"),
	'both connections are idle again');
ok( $remote->poll_query_until('postgres',
		"SELECT string_agg(state, ',' ORDER BY state) FROM pg_stat_activity "
		  . "WHERE application_name = 'pgpool_ext'",
		'idle,idle'),
	'remote: no pool connection is left in a transaction');
is( $local->safe_psql('postgres',
		"SELECT string_agg(remote_pid::text, ',' ORDER BY remote_pid) FROM pgpool_ext.connections"),
	$pids_before, 'the same remote connections were reset, not replaced');
is($remote->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'0', 'remote: the open transaction was rolled back');
is( $local->safe_psql('postgres',
		"SELECT in_use || ' ' || idle || ' ' || waiting FROM pgpool_ext.pools"),
	'0 2 0', 'pools view: 0 in use, 2 idle, 0 waiting');

# Another session gets both connections, each reset.
my $b = session($local);
my $g1 = sq_ok($b, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $g2 = sq_ok($b, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
foreach my $g ($g1, $g2)
{
	my ($out, $err) = sq($b,
		"SELECT * FROM pgpool_ext.query($g, "
		  . "'SELECT current_setting(''statement_timeout''), current_setting(''work_mem''), "
		  . "(SELECT count(*) FROM pg_class WHERE relname = ''tmp_a''), "
		  . "now() = statement_timestamp()') AS t(st text, wm text, tmp bigint, no_xact bool)");
	is($err, '', "session B handle $g: query works");
	is($out, '0|4MB|0|t',
		"session B handle $g: settings back to defaults, no temp table, no open transaction");
}
sq_ok($b, "SELECT pgpool_ext.release($g1)");
sq_ok($b, "SELECT pgpool_ext.release($g2)");

# A killed backend's handle number is useless to others.
my ($out, $err) = sq($b, "SELECT pgpool_ext.execute($h1, 'SELECT 1')");
is(sqlstate($err), '08003', "the dead session's handle is invalid (08003)");

# A backend killed while its remote query runs: the remote query is
# cancelled and the connection comes back idle.
my $c = session($local);
my $c_pid = sq_ok($c, 'SELECT pg_backend_pid()');
my $hc = sq_ok($c, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
start_query($c, "SELECT * FROM pgpool_ext.query($hc, 'SELECT pg_sleep(60)') AS t(x text)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query = 'SELECT pg_sleep(60)'"),
	'session C: remote query runs');
$local->safe_psql('postgres', "SELECT pg_terminate_backend($c_pid)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' "
		  . "AND state = 'active'"),
	'session C killed: its remote query is no longer running');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pgpool_ext.handles WHERE holder_pid = $c_pid"),
	'session C killed: its handle is released');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'session C killed: both connections idle again');
eval { $c->quit };
($out, $err) = sq($b,
	"SELECT * FROM pgpool_ext.run('p', 'SELECT 5', timeout => '10s') AS t(x int)");
is($out, '5', 'the pool works after session C was killed');

# A backend killed while it waits in acquire leaves nothing queued.
my $g3 = sq_ok($b, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $g4 = sq_ok($b, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $w = session($local);
my $w_pid = sq_ok($w, 'SELECT pg_backend_pid()');
start_query($w, "SELECT pgpool_ext.acquire('p', timeout => '60s')");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.waiters WHERE pid = $w_pid"),
	'session W waits in acquire');
$local->safe_psql('postgres', "SELECT pg_terminate_backend($w_pid)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $w_pid"),
	'session W is gone');
eval { $w->quit };
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.waiters'),
	'0', 'waiters view is empty');
is($local->safe_psql('postgres', 'SELECT waiting FROM pgpool_ext.pools'),
	'0', 'pools view: nobody waiting');
sq_ok($b, "SELECT pgpool_ext.release($g3)");
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.connections WHERE holder_pid = $w_pid"),
	'0', 'the released connection was not handed to the dead waiter');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('p', 'SELECT 9', timeout => '10s') AS t(x int)");
is($out, '9', 'the released connection serves the next session');
sq_ok($b, "SELECT pgpool_ext.release($g4)");

$b->quit;
$local->stop;
$remote->stop;
done_testing();
