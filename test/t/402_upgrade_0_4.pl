# ALTER EXTENSION pgpool_ext UPDATE TO '0.4' on a live installation of
# 0.3: the 0.3 views keep working with the new library before the update,
# and after it the usage_hourly, usage_by_hour_of_day, efficiency and
# partitions views and dashboard() exist and show the same pool, whose
# counters and held handle survive the update; the new objects have the
# privileges of a fresh installation.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local', create_extension => 0);
my $ci = conninfo_of($remote);

$local->safe_psql('postgres', "CREATE EXTENSION pgpool_ext VERSION '0.3'");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('up', '$ci', min_size => 1, max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT idle FROM pgpool_ext.pools WHERE pool_name = 'up'", '1'),
	'0.3: the pools view works with the new library');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgpool_ext'::regnamespace "
		  . "AND proname IN ('dashboard', 'efficiency_info', 'usage_hourly_info', 'partition_info')"),
	'0', '0.3: none of the 0.4 functions yet');

my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('up', timeout => '10s')");
my $rpid = sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)");
ok($rpid > 0, '0.3: a handle is held');
my $before = $local->safe_psql('postgres',
	"SELECT acquires || ' ' || stats_reset FROM pgpool_ext.pools WHERE pool_name = 'up'");
is( $local->safe_psql('postgres',
		"SELECT count FROM pgpool_ext.latency WHERE pool_name = 'up' "
		  . "AND partition IS NULL AND kind = 'query' AND time_window = 'total'"),
	'1', '0.3: the latency view works with the new library');

$local->safe_psql('postgres', "ALTER EXTENSION pgpool_ext UPDATE TO '0.4'");
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.4', 'updated to 0.4');
is( $local->safe_psql('postgres',
		"SELECT acquires || ' ' || stats_reset FROM pgpool_ext.pools WHERE pool_name = 'up'"),
	$before, '0.4: the same pool, its counters kept');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$rpid, '0.4: the handle held across the update works, on the same connection');
sq_ok($s, "SELECT pgpool_ext.release($h)");

is( $local->safe_psql('postgres',
		"SELECT sum(acquires) FROM pgpool_ext.usage_hourly WHERE pool_name = 'up'"),
	'1', '0.4: usage_hourly counts the acquire made before the update');
is( $local->safe_psql('postgres',
		"SELECT sum(acquires) FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'up'"),
	'1', '0.4: usage_by_hour_of_day folds it');
is( $local->safe_psql('postgres',
		"SELECT count(*) || ' ' || bool_and(max_size = 2) || ' ' || bool_and(target_wait = 0.01) "
		  . "FROM pgpool_ext.efficiency WHERE pool_name = 'up' AND partition IS NULL"),
	'2 true true', '0.4: efficiency has both windows of the pool, target_wait at its default');
is( $local->safe_psql('postgres',
		"SELECT acquires || ' ' || waiting FROM pgpool_ext.partitions "
		  . "WHERE pool_name = 'up' AND partition = ''"),
	'1 0', '0.4: partitions shows the default partition');
is( $local->safe_psql('postgres',
		"SELECT d->>'name' FROM jsonb_array_elements(pgpool_ext.dashboard()->'pools') AS d"),
	'up', '0.4: dashboard() has the pool');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('up', options => '{\"target_wait\": \"50 ms\"}')");
ok( $local->poll_query_until('postgres',
		"SELECT bool_and(target_wait = 0.05) FROM pgpool_ext.efficiency WHERE pool_name = 'up'"),
	'0.4: target_wait is stored and loaded');

# Privileges as a fresh 0.4 installation has them.
$local->safe_psql('postgres',
	"CREATE ROLE plain; CREATE ROLE reader IN ROLE pg_read_all_stats");
for my $q ('SELECT count(*) FROM pgpool_ext.usage_hourly',
	'SELECT count(*) FROM pgpool_ext.usage_by_hour_of_day',
	'SELECT count(*) FROM pgpool_ext.efficiency',
	'SELECT count(*) FROM pgpool_ext.partitions',
	'SELECT pgpool_ext.dashboard()')
{
	my ($out, $err) = psql_err($local, "SET ROLE plain; $q");
	is(sqlstate($err), '42501', "0.4: not for everyone: $q");
	($out, $err) = psql_err($local, "SET ROLE reader; $q");
	is($err, '', "0.4: pg_read_all_stats may: $q");
}

$s->quit;
$local->stop;
$remote->stop;
done_testing();
