# Two sessions race in the defining functions; the limits hold.
#  - Two create_pool of one name: the second waits for the first and gets
#    42710 (also in REPEATABLE READ), never a unique violation (23505).
#  - Two grant_usage at 31 grants: the second waits, then gets 53400; 32
#    grants are stored, none silently refused by the worker.
#  - pgpool_ext.max_pools definitions: one more is refused at once (53400,
#    hint naming the parameter), also when two sessions race for the last
#    place; the pools that exist all load.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = local_node('local', conf => "pgpool_ext.max_pools = 4\n");
my $ci = 'host=/nonexistent dbname=postgres';
my $a = session($node);
my $b = session($node);
my $b_pid = sq_ok($b, 'SELECT pg_backend_pid()');

# Is session B waiting for a lock?  Bounded: with the race unguarded, B
# does not wait at all.
sub b_waits
{
	return poll_query_for($node, 20,
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $b_pid");
}

# create_pool, READ COMMITTED
sq_ok($a, 'BEGIN');
sq_ok($a, "SELECT pgpool_ext.create_pool('race', '$ci')");
start_query($b, "SELECT pgpool_ext.create_pool('race', '$ci')");
ok(b_waits(), 'create_pool: the second session waits for the first');
sq_ok($a, 'COMMIT');
my ($out, $err) = finish_query($b);
is(sqlstate($err), '42710', 'create_pool: the second gets 42710 (duplicate object)');
like($err, qr/pool "race" already exists/, 'create_pool: the message names the pool');

# create_pool, REPEATABLE READ: B's snapshot is older than A's commit
sq_ok($b, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
sq_ok($b, 'SELECT count(*) FROM pg_class');
sq_ok($a, 'BEGIN');
sq_ok($a, "SELECT pgpool_ext.create_pool('race_rr', '$ci')");
start_query($b, "SELECT pgpool_ext.create_pool('race_rr', '$ci')");
ok(b_waits(), 'create_pool (repeatable read): the second session waits');
sq_ok($a, 'COMMIT');
($out, $err) = finish_query($b);
is(sqlstate($err), '42710', 'create_pool (repeatable read): the second gets 42710');
sq_ok($b, 'ROLLBACK');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.pool_definition WHERE pool_name LIKE 'race%'"),
	'2', 'one definition each');

# grant_usage at 31 grants
$node->safe_psql('postgres', "
	DO \$\$BEGIN
	  FOR i IN 1..33 LOOP EXECUTE format('CREATE ROLE race_r%s', i); END LOOP;
	END\$\$;
	SELECT pgpool_ext.grant_usage('race', 'race_r' || i) FROM generate_series(1, 31) i;");
sq_ok($a, 'BEGIN');
sq_ok($a, "SELECT pgpool_ext.grant_usage('race', 'race_r32')");
start_query($b, "SELECT pgpool_ext.grant_usage('race', 'race_r33')");
ok(b_waits(), 'grant_usage: the second session waits for the first');
sq_ok($a, 'COMMIT');
($out, $err) = finish_query($b);
is(sqlstate($err), '53400', 'grant_usage: the 33rd grant gets 53400');
like($err, qr/already has 32 grants/, 'grant_usage: the message says why');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.pool_usage WHERE pool_name = 'race'"),
	'32', '32 grants stored');
# re-granting a role that has it is no new grant
($out, $err) = sq($b, "SELECT pgpool_ext.grant_usage('race', 'race_r32')");
is(sqlstate($err), '', 'granting again at 32 grants is harmless');
# every stored grant is applied: the 32nd role may acquire (it times out
# for want of a server, after the usage check)
($out, $err) = psql_err($node,
	"SET ROLE race_r32; SELECT pgpool_ext.acquire('race', timeout => '10ms')");
is(sqlstate($err), '53300', 'the 32nd grant was applied by the worker');

# max_pools (4): 'race', 'race_rr', and two more
$node->safe_psql('postgres', "SELECT pgpool_ext.create_pool('lim_1', '$ci')");
sq_ok($a, 'BEGIN');
sq_ok($a, "SELECT pgpool_ext.create_pool('lim_2', '$ci')");
start_query($b, "SELECT pgpool_ext.create_pool('lim_3', '$ci')");
ok(b_waits(), 'create_pool at the limit: the second session waits');
sq_ok($a, 'COMMIT');
($out, $err) = finish_query($b);
is(sqlstate($err), '53400', 'create_pool beyond max_pools: 53400');
like($err, qr/HINT:.*pgpool_ext\.max_pools/, 'the hint names pgpool_ext.max_pools');
($out, $err) = psql_err($node, "SELECT pgpool_ext.create_pool('lim_4', '$ci')");
is(sqlstate($err), '53400', 'create_pool beyond max_pools, alone: 53400');
ok( $node->poll_query_until('postgres',
		'SELECT count(*) = 4 FROM pgpool_ext.pools'),
	'the four pools defined are loaded');
# dropping one makes room again
$node->safe_psql('postgres', "SELECT pgpool_ext.drop_pool('lim_1')");
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.pools"),
	'the dropped pool is gone');
$node->safe_psql('postgres', "SELECT pgpool_ext.create_pool('lim_4', '$ci')");
ok( $node->poll_query_until('postgres',
		"SELECT string_agg(pool_name, ',' ORDER BY pool_name) = 'lim_2,lim_4,race,race_rr' "
		  . 'FROM pgpool_ext.pools'),
	'a pool created in its place is loaded');

$a->quit;
$b->quit;
$node->stop;
done_testing();
