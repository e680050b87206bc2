# A LISTEN left on a pooled connection (reset_query '' keeps it): a flood of
# notifications arriving while the connection sits idle is read and thrown
# away by the pool worker, whose memory stays flat, and the connection stays
# usable.
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
	"SELECT pgpool_ext.create_pool('l', '$ci', min_size => 1, max_size => 1, reset_query => '')");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections WHERE pool_name = 'l' AND state = 'idle'"),
	'one idle connection');
my $rpid = $local->safe_psql('postgres',
	"SELECT remote_pid FROM pgpool_ext.connections WHERE pool_name = 'l'");

$local->safe_psql('postgres', q{
DO $$
DECLARE h bigint;
BEGIN
	h := pgpool_ext.acquire('l');
	PERFORM pgpool_ext.execute(h, 'LISTEN flood');
	PERFORM pgpool_ext.release(h);
END $$});
ok( $local->poll_query_until('postgres',
		"SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'l'"),
	'the listening connection is idle again');

my $w = worker_pid($local);
my $before = worker_rss($local);
# 20,000 notifications of 1 kB (all different: equal ones are sent once):
# 20 MB that the worker must not keep
$remote->safe_psql('postgres',
	"SELECT count(pg_notify('flood', i || repeat('x', 1000))) FROM generate_series(1, 20000) AS i");
# The remote backend can only send them as fast as the worker reads: once
# the queue is (nearly) empty, the worker has read them all.
ok( $remote->poll_query_until('postgres',
		'SELECT pg_notification_queue_usage() < 0.0005'),
	'the worker read every notification');
my $growth = worker_rss($local) - $before;
cmp_ok($growth, '<', 8 * 1024,
	"the worker's resident memory stayed flat ($growth kB more after 20 MB of notifications)");
is(worker_pid($local), $w, 'the worker did not restart');

is( $local->safe_psql('postgres',
		"SELECT pid = $rpid FROM pgpool_ext.run('l', 'SELECT pg_backend_pid()') AS t(pid int)"),
	't', 'the same connection still works');

$local->stop;
$remote->stop;
done_testing();
