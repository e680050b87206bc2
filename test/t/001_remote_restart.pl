# The remote server restarts while the pool's connections are idle, and
# while a handle is held without a query running: the pool notices the
# lost connections and replaces them; the held handle raises 08006 until it
# is released.
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
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 2, max_size => 4)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'p' AND state = 'idle'"),
	'min_size 2: two idle connections');

my $old_pids = $local->safe_psql('postgres',
	"SELECT string_agg(remote_pid::text, ',' ORDER BY remote_pid) FROM pgpool_ext.connections");
is( $remote->safe_psql('postgres',
		"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
		  . "WHERE application_name = 'pgpool_ext'"),
	$old_pids,
	'connections view remote_pid values are the remote backends named pgpool_ext');
my $connects_before = $local->safe_psql('postgres',
	"SELECT connects FROM pgpool_ext.pools WHERE pool_name = 'p'");

# Restart the remote while both connections are idle.
$remote->restart;

ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'p' AND state = 'idle' "
		  . "AND remote_pid <> ALL ('{$old_pids}'::int[])"),
	'after the remote restart: two idle connections with new remote pids');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.connections "
		  . "WHERE remote_pid = ANY ('{$old_pids}'::int[])"),
	'0', 'no connection to the old remote backends is left');
cmp_ok(
	$local->safe_psql('postgres',
		"SELECT connects FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'>=', $connects_before + 2,
	'the pool counted the reconnections');
my $new_pids = $local->safe_psql('postgres',
	"SELECT string_agg(remote_pid::text, ',' ORDER BY remote_pid) FROM pgpool_ext.connections");
ok( $remote->poll_query_until('postgres',
		"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
		  . "WHERE application_name = 'pgpool_ext'",
		$new_pids),
	'the remote sees exactly the connections the view shows');

# acquire + query work afterwards.
my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
like($h, qr/^\d+$/, 'acquire after the restart returns a handle');
my ($out, $err) =
  sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(pid int)");
is($err, '', 'query after the restart: no error');
like(",$new_pids,", qr/,$out,/, 'query ran on one of the new connections');

# The remote restarts while the handle is held, no query running: the
# connection is noticed as lost, the handle raises 08006 until released.
my $held_pid = $out;
my $held_slot = $local->safe_psql('postgres',
	"SELECT slot FROM pgpool_ext.connections WHERE remote_pid = $held_pid");
my $s_pid = sq_ok($s, 'SELECT pg_backend_pid()');
$remote->restart;
ok( $local->poll_query_until('postgres',
		"SELECT state || ' ' || holder_pid FROM pgpool_ext.connections "
		  . "WHERE slot = $held_slot",
		"broken $s_pid"),
	'a held connection lost while idle shows state broken, still held');
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.handles WHERE handle = $h"),
	'broken', 'the handles view shows the handle broken');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'using the handle of a lost connection raises 08006');
($out, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
is(sqlstate($err), '08006', 'and raises 08006 again on the next use');
($out, $err) = sq($s, "SELECT pgpool_ext.release($h)");
is($err, '', 'release of the broken handle works');
($out, $err) = sq($s, "SELECT pgpool_ext.release($h)");
is(sqlstate($err), '08003', 'the released handle is invalid (08003)');

($out, $err) = sq($s,
	"SELECT * FROM pgpool_ext.run('p', 'SELECT 40 + 2', timeout => '10s') AS t(x int)");
is($err, '', 'run() after the second restart: no error');
is($out, '42', 'run() after the second restart returns the remote result');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'p' AND state = 'idle'"),
	'the pool is back to two idle connections');
is( $local->safe_psql('postgres',
		"SELECT in_use || ' ' || waiting FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'0 0', 'pools view: nothing in use, nobody waiting');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
