# Resetting released connections when things go wrong: a reset query that
# fails, a reset that outlives connect_timeout, the remote restarting
# during a reset.  Then the local server restarts with handles held.
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
	SELECT pgpool_ext.create_pool('failing', '$ci', min_size => 1, max_size => 1,
		reset_query => 'SELECT 1/0');
	SELECT pgpool_ext.create_pool('slow', '$ci', min_size => 1, max_size => 1,
		reset_query => 'SELECT pg_sleep(30)', connect_timeout => '60s');
	SELECT pgpool_ext.create_pool('stuck', '$ci', min_size => 1, max_size => 1,
		reset_query => 'SELECT pg_sleep(600)', connect_timeout => '1s');");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'three idle connections');

sub remote_pid_of
{
	my ($pool) = @_;
	return $local->safe_psql('postgres',
		"SELECT remote_pid FROM pgpool_ext.connections WHERE pool_name = '$pool'");
}

# Runs $sql in a new session, through a handle of $pool; the handle is
# released and the session closed.
sub use_and_release
{
	my ($pool, $sql) = @_;
	my $s = session($local);
	my $h = sq_ok($s, "SELECT pgpool_ext.acquire('$pool', timeout => '20s')");
	my $out = sq_ok($s, "SELECT pgpool_ext.execute($h, '$sql')");
	sq_ok($s, "SELECT pgpool_ext.release($h)");
	$s->quit;
	return $out;
}

# 1. A reset query that fails: the connection is closed and replaced.
my $pid = remote_pid_of('failing');
is(use_and_release('failing', "SET work_mem = ''7MB''"), 'SET', 'failing: SET work_mem');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'failing' AND state = 'idle' AND remote_pid <> $pid"),
	'failing reset: the connection was replaced');
my ($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('failing', 'SELECT current_setting(''work_mem'')', "
	  . "timeout => '20s') AS t(w text)");
is($out, '4MB', 'failing reset: the next user does not see the old setting');
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'failing reset: the old remote backend is gone');

# 2. A reset longer than connect_timeout: the connection is abandoned and
# replaced.
$pid = remote_pid_of('stuck');
use_and_release('stuck', 'SELECT 1');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'stuck' AND state = 'idle' AND remote_pid <> $pid"),
	'reset past connect_timeout: the connection was replaced');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('stuck', 'SELECT 1', timeout => '20s') AS t(x int)");
is($out, '1', 'reset past connect_timeout: the pool is usable');
ok( poll_query_for($remote, 30,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'reset past connect_timeout: the old remote backend is gone (reset query not left running)');
# If not, end it, so that what follows does not depend on that.
$remote->safe_psql('postgres', "SELECT pg_terminate_backend($pid) FROM pg_stat_activity WHERE pid = $pid");

# 3. The remote restarts while a connection is being reset.
$pid = remote_pid_of('slow');
use_and_release('slow', 'SELECT 1');
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE pool_name = 'slow'"),
	'resetting', 'slow reset: the connection is resetting');
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' "
		  . "AND state = 'active'"),
	'slow reset: the reset query runs on the remote');
$remote->restart;
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.connections WHERE state = 'idle'"),
	'remote restarted during a reset: every pool is back to one idle connection');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('failing', 'SELECT 5', timeout => '20s') AS t(x int)");
is($out, '5', 'remote restarted during a reset: the pools are usable');

# 4. The local server restarts while a session holds handles and a remote
# transaction is open.
my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('failing', timeout => '20s')");
sq_ok($s, "SELECT pgpool_ext.execute($h, 'BEGIN')");
my $before = $local->safe_psql('postgres',
	"SELECT string_agg(remote_pid::text, ',') FROM pgpool_ext.connections");
$local->restart;
eval { $s->quit };
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.connections "
		  . "WHERE state = 'idle' AND remote_pid <> ALL ('{$before}'::int[])"),
	'local restart: the pools come back with their minimum connections');
ok( poll_until('remote has exactly the new connections',
		sub { remote_pool_backends($remote) eq '3' }),
	'local restart: the old connections are closed on the remote');
is( $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"),
	'0', 'local restart: no remote transaction left open');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('failing', 'SELECT 6', timeout => '20s') AS t(x int)");
is($out, '6', 'local restart: the pools are usable');

# 5. A used connection is handed on while its reset runs; the reset then
# fails: the connection is replaced in place, and the new holder's first
# request runs on the replacement.
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('failslow', '$ci', min_size => 1, max_size => 1,
		reset_query => 'SELECT 1 / (count(*) - 1) FROM pg_sleep(3)');
	SELECT pgpool_ext.create_pool('slowreset', '$ci', min_size => 1, max_size => 1,
		reset_query => 'SELECT pg_sleep(3); RESET ALL');");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.connections "
		  . "WHERE pool_name IN ('failslow', 'slowreset') AND state = 'idle'"),
	'failslow, slowreset: one idle connection each');
$pid = remote_pid_of('failslow');
$s = session($local);
$h = sq_ok($s, "SELECT pgpool_ext.acquire('failslow', timeout => '20s')");
sq_ok($s, "SELECT pgpool_ext.execute($h, 'SET work_mem = ''7MB''')");
sq_ok($s, "SELECT pgpool_ext.release($h)");
# the reset takes 3 s: this acquire gets the connection being reset
$h = sq_ok($s, "SELECT pgpool_ext.acquire('failslow', timeout => '20s')");
is( sq_ok($s,
		"SELECT state FROM pgpool_ext.connections WHERE pool_name = 'failslow'"),
	'acquired', 'failslow: the connection being reset was handed out');
my $row = sq_ok($s,
	"SELECT pid || ' ' || w FROM pgpool_ext.query($h, "
	  . "'SELECT pg_backend_pid(), current_setting(''work_mem'')') AS t(pid int, w text)");
my ($newpid, $wm) = split / /, $row;
isnt($newpid, $pid, 'reset failed under a waiting request: it ran on a replacement connection');
is($wm, '4MB', 'reset failed under a waiting request: without the old setting');
is(remote_pid_of('failslow'), $newpid, 'reset failed under a waiting request: the view shows the replacement');
sq_ok($s, "SELECT pgpool_ext.release($h)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'reset failed under a waiting request: the old remote backend is gone');

# 6. A request waiting for a reset can be cancelled; the session's other
# work does not wait for that reset, and the handle stays usable.
$h = sq_ok($s, "SELECT pgpool_ext.acquire('slowreset', timeout => '20s')");
sq_ok($s, "SELECT pgpool_ext.execute($h, 'SET work_mem = ''7MB''')");
sq_ok($s, "SELECT pgpool_ext.release($h)");
$h = sq_ok($s, "SELECT pgpool_ext.acquire('slowreset', timeout => '20s')");
($out, $err) = sq($s,
	"SET statement_timeout = '300ms'; SELECT pgpool_ext.execute($h, 'SELECT 1')");
is(sqlstate($err), '57014', 'waiting for a reset: statement_timeout cancels the request');
sq_ok($s, 'RESET statement_timeout');
is( sq_ok($s, "SELECT * FROM pgpool_ext.run('failing', 'SELECT 8', timeout => '20s') AS t(x int)"),
	'8', 'waiting for a reset: the session can use another pool');
is( $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3); RESET ALL' "
		  . "AND state = 'active'"),
	'1', '... while that reset still runs');
is( sq_ok($s,
		"SELECT w FROM pgpool_ext.query($h, 'SELECT current_setting(''work_mem'')') AS t(w text)"),
	'4MB', 'waiting for a reset: the handle then works, on the reset connection');
sq_ok($s, "SELECT pgpool_ext.release($h)");
$s->quit;
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.connections "
		  . "WHERE pool_name = 'failslow' AND state = 'idle'"),
	'failslow: back to one idle connection');

$local->stop;
$remote->stop;
done_testing();
