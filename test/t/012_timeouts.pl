# A remote that accepts TCP connections but never answers: connection
# attempts are abandoned after the pool's connect_timeout, counted, and
# other pools are served meanwhile (the worker never blocks on a connect).
# idle_timeout closes connections above min_size.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

# A listening socket nobody accepts on: the kernel completes the TCP
# handshake, the startup packet is never answered.
my $hole_port = PostgreSQL::Test::Cluster::get_free_port();
my $hole = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => $hole_port,
	Proto => 'tcp',
	Listen => 16,
	ReuseAddr => 1) or die "cannot listen on $hole_port: $!";

$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('hole', 'host=127.0.0.1 port=$hole_port dbname=postgres',
		min_size => 1, max_size => 1, connect_timeout => '2s');
	SELECT pgpool_ext.create_pool('ok', '$ci', min_size => 0, max_size => 2,
		idle_timeout => '1s');");

ok( $local->poll_query_until('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE pool_name = 'hole'", 'connecting'),
	'hole: a connection attempt is in progress');
my ($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('ok', 'SELECT 1', timeout => '10s') AS t(x int)");
is($out, '1', 'another pool is served while the attempt hangs');
ok( $local->poll_query_until('postgres',
		"SELECT connect_failures > 0 FROM pgpool_ext.pools WHERE pool_name = 'hole'"),
	'hole: the attempt is abandoned after connect_timeout and counted');
like( $local->safe_psql('postgres',
		"SELECT last_connect_error FROM pgpool_ext.pools WHERE pool_name = 'hole'"),
	qr/time/i, 'hole: last_connect_error says it timed out');
($out, $err) = psql_err($local, "SELECT pgpool_ext.acquire('hole', timeout => '1s')");
is(sqlstate($err), '53300', 'hole: acquire times out with 53300');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('ok', 'SELECT 2', timeout => '10s') AS t(x int)");
is($out, '2', 'the other pool is still served');

# idle_timeout: two connections in use, then released; all but min_size
# (0) are closed after a second idle.
my $s = session($local);
my @h = map { sq_ok($s, "SELECT pgpool_ext.acquire('ok', timeout => '10s')") } 1 .. 2;
is( $local->safe_psql('postgres',
		"SELECT total || ' ' || in_use FROM pgpool_ext.pools WHERE pool_name = 'ok'"),
	'2 2', 'ok: two connections in use');
my $closes = $local->safe_psql('postgres',
	"SELECT closes FROM pgpool_ext.pools WHERE pool_name = 'ok'");
sq_ok($s, "SELECT pgpool_ext.release($_)") for @h;
ok( $local->poll_query_until('postgres',
		"SELECT total FROM pgpool_ext.pools WHERE pool_name = 'ok'", '0'),
	'ok: idle connections closed after idle_timeout');
is( $local->safe_psql('postgres',
		"SELECT closes - $closes FROM pgpool_ext.pools WHERE pool_name = 'ok'"),
	'2', 'ok: two closes counted');
ok(poll_until('remote: no pool connection', sub { remote_pool_backends($remote) eq '0' }),
	'remote: the closed connections are gone');

$s->quit;
$local->stop;
$remote->stop;
close $hole;
done_testing();
