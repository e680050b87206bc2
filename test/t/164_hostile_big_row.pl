# Large rows and requests do not pin the pool worker's memory: libpq's
# buffers grow to the largest message and never shrink, so a connection
# that carried a row or a request larger than
# pgpool_ext.max_connection_buffer is closed at release (the pool opens a
# new one) and the worker's resident memory comes back down.  A small
# request keeps its connection.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local', conf => "pgpool_ext.max_connection_buffer = '1MB'\n");
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('big', '$ci', min_size => 1, max_size => 1)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections WHERE pool_name = 'big' AND state = 'idle'"),
	'one idle connection');

# remote_pid of the pool's idle connection, once there is one.
sub idle_pid
{
	$local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections WHERE pool_name = 'big' AND state = 'idle'")
	  or die 'no idle connection';
	return $local->safe_psql('postgres',
		"SELECT remote_pid FROM pgpool_ext.connections WHERE pool_name = 'big'");
}

# a small request: the connection is kept
is( $local->safe_psql('postgres',
		"SELECT x FROM pgpool_ext.run('big', 'SELECT repeat(''s'', 1000)') AS t(x text)"),
	's' x 1000, 'a small row');
my $pid1 = idle_pid();
is( $local->safe_psql('postgres',
		"SELECT x FROM pgpool_ext.run('big', 'SELECT 1') AS t(x int)"),
	'1', 'another small request');
is(idle_pid(), $pid1, 'small requests keep their connection');

my $before = worker_rss($local);
my $closes = $local->safe_psql('postgres',
	"SELECT closes FROM pgpool_ext.pools WHERE pool_name = 'big'");

# (a) a 64 MB row.
is( $local->safe_psql('postgres',
		"SELECT length(x) FROM pgpool_ext.run('big', "
		  . "'SELECT repeat(''x'', 64 * 1024 * 1024)') AS t(x text)"),
	64 * 1024 * 1024, 'a 64 MB value arrives whole');
# (it happens at once: a bounded wait, so that the test fails quickly)
ok( poll_query_for($local, 30,
		"SELECT closes > $closes FROM pgpool_ext.pools WHERE pool_name = 'big'"),
	'the connection that carried it is closed');
my $pid2 = idle_pid();
isnt($pid2, $pid1, 'and replaced by a new one');
my $rss;
ok( poll_until('the worker memory to come down',
		sub { $rss = worker_rss($local); $rss < $before + 16 * 1024 }, 20),
	"the worker's resident memory came back down (before $before kB, now $rss kB)");
like(slurp_file($local->logfile),
	qr/closing connection \d+ of pool "big" after use: it carried a message of \d+ bytes/,
	'the close is logged with its reason');

# (b) a 40 MB request (a parameter), on a held handle.
my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('big')");
is( sq_ok($s,
		"SELECT * FROM pgpool_ext.query($h, 'SELECT length(\$1)', "
		  . "ARRAY[repeat('y', 40 * 1024 * 1024)]) AS t(n int)"),
	40 * 1024 * 1024, 'a 40 MB parameter arrives whole');
is( sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$pid2, 'the holder keeps its connection until it releases it');
sq_ok($s, "SELECT pgpool_ext.release($h)");
ok( poll_query_for($local, 30,
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'big' AND state = 'idle' AND remote_pid <> $pid2"),
	'after release, the connection that carried the request is replaced');
ok( poll_until('the worker memory to come down',
		sub { $rss = worker_rss($local); $rss < $before + 16 * 1024 }, 20),
	"the worker's resident memory came back down (before $before kB, now $rss kB)");
$s->quit;

$local->stop;
$remote->stop;
done_testing();
