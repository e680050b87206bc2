# Changing a pool's conninfo to another server recycles it: idle
# connections are closed at once, a held one keeps working until it is
# released and is then closed.  drop_pool with handles held fails (55006)
# unless forced; forced, a running query gets 08006.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $r1 = remote_node('remote1');
my $r2 = remote_node('remote2');
my $local = local_node('local');
$r1->safe_psql('postgres', "CREATE TABLE whoami AS SELECT 'remote1'::text AS name");
$r2->safe_psql('postgres', "CREATE TABLE whoami AS SELECT 'remote2'::text AS name");

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '" . conninfo_of($r1) . "', min_size => 2, max_size => 3)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'two idle connections to remote1');

my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT name FROM whoami') AS t(n text)"),
	'remote1', 'the held handle talks to remote1');

$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('p', conninfo => '" . conninfo_of($r2) . "')");
ok( poll_until('remote1 has only the held connection',
		sub { remote_pool_backends($r1) eq '1' }),
	'alter_pool: remote1 idle connections closed, the held one kept');
ok( poll_until('remote2 has a pool connection', sub { remote_pool_backends($r2) >= 1 }),
	'alter_pool: a new connection goes to remote2 (min_size 2 counts the held one)');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT name FROM whoami') AS t(n text)"),
	'remote1', 'the held handle still works on remote1');
sq_ok($s, "SELECT pgpool_ext.release($h)");
ok( poll_until('remote1 has no pool connection', sub { remote_pool_backends($r1) eq '0' }),
	'released: the old connection to remote1 is closed');
ok( poll_until('remote2 has the pool minimum', sub { remote_pool_backends($r2) eq '2' }),
	'released: remote2 has the pool minimum, 2 connections');
my ($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('p', 'SELECT name FROM whoami', timeout => '10s') AS t(n text)");
is($out, 'remote2', 'a new acquire talks to remote2');
like($local->safe_psql('postgres', "SELECT conninfo FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	qr/port=${\ $r2->port }/, 'pools view shows the new conninfo');

# drop_pool with a handle held.
$h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
($out, $err) = psql_err($local, "SELECT pgpool_ext.drop_pool('p')");
is(sqlstate($err), '55006', 'drop_pool with a handle held: 55006');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.pools'),
	'1', 'the pool is still there');

start_query($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep(600)') AS t(x text)");
ok( $r2->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query = 'SELECT pg_sleep(600)'"),
	'a remote query runs');
($out, $err) = psql_err($local, "SELECT pgpool_ext.drop_pool('p', force => true)");
is($err, '', 'drop_pool force with a running query: no error');
($out, $err) = finish_query($s, 60);
is(sqlstate($err), '08006', 'the running query gets 08006');
($out, $err) = sq($s, "SELECT pgpool_ext.release($h)");
is($err, '', 'release after the forced drop works') or diag $err;
ok($local->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pgpool_ext.pools'),
	'the pool is gone from the pools view');
ok($local->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pgpool_ext.connections'),
	'no connection left in the connections view');
ok( poll_until('remote2 has no pool connection',
		sub { remote_pool_backends($r2) eq '0' }, 30),
	'remote2: every pool connection is closed');
is( $r2->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'"),
	'0', 'remote2: the query that was running is not left running');
($out, $err) = psql_err($local, "SELECT pgpool_ext.acquire('p', timeout => '1s')");
is(sqlstate($err), '42704', 'acquire from the dropped pool: 42704');

$s->quit;
$local->stop;
$r1->stop;
$r2->stop;
done_testing();
