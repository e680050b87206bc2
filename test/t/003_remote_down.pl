# The remote server is down when the pool is created: acquire times out
# with 53300 and the libpq error in its detail, the pools view counts the
# failures and shows the last error; once the remote starts, acquire
# succeeds (pgpool_ext.connect_retry_max is 1s in these tests).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The remote listens on TCP so that a stopped server gives
# "Connection refused"; initdb's pg_hba.conf trusts 127.0.0.1.
my $remote = remote_node('remote',
	conf => "listen_addresses = '127.0.0.1'\n", no_start => 1);
my $local = local_node('local');
my $port = $remote->port;
my $ci = "host=127.0.0.1 port=$port dbname=postgres";

# Pool with a minimum size (the janitor connects on its own) and pool
# without (only a waiter makes it connect).
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('pmin', '$ci', min_size => 1, max_size => 2)");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('pzero', '$ci', min_size => 0, max_size => 2)");

ok( $local->poll_query_until('postgres',
		"SELECT connect_failures > 0 FROM pgpool_ext.pools WHERE pool_name = 'pmin'"),
	'pmin: connect failures are counted');
like(
	$local->safe_psql('postgres',
		"SELECT last_connect_error FROM pgpool_ext.pools WHERE pool_name = 'pmin'"),
	qr/Connection refused/,
	'pmin: last_connect_error is the libpq error');

foreach my $pool ('pmin', 'pzero')
{
	my ($out, $err) =
	  psql_err($local, "SELECT pgpool_ext.acquire('$pool', timeout => '1s')");
	is(sqlstate($err), '53300', "$pool: acquire times out with 53300");
	like($err, qr/DETAIL:.*Connection refused/s,
		"$pool: the detail has the libpq connect error");
	like($err, qr/DETAIL:.*position 1/s, "$pool: the detail has the queue position");
	my $row = $local->safe_psql('postgres',
		"SELECT connect_failures > 0, last_connect_error LIKE '%Connection refused%', "
		  . "timeouts, waiting, in_use FROM pgpool_ext.pools WHERE pool_name = '$pool'");
	is($row, 't|t|1|0|0',
		"$pool: pools view: failures counted, last error, one timeout, nobody left waiting");
}
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.waiters'),
	'0', 'waiters view is empty after the timeouts');

# A session waits while the remote is down; the remote starts; it is served.
my $s = session($local);
start_query($s, "SELECT pgpool_ext.acquire('pzero', timeout => '60s') IS NOT NULL");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.waiters WHERE pool_name = 'pzero'"),
	'a session waits in acquire while the remote is down');

$remote->start;

my ($out, $err) = finish_query($s, 60);
is($err, '', 'the waiting acquire succeeds once the remote is up');
is($out, 't', 'and returns a handle');

($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('pmin', 'SELECT 7', timeout => '20s') AS t(x int)");
is($err, '', 'pmin: run() succeeds once the remote is up');
is($out, '7', 'pmin: run() returns the remote result');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) >= 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'pmin' AND state = 'idle'"),
	'pmin: its minimum connection is open');
ok( poll_until(
		'remote pgpool_ext backends = connections view rows',
		sub {
			$local->safe_psql('postgres',
				"SELECT count(*) FROM pgpool_ext.connections WHERE state IN ('idle', 'acquired')"
			) eq remote_pool_backends($remote);
		}),
	'the remote sees as many pool connections as the connections view');

# Down again: the pool notices, counts and recovers.
my $failures = $local->safe_psql('postgres',
	"SELECT connect_failures FROM pgpool_ext.pools WHERE pool_name = 'pmin'");
$remote->stop;
ok( $local->poll_query_until('postgres',
		"SELECT connect_failures > $failures FROM pgpool_ext.pools WHERE pool_name = 'pmin'"),
	'pmin: reconnect failures counted while the remote is stopped');
$remote->start;
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('pmin', 'SELECT 8', timeout => '20s') AS t(x int)");
is($out, '8', 'pmin: usable again after the remote came back');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
