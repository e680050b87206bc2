# A definition table locked by another session (LOCK TABLE in an open
# transaction; VACUUM FULL takes the same lock) must not stop the pool
# worker: a committed change asks for a reload, and while the table stays
# locked, queries on held handles keep flowing.  A backend that needs the
# new definitions (acquire) waits for them, and gets them once the lock is
# gone: the worker tries again on a later turn.
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

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 2)");
my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)"),
	'1', 'a held handle works');

my $locker = session($local);
sq_ok($locker, 'BEGIN');
sq_ok($locker, 'LOCK TABLE pgpool_ext.pool_usage IN ACCESS EXCLUSIVE MODE');

# A committed change (it does not touch the locked table) asks for a load.
$local->safe_psql('postgres',
	"UPDATE pgpool_ext.pool_definition SET max_size = 5 WHERE pool_name = 'p'");

# The held handle keeps working while the table is locked.
for my $i (2 .. 4)
{
	start_query($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT $i') AS t(x int)");
	my ($out, $err) = eval { finish_query($s, 30) };
	is($out, $i, "query $i on the held handle runs while the table is locked")
	  or diag($@ || $err);
}
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
		  . "WHERE a.backend_type = 'pgpool_ext worker' AND NOT l.granted"),
	'0', 'the pool worker is not waiting for a lock');

# An acquire needs the new definitions: it waits for the load.
my $waiter = session($local);
start_query($waiter, "SELECT pgpool_ext.acquire('p', timeout => '60s') > 0");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE query LIKE 'SELECT pgpool_ext.acquire(''p'', timeout => ''60s'')%' "
		  . "AND wait_event_type = 'Extension'"),
	'an acquire waits for the definitions to be loaded');

sq_ok($locker, 'COMMIT');
my ($out, $err) = finish_query($waiter, 60);
is($out, 't', 'once the lock is gone, the load is retried and the acquire succeeds')
  or diag $err;
is($local->safe_psql('postgres', "SELECT max_size FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'5', 'the new definition is loaded');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 9') AS t(x int)"),
	'9', 'the held handle still works');

$s->quit;
$locker->quit;
$waiter->quit;
$local->stop;
$remote->stop;
done_testing();
