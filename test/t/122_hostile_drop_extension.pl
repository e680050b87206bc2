# DROP EXTENSION pgpool_ext in pgpool_ext.database closes every pool at
# commit: the pools disappear from the views of every database, their
# remote connections close, a held handle gets 08006, and after CREATE
# EXTENSION again there is no pool left over.  A rolled-back DROP
# EXTENSION changes nothing.
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

$local->safe_psql('postgres', "
	CREATE DATABASE other;
	SELECT pgpool_ext.create_pool('p', '$ci', min_size => 2, max_size => 3);
	SELECT pgpool_ext.create_pool('q', '$ci', max_size => 2);
	SELECT pgpool_ext.grant_usage('q', 'public');");
$local->safe_psql('other', 'CREATE EXTENSION pgpool_ext');
ok( poll_until('two remote connections', sub { remote_pool_backends($remote) eq '2' }),
	'pool p opened its two connections');

my $s = session($local, 'other');
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)"),
	'1', 'a handle on p works');

$local->safe_psql('postgres', 'BEGIN; DROP EXTENSION pgpool_ext; ROLLBACK;');
is($local->safe_psql('other', 'SELECT count(*) FROM pgpool_ext.pools'),
	'2', 'a rolled-back DROP EXTENSION leaves both pools');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 2') AS t(x int)"),
	'2', 'and the handle works');

$local->safe_psql('postgres', 'DROP EXTENSION pgpool_ext');
ok($local->poll_query_until('other', 'SELECT count(*) = 0 FROM pgpool_ext.pools'),
	'after DROP EXTENSION the pools are gone from the views of another database');
my ($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 3') AS t(x int)");
is(sqlstate($err), '08006', 'the held handle gets 08006');
($out, $err) = sq($s, "SELECT pgpool_ext.release($h)");
is($err, '', 'and can be released');
ok( poll_until('no remote connection', sub { remote_pool_backends($remote) eq '0' }, 60),
	'every remote connection is closed');
($out, $err) = psql_err($local, "SELECT pgpool_ext.acquire('q', timeout => '1s')", 'other');
is(sqlstate($err), '42704', 'acquire on a pool of the dropped extension: 42704');

$local->safe_psql('postgres', 'CREATE EXTENSION pgpool_ext');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.pool_definition'),
	'0', 'CREATE EXTENSION again: no definition');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.pools'),
	'0', 'and the pools view is empty');

# Dropped with the schema, too.
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('r', '$ci', min_size => 1)");
ok($local->poll_query_until('other', 'SELECT count(*) = 1 FROM pgpool_ext.pools'),
	'a new pool r is loaded');
$local->safe_psql('postgres', 'DROP SCHEMA pgpool_ext CASCADE');
ok($local->poll_query_until('other', 'SELECT count(*) = 0 FROM pgpool_ext.pools'),
	'DROP SCHEMA pgpool_ext CASCADE closes it too');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
