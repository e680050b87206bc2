# pg_dump / pg_restore round trip: the pool definitions and usage grants
# of one server are restored into a fresh server with pgpool_ext
# preloaded, whose worker loads them: the pools work there at once.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $src = local_node('source');
my $ci = conninfo_of($remote);

$src->safe_psql('postgres', "
	CREATE ROLE reader LOGIN;
	SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 3,
		idle_timeout => '2 min', reset_query => 'RESET ALL');
	SELECT pgpool_ext.create_pool('q', '$ci', options => '{\"max_size\": 2}');
	SELECT pgpool_ext.grant_usage('q', 'reader');");
my $defs_sql = "SELECT pool_name, min_size, max_size, idle_timeout, reset_query, "
  . "password_required FROM pgpool_ext.pools ORDER BY pool_name";
my $defs = $src->safe_psql('postgres', $defs_sql);

my $dumpfile = $src->basedir . '/pgpool.dump';
command_ok([ 'pg_dump', '-Fc', '-f', $dumpfile, '-d', $src->connstr('postgres') ],
	'pg_dump -Fc of the source database');

my $dst = local_node('target', create_extension => 0);
$dst->safe_psql('postgres', 'CREATE ROLE reader LOGIN');
command_ok([ 'pg_restore', '-d', $dst->connstr('postgres'), $dumpfile ],
	'pg_restore into the target server');

is($dst->safe_psql('postgres', $defs_sql), $defs,
	'target: the pools view shows the same definitions');
is( $dst->safe_psql('postgres',
		"SELECT pool_name || ':' || role FROM pgpool_ext.pool_usage ORDER BY 1"),
	'q:reader', 'target: the usage grant is restored');
ok( $dst->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'p' AND state = 'idle'"),
	'target: pool p opened its minimum connection');
my ($out, $err) = psql_err($dst,
	"SELECT * FROM pgpool_ext.run('q', 'SELECT 11', timeout => '10s') AS t(x int)");
is($out, '11', 'target: run() on a restored pool works');
($out, $err) = psql_err($dst,
	"SET ROLE reader; SELECT pgpool_ext.acquire('p', timeout => '1s')");
is(sqlstate($err), '42501', 'target: reader has no usage on p');

$src->stop;
$dst->stop;
$remote->stop;
done_testing();
