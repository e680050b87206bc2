# Sizing across pools and within one.
#
# (a) Slots (pgpool_ext.max_connections = 4) are shared by every pool: when
#     pool b has waiters and every slot holds an idle connection of pool a,
#     the least recently used idle connection of a above its min_size is
#     closed for b; a keeps its min_size, and a timeout then says that
#     every connection of pgpool_ext.max_connections is in use.
# (b) Lowering max_size with alter_pool closes idle connections above the
#     new maximum at once, and held ones when they are released.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote', conf => "max_connections = 30\n");
my $local = local_node('local', conf => "pgpool_ext.max_connections = 4\n");
my $ci = conninfo_of($remote);

# Count of a pool's connections in the connections view (optionally in
# one state).
sub conns
{
	my ($pool, $state) = @_;
	my $cond = defined $state ? " AND state = '$state'" : '';
	return $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.connections WHERE pool_name = '$pool'$cond");
}

# (a) one pool's idle connections do not starve another.
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('a', '$ci', min_size => 2, max_size => 4);
	SELECT pgpool_ext.create_pool('b', '$ci', min_size => 0, max_size => 4);");
my $s = session($local);
my @ha = map { sq_ok($s, "SELECT pgpool_ext.acquire('a', timeout => '30s')") } 1 .. 4;
sq_ok($s, "SELECT pgpool_ext.release($_)") for @ha;
ok(poll_query_for($local, 30,
		"SELECT count(*) = 4 FROM pgpool_ext.connections WHERE pool_name = 'a' AND state = 'idle'"),
	'pool a holds every slot, all idle');

my ($out, $err) = sq($s, "SELECT pgpool_ext.acquire('b', timeout => '15s')");
is(sqlstate($err), '', 'pool b gets a connection although a has every slot')
  or diag $err;
my $hb1 = $out;
($out, $err) = sq($s, "SELECT pgpool_ext.acquire('b', timeout => '15s')");
is(sqlstate($err), '', 'and a second one') or diag $err;
my $hb2 = $out;
is(scalar(sq($s, "SELECT pgpool_ext.execute(${\ ($hb2 || 0) }, 'SELECT 1')")),
	'SELECT 1', 'the connection of b works');
is(conns('a'), '2', 'a gave up two idle connections, down to its min_size');
($out, $err) = sq($s, "SELECT pgpool_ext.acquire('b', timeout => '1s')");
is(sqlstate($err), '53300', 'a third acquire of b times out: a is at its min_size');
like($err,
	qr/DETAIL:  Waited \d+ ms at position 1 in the queue; all 4 connections of pgpool_ext\.max_connections are in use\./,
	'the 53300 detail names pgpool_ext.max_connections as the cause');
is(conns('a'), '2', 'a keeps its min_size');
sq($s, "SELECT pgpool_ext.release($_)") for grep { $_ } ($hb1, $hb2);
$local->safe_psql('postgres', "
	SELECT pgpool_ext.drop_pool('a');
	SELECT pgpool_ext.drop_pool('b');");
ok(poll_query_for($local, 30, 'SELECT count(*) = 0 FROM pgpool_ext.connections'),
	'dropped pools: no connection left');

# (b) lowering max_size.
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('shrink', '$ci', min_size => 0, max_size => 4)");
my @h = map { sq_ok($s, "SELECT pgpool_ext.acquire('shrink', timeout => '30s')") } 1 .. 4;
sq_ok($s, "SELECT pgpool_ext.release($h[0])");
sq_ok($s, "SELECT pgpool_ext.release($h[1])");
ok(poll_query_for($local, 30,
		"SELECT count(*) = 2 FROM pgpool_ext.connections WHERE pool_name = 'shrink' AND state = 'idle'"),
	'shrink: two idle, two held');
$local->safe_psql('postgres', "SELECT pgpool_ext.alter_pool('shrink', max_size => 1)");
ok(poll_query_for($local, 15,
		"SELECT count(*) = 0 FROM pgpool_ext.connections WHERE pool_name = 'shrink' AND state = 'idle'"),
	'max_size lowered to 1: the idle connections are closed at once');
is(conns('shrink'), '2', 'the two held connections stay');
is(sq_ok($s, "SELECT pgpool_ext.execute($h[2], 'SELECT 1')"), 'SELECT 1',
	'a held connection still works');
sq_ok($s, "SELECT pgpool_ext.release($h[2])");
ok(poll_query_for($local, 15,
		"SELECT count(*) = 1 FROM pgpool_ext.connections WHERE pool_name = 'shrink'"),
	'released above max_size: closed, not handed out');
($out, $err) = sq($s, "SELECT pgpool_ext.acquire('shrink', timeout => '200ms')");
is(sqlstate($err), '53300', 'the pool at its new max_size: a new acquire waits');
sq_ok($s, "SELECT pgpool_ext.release($h[3])");
ok(poll_query_for($local, 15,
		"SELECT count(*) = 1 FROM pgpool_ext.connections WHERE pool_name = 'shrink' AND state = 'idle'"),
	'released within max_size: kept, idle');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.run('shrink', 'SELECT 7', timeout => '10s') AS t(x int)");
is($out, '7', 'the pool works at its new size');
is(remote_pool_backends($remote), '1', 'the remote server has one pool connection');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
