# Partition keys cannot take the default partitions of later pools.
#
# pgpool_ext.max_pools = 3, pgpool_ext.max_partitions = 4.  A role with
# usage on pool p1 makes partition keys until refused: it gets exactly 4
# (over all pools), then 53400 naming the limit.  Pools created afterwards
# still get their default partition: acquire works and min_size is kept.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local',
	conf => "pgpool_ext.max_pools = 3\npgpool_ext.max_partitions = 4\n");
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p1', '$ci', min_size => 0, max_size => 2)");

# Make keys k1..k8 (each acquire creates its partition, then times out: the
# pool has no connection for it in 1 ms, or is refused with 53400).
my @states;
for my $k (1 .. 8)
{
	my ($out, $err) = psql_err($local,
		"SELECT pgpool_ext.acquire('p1', partition => 'k$k', timeout => '1ms')");
	push @states, sqlstate($err) || 'ok';
	if ($k == 8)
	{
		like($err,
			qr/DETAIL:  Partition keys are limited to 4 over all pools \(pgpool_ext\.max_partitions\)\./,
			'53400 detail names the limit');
	}
}
note "acquire states: @states";
is(scalar(grep { $_ ne '53400' } @states[0 .. 3]), 4, 'the first 4 keys are made');
is(scalar(grep { $_ eq '53400' } @states[4 .. 7]), 4, 'every further key: 53400');

# Later pools still get their default partition.
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('p2', '$ci', min_size => 1, max_size => 2);
	SELECT pgpool_ext.create_pool('p3', '$ci', min_size => 1, max_size => 2);");
foreach my $p ('p2', 'p3')
{
	my ($out, $err) = psql_err($local,
		"SELECT * FROM pgpool_ext.run('$p', 'SELECT 42', timeout => '10s') AS t(x int)");
	is($out, '42', "$p: run() works") or diag $err;
	ok( poll_query_for($local, 15,
			"SELECT count(*) = 1 FROM pgpool_ext.connections "
			  . "WHERE pool_name = '$p' AND state = 'idle' AND partition IS NULL"),
		"$p: min_size 1 is kept in its default partition");
}
# and a key of a later pool is refused the same way: the limit is global
my ($out, $err) = psql_err($local,
	"SELECT pgpool_ext.acquire('p2', partition => 'x', timeout => '1ms')");
is(sqlstate($err), '53400', 'a key of p2: 53400 (the 4 keys are over all pools)');

$local->stop;
$remote->stop;
done_testing();
