# The pool worker is terminated while (a) a session holds a handle, idle,
# (b) a session waits in acquire, (c) a session's remote query runs.  The
# worker is restarted; (a) the handle raises 08006 until released, (b) the
# waiter is served, (c) the query fails with 08006 instead of hanging; the
# views are consistent and the remote has no connection left from the dead
# worker.
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
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 2, max_size => 4)");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('w', '$ci', min_size => 1, max_size => 1)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'three idle connections');
my $old_pids = $local->safe_psql('postgres',
	"SELECT string_agg(remote_pid::text, ',') FROM pgpool_ext.connections");

# (a) session A holds a used handle, idle.
my $sa = session($local);
my $ha = sq_ok($sa, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
is(sq_ok($sa, "SELECT * FROM pgpool_ext.query($ha, 'SELECT 1') AS t(x int)"),
	'1', 'A: the handle works before the worker dies');

# (b) session B holds pool w's only connection, session C waits for it.
my $sb = session($local);
my $hb = sq_ok($sb, "SELECT pgpool_ext.acquire('w', timeout => '10s')");
my $sc = session($local);
my $c_pid = sq_ok($sc, 'SELECT pg_backend_pid()');
start_query($sc, "SELECT pgpool_ext.acquire('w', timeout => '90s') AS hc \\gset");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.waiters "
		  . "WHERE pid = $c_pid AND pool_name = 'w' AND position = 1"),
	'C waits for pool w');

# (c) session D runs a long remote query.
my $sd = session($local);
my $hd = sq_ok($sd, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
start_query($sd, "SELECT * FROM pgpool_ext.query($hd, 'SELECT pg_sleep(600)') AS t(x text)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query = 'SELECT pg_sleep(600)'"),
	'D: the remote query runs');

# Kill the worker.
my $old_worker = worker_pid($local);
like($old_worker, qr/^\d+$/, 'the pool worker runs');
is($local->safe_psql('postgres', "SELECT pg_terminate_backend($old_worker)"),
	't', 'pool worker terminated');
my $new_worker = wait_new_worker($local, $old_worker);
isnt($new_worker, $old_worker, 'the pool worker was restarted with a new pid');

# (c) the running query fails, it does not hang.
my ($out, $err) = finish_query($sd, 60);
is(sqlstate($err), '08006', 'D: the running query fails with 08006');
($out, $err) = sq($sd, "SELECT * FROM pgpool_ext.query($hd, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'D: the handle keeps raising 08006');
($out, $err) = sq($sd, "SELECT pgpool_ext.release($hd)");
is($err, '', 'D: release works');

# (a) the idle handle is broken.
($out, $err) = sq($sa, "SELECT * FROM pgpool_ext.query($ha, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'A: using the handle after the worker restart raises 08006');
($out, $err) = sq($sa, "SELECT pgpool_ext.release($ha)");
is($err, '', 'A: release works');
my $ha2 = sq_ok($sa, "SELECT pgpool_ext.acquire('p', timeout => '20s')");
($out, $err) = sq($sa, "SELECT * FROM pgpool_ext.query($ha2, 'SELECT 2') AS t(x int)");
is($err, '', 'A: a new acquire + query works');
is($out, '2', 'A: and returns the remote result');
sq_ok($sa, "SELECT pgpool_ext.release($ha2)");

# (b) C is served by a new connection of the new worker, while B still
# holds its broken handle (a broken connection is not open any more).
($out, $err) = finish_query($sc, 60);
is($err, '', 'C: the waiting acquire is served after the worker restart');
is( $local->safe_psql('postgres',
		"SELECT string_agg(state || ':' || holder_pid, ',' ORDER BY state) "
		  . "FROM pgpool_ext.connections WHERE pool_name = 'w'"),
	'acquired:' . $c_pid . ',broken:' . sq_ok($sb, 'SELECT pg_backend_pid()'),
	'pool w: C holds a new connection, B its broken one');
($out, $err) = sq($sb, "SELECT * FROM pgpool_ext.query($hb, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'B: its handle raises 08006');
($out, $err) = sq($sb, "SELECT pgpool_ext.release($hb)");
is($err, '', 'B: release of its broken handle works');
($out, $err) = sq($sc, "SELECT * FROM pgpool_ext.query(:hc, 'SELECT 3') AS t(x int)");
is($err, '', 'C: query on the handle it got works');
is($out, '3', 'C: and returns the remote result');
sq_ok($sc, "SELECT pgpool_ext.release(:hc)");

# Nothing is stuck.
ok( $local->poll_query_until('postgres',
		"SELECT string_agg(pool_name || ':' || in_use || ':' || waiting, ',' ORDER BY pool_name) "
		  . "FROM pgpool_ext.pools",
		'p:0:0,w:0:0'),
	'pools view: nothing in use, nobody waiting');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.handles'),
	'0', 'handles view is empty');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.waiters'),
	'0', 'waiters view is empty');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pgpool_ext.connections "
		  . "WHERE state <> 'idle' OR remote_pid = ANY ('{$old_pids}'::int[])"),
	'every connection is idle and none is from the dead worker');
# (the remote backend of D's query too: its query must not run on)
ok( poll_query_for($remote, 30,
		"SELECT count(*) = 0 FROM pg_stat_activity "
		  . "WHERE pid = ANY ('{$old_pids}'::int[])"),
	'remote: the dead worker\'s connections are gone, its running query too');
# If not, end them, so that what follows does not depend on that.
$remote->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	  . "WHERE pid = ANY ('{$old_pids}'::int[])");
ok( poll_until(
		'remote pgpool_ext backends = connections view rows',
		sub {
			$local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.connections')
			  eq remote_pool_backends($remote);
		},
		30),
	'remote: as many pgpool_ext backends as rows in the connections view');
ok( $local->poll_query_until('postgres',
		"SELECT string_agg(pool_name || ':' || idle, ',' ORDER BY pool_name) "
		  . "FROM pgpool_ext.pools",
		'p:2,w:1'),
	'pools are back to their minimum sizes');

# A second kill with nothing held: the pools come back.
$old_worker = $new_worker;
$old_pids = $local->safe_psql('postgres',
	"SELECT string_agg(remote_pid::text, ',') FROM pgpool_ext.connections");
$local->safe_psql('postgres', "SELECT pg_terminate_backend($old_worker)");
$new_worker = wait_new_worker($local, $old_worker);
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.connections "
		  . "WHERE state = 'idle' AND remote_pid <> ALL ('{$old_pids}'::int[])"),
	'second kill: three new idle connections');
ok( poll_until(
		'remote pgpool_ext backends = 3',
		sub { remote_pool_backends($remote) eq '3' }),
	'second kill: the remote has exactly the three new connections');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('w', 'SELECT 4', timeout => '10s') AS t(x int)");
is($out, '4', 'second kill: run() works');

$sa->quit;
$sb->quit;
$sc->quit;
$sd->quit;
$local->stop;
$remote->stop;
done_testing();
