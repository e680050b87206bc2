# target_wait on an installation not yet updated to 0.4: the library of
# 0.4 with schema 0.3 defines pools without the target_wait column, and
# refuses the option with 55000 (at its default it is accepted) until
# ALTER EXTENSION UPDATE; afterwards the column holds the default (10 ms),
# the efficiency view appears and shows it, and the option is stored.
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
	"SELECT pgpool_ext.create_pool('old', '$ci', max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'old'"),
	'0.3 schema: create_pool works, the pool is loaded');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('old', max_size => 3, "
	  . "options => '{\"target_wait\": \"10 ms\"}')");
is($local->safe_psql('postgres', "SELECT max_size FROM pgpool_ext.pools"),
	'3', '0.3 schema: alter_pool works, target_wait at its default is accepted');
my ($out, $err) = psql_err($local,
	"SELECT pgpool_ext.alter_pool('old', options => '{\"target_wait\": \"50 ms\"}')");
like($err,
	qr/ERROR:  55000: pool option "target_wait" needs version 0\.4 of extension pgpool_ext/,
	'0.3 schema: target_wait refused with 55000');
like($err, qr/HINT:  Run ALTER EXTENSION pgpool_ext UPDATE\./, 'with a hint');
($out, $err) = psql_err($local, 'SELECT * FROM pgpool_ext.efficiency');
like($err, qr/42P01/, '0.3 schema: no efficiency view yet');

$local->safe_psql('postgres', "ALTER EXTENSION pgpool_ext UPDATE TO '0.4'");
is( $local->safe_psql('postgres',
		"SELECT target_wait FROM pgpool_ext.pool_definition WHERE pool_name = 'old'"),
	'00:00:00.01', '0.4: the existing pool has the default target_wait');
is( $local->safe_psql('postgres',
		"SELECT target_wait || ' ' || max_size FROM pgpool_ext.efficiency
		  WHERE pool_name = 'old' AND partition IS NULL AND time_window = 'total'"),
	'0.01 3', '0.4: the efficiency view shows it');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('old', options => '{\"target_wait\": \"50 ms\"}')");
is( $local->safe_psql('postgres',
		"SELECT target_wait FROM pgpool_ext.pool_definition WHERE pool_name = 'old'"),
	'00:00:00.05', '0.4: target_wait is stored');
ok( $local->poll_query_until('postgres',
		"SELECT target_wait FROM pgpool_ext.efficiency
		  WHERE pool_name = 'old' AND partition IS NULL AND time_window = 'total'",
		'0.05'),
	'0.4: the worker loads it');

done_testing();
