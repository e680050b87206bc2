# The remote server restarts (fast mode) while a session's remote query
# runs: the session gets 08006, the handle keeps raising 08006 until it is
# released, release works, and the pool replaces the connection.
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

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'one idle connection');

my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $slot = $local->safe_psql('postgres',
	"SELECT slot FROM pgpool_ext.handles h JOIN pgpool_ext.connections c "
	  . "USING (pool_name, holder_pid) WHERE h.handle = $h");
my $old_remote_pid = $local->safe_psql('postgres',
	"SELECT remote_pid FROM pgpool_ext.connections WHERE slot = $slot");
my $connects_before = $local->safe_psql('postgres',
	"SELECT connects FROM pgpool_ext.pools WHERE pool_name = 'p'");

start_query($s,
	"SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep(30)') AS t(x text)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'"),
	'the remote query runs');
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE slot = $slot"),
	'busy', 'connections view: busy while the query runs');

$remote->restart;    # pg_ctl restart: fast mode

my ($out, $err) = finish_query($s, 60);
is(sqlstate($err), '08006', 'the running query fails with 08006 (connection lost)');
is($out, '', 'no rows returned');

($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'the same handle raises 08006 on the next query');
($out, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
is(sqlstate($err), '08006', 'and on execute');
like($err, qr/HINT:.*release/i, 'with a hint to release the handle');
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.handles WHERE handle = $h"),
	'broken', 'handles view: the handle is broken');

($out, $err) = sq($s, "SELECT pgpool_ext.release($h)");
is($err, '', 'release of the lost handle works');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.handles'),
	'0', 'handles view is empty');

my $h2 = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '20s')");
($out, $err) = sq($s,
	"SELECT * FROM pgpool_ext.query($h2, 'SELECT pg_backend_pid()') AS t(pid int)");
is($err, '', 'a new acquire + query works');
isnt($out, $old_remote_pid, 'on a new remote backend');
is( $remote->safe_psql('postgres',
		"SELECT application_name FROM pg_stat_activity WHERE pid = " . ($out || 0)),
	'pgpool_ext', 'which is a pgpool_ext connection of the restarted remote');
sq_ok($s, "SELECT pgpool_ext.release($h2)");

cmp_ok(
	$local->safe_psql('postgres',
		"SELECT connects FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'>', $connects_before, 'the pool made a new connection');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pgpool_ext.connections "
		  . "WHERE state NOT IN ('idle') OR remote_pid = $old_remote_pid"),
	'no broken or old connection left, all idle');
is( $local->safe_psql('postgres',
		"SELECT in_use || ' ' || waiting FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'0 0', 'pools view: nothing in use, nobody waiting');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
