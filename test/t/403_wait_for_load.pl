# An acquire that first waits for the pool worker to load committed
# definitions counts that wait in its wait: the worker is stopped (SIGSTOP)
# after a definition change, an acquire waits for the load, and the wait it
# records is at least as long as the client saw it wait before the worker
# went on.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('lw', '$ci', min_size => 1, max_size => 1)");
ok( $local->poll_query_until('postgres',
		"SELECT idle FROM pgpool_ext.pools WHERE pool_name = 'lw'", '1'),
	'the pool has its connection');
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('lw')");

my $s = session($local);
my $spid = sq_ok($s, 'SELECT pg_backend_pid()');
my $worker = worker_pid($local);
kill 'STOP', $worker or die "cannot stop the worker $worker: $!";
$local->safe_psql('postgres', "SELECT pgpool_ext.alter_pool('lw', connect_timeout => '20s')");
start_query($s, "SELECT pgpool_ext.acquire('lw', timeout => '60s')");
ok( $local->poll_query_until('postgres',
		"SELECT wait_event = 'Extension' FROM pg_stat_activity WHERE pid = $spid"),
	'the acquire waits for the definitions to be loaded');
my $seen = time();
# the worker stays stopped for half a second: the wait to measure
usleep(500_000);
my $cont = time();
kill 'CONT', $worker or die "cannot continue the worker $worker: $!";
my ($h, $err) = finish_query($s);
is($err, '', 'the acquire is granted once the worker has loaded them');
ok( $local->poll_query_until('postgres',
		"SELECT count = 1 FROM pgpool_ext.latency WHERE pool_name = 'lw' "
		  . "AND partition IS NULL AND kind = 'wait' AND time_window = 'total'"),
	'one wait recorded');
my $max = $local->safe_psql('postgres',
	"SELECT max FROM pgpool_ext.latency WHERE pool_name = 'lw' "
	  . "AND partition IS NULL AND kind = 'wait' AND time_window = 'total'");
ok($max >= $cont - $seen,
	sprintf('the wait (%.3f s) includes the wait for the load (at least %.3f s)',
		$max, $cont - $seen));
sq_ok($s, "SELECT pgpool_ext.release($h)");

$s->quit;
$local->stop;
$remote->stop;
done_testing();
