# ALTER EXTENSION pgpool_ext UPDATE TO '0.3' on a live installation of
# 0.2: the 0.2 pools view keeps working with the new library before the
# update (its C function is kept), and after it the pools view has the
# wait columns and the latency and histogram views and reset_stats()
# exist, with the pools, their handles and their counters unchanged.
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

$local->safe_psql('postgres', "CREATE EXTENSION pgpool_ext VERSION '0.2'");
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.2', 'version 0.2 installed');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('up', '$ci', min_size => 1, max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT idle FROM pgpool_ext.pools WHERE pool_name = 'up'", '1'),
	'0.2: the pools view works with the new library');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM information_schema.columns "
		  . "WHERE table_schema = 'pgpool_ext' AND table_name = 'pools'"),
	'22', '0.2: the pools view has its 22 columns');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pg_proc WHERE proname IN ('latency_info', 'reset_stats')"),
	'0', '0.2: no latency functions yet');

my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('up', timeout => '10s')");
my $rpid = sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)");
ok($rpid > 0, '0.2: a handle is held');
my $before = $local->safe_psql('postgres',
	"SELECT acquires || ' ' || stats_reset FROM pgpool_ext.pools WHERE pool_name = 'up'");
is( $local->safe_psql('postgres',
		"SELECT * FROM pgpool_ext.pools WHERE pool_name = 'up'") ne '',
	1, '0.2: SELECT * from pools works');

$local->safe_psql('postgres', "ALTER EXTENSION pgpool_ext UPDATE TO '0.3'");
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.3', 'updated to 0.3');
is( $local->safe_psql('postgres',
		"SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
		  . "FROM information_schema.columns "
		  . "WHERE table_schema = 'pgpool_ext' AND table_name = 'pools' AND ordinal_position > 20"),
	'last_connect_error,stats_reset,wait_p50,wait_p95,wait_p99,max_wait',
	'0.3: the pools view has the wait columns');
is( $local->safe_psql('postgres',
		"SELECT acquires || ' ' || stats_reset FROM pgpool_ext.pools WHERE pool_name = 'up'"),
	$before, '0.3: the same pool, its counters kept');
is( $local->safe_psql('postgres',
		"SELECT max_wait FROM pgpool_ext.pools WHERE pool_name = 'up'"),
	'0', '0.3: no waiter');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$rpid, '0.3: the handle held across the update works, on the same connection');
sq_ok($s, "SELECT pgpool_ext.release($h)");
is( $local->safe_psql('postgres',
		"SELECT count || ' ' || (max > 0) FROM pgpool_ext.latency "
		  . "WHERE pool_name = 'up' AND partition IS NULL AND kind = 'query' "
		  . "AND time_window = 'total'"),
	'2 true', '0.3: the latency view shows the queries of the handle');
ok( $local->safe_psql('postgres',
		"SELECT count(*) > 0 FROM pgpool_ext.histogram WHERE pool_name = 'up'") eq 't',
	'0.3: the histogram view shows them');
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('up')");
is( $local->safe_psql('postgres',
		"SELECT sum(count) FROM pgpool_ext.latency WHERE pool_name = 'up'"),
	'0', '0.3: reset_stats empties them');

# Privileges as a fresh 0.3 installation has them.
$local->safe_psql('postgres',
	"CREATE ROLE plain; CREATE ROLE reader IN ROLE pg_read_all_stats");
my ($out, $err) = psql_err($local, 'SET ROLE plain; SELECT count(*) FROM pgpool_ext.latency');
is(sqlstate($err), '42501', '0.3: the latency view is not for everyone');
($out, $err) = psql_err($local, 'SET ROLE plain; SELECT count(*) FROM pgpool_ext.pools');
is(sqlstate($err), '42501', '0.3: nor the pools view');
($out, $err) = psql_err($local,
	"SET ROLE reader; SELECT count(*) FROM pgpool_ext.pools, pgpool_ext.latency, pgpool_ext.histogram");
is($err, '', '0.3: pg_read_all_stats reads the views');
($out, $err) = psql_err($local, "SET ROLE reader; SELECT pgpool_ext.reset_stats('up')");
is(sqlstate($err), '42501', '0.3: reset_stats is for superusers');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
