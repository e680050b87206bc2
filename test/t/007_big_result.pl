# A result of 1,000,000 rows (~110 MB of text) streams from the remote
# through the pool worker into the backend with bounded memory: the peak
# resident set (VmHWM) of neither process grows by anything near the size
# of the result.  Also with a consumer slower than the remote (the worker
# must stop reading that socket, not buffer, and keep serving others).
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
my $bound_kb = 64 * 1024;

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 3)");

# Peak resident set size of a process, in kB.
sub vmhwm
{
	my ($pid) = @_;
	my $status = slurp_file("/proc/$pid/status");
	$status =~ /^VmHWM:\s+(\d+)\s+kB/m or die "no VmHWM for $pid";
	return $1;
}

my $s = session($local);
my $backend = sq_ok($s, 'SELECT pg_backend_pid()');
my $worker = worker_pid($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
# warm up: load the library's code paths and catalog caches of the backend
is(sq_ok($s, "SELECT count(*) FROM pgpool_ext.query($h, 'SELECT g, repeat(''x'', 100) "
		  . "FROM generate_series(1, 1000) g') AS t(a int, b text)"),
	'1000', 'warm-up query');

my ($b0, $w0) = (vmhwm($backend), vmhwm($worker));
my ($out, $err) = sq($s,
	"SELECT count(*), sum(a) FROM pgpool_ext.query($h, "
	  . "'SELECT g, repeat(''x'', 100) FROM generate_series(1, 1000000) g') "
	  . "AS t(a int, b text)");
is($err, '', '1,000,000 rows: no error');
is($out, '1000000|500000500000', '1,000,000 rows: count and sum are right');
my ($b1, $w1) = (vmhwm($backend), vmhwm($worker));
note "backend VmHWM $b0 -> $b1 kB, worker VmHWM $w0 -> $w1 kB";
cmp_ok($b1 - $b0, '<', $bound_kb, 'backend peak memory grew by less than 64 MiB');
cmp_ok($w1 - $w0, '<', $bound_kb, 'pool worker peak memory grew by less than 64 MiB');

# The same through query_json.
($out, $err) = sq($s,
	"SELECT count(*), sum((j->>'a')::int) FROM pgpool_ext.query_json($h, "
	  . "'SELECT g AS a, repeat(''y'', 100) AS b FROM generate_series(1, 1000000) g') AS j");
is($out, '1000000|500000500000', 'query_json, 1,000,000 rows: count and sum are right');
my ($b2, $w2) = (vmhwm($backend), vmhwm($worker));
note "after query_json: backend VmHWM $b2 kB, worker VmHWM $w2 kB";
cmp_ok($b2 - $b0, '<', $bound_kb, 'query_json: backend peak memory bounded');
cmp_ok($w2 - $w0, '<', $bound_kb, 'query_json: worker peak memory bounded');

# A consumer slower than the remote: the second session's backend is
# stopped (SIGSTOP) while its result streams.  The worker must stop reading
# that socket (the remote backend then waits in ClientWrite) and keep
# serving other sessions, without buffering the result.  The remote query
# sleeps 1 s before its first row, time to stop the backend.
my $slow = session($local);
my $slow_pid = sq_ok($slow, 'SELECT pg_backend_pid()');
my $hs = sq_ok($slow, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $sb0 = vmhwm($slow_pid);
my $slow_sql = "SELECT g, repeat(''z'', 500) FROM generate_series(1, 300000) g "
  . "WHERE g > 1 OR pg_sleep(1) IS NOT NULL";
start_query($slow,
	"SELECT count(*), sum(length(b)) FROM pgpool_ext.query($hs, '$slow_sql') "
	  . "AS t(a int, b text)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE state = 'active' AND query LIKE '%generate_series(1, 300000)%' "
		  . "AND pid <> pg_backend_pid()"),
	'slow consumer: the remote query runs');
kill 'STOP', $slow_pid or die "cannot stop $slow_pid: $!";
my $stopped = 1;
END { kill 'CONT', $slow_pid if $stopped; }

ok( $remote->poll_query_until('postgres',
		"SELECT wait_event FROM pg_stat_activity "
		  . "WHERE query LIKE '%generate_series(1, 300000)%' AND pid <> pg_backend_pid()",
		'ClientWrite'),
	'slow consumer: the remote server waits to send (the worker stopped reading)');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 42') AS t(x int)"),
	'42', 'slow consumer: another session is served meanwhile');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('p', 'SELECT 43', timeout => '10s') AS t(x int)");
is($out, '43', 'slow consumer: run() from a third session is served meanwhile');
my $w_stopped = vmhwm($worker);

kill 'CONT', $slow_pid;
$stopped = 0;
($out, $err) = finish_query($slow, 120);
is($err, '', 'slow consumer: no error');
is($out, '300000|150000000', 'slow consumer: count and sum are right');
my ($sb1, $w3) = (vmhwm($slow_pid), vmhwm($worker));
note "slow consumer: backend VmHWM $sb0 -> $sb1 kB, worker VmHWM $w_stopped (stopped) -> $w3 kB";
cmp_ok($sb1 - $sb0, '<', $bound_kb, 'slow consumer: backend peak memory bounded');
cmp_ok($w3 - $w0, '<', $bound_kb, 'slow consumer: worker peak memory bounded');

# Cancel while the worker waits for room in the backend's queue: stop the
# backend mid-stream, cancel it, let it go; it errors out, the worker
# cancels the remote query and the handle is usable.  The remote result is
# endless for all practical purposes (50M rows of 500 bytes, streamed by a
# set-returning function in the target list): only a cancel that reaches
# the remote server ends it, draining it would take far longer than
# connect_timeout.
my $endless_sql = "SELECT g, repeat(''z'', 500) FROM (SELECT generate_series(1, 50000000) g) s "
  . "WHERE g > 1 OR pg_sleep(1) IS NOT NULL";
my $endless_q = "SELECT count(*) FROM pgpool_ext.query($hs, '$endless_sql') AS t(a int, b text)";
my $running = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
  . "AND query LIKE '%generate_series(1, 50000000)%' AND pid <> pg_backend_pid()";
start_query($slow, $endless_q);
ok($remote->poll_query_until('postgres', $running, '1'),
	'cancel on a full queue: the remote query runs');
kill 'STOP', $slow_pid or die "cannot stop $slow_pid: $!";
$stopped = 1;
ok( $remote->poll_query_until('postgres',
		"SELECT wait_event FROM pg_stat_activity "
		  . "WHERE query LIKE '%generate_series(1, 50000000)%' AND pid <> pg_backend_pid()",
		'ClientWrite'),
	'cancel on a full queue: the remote server waits to send');
$local->safe_psql('postgres', "SELECT pg_cancel_backend($slow_pid)");
kill 'CONT', $slow_pid;
$stopped = 0;
($out, $err) = finish_query($slow, 120);
is(sqlstate($err), '57014', 'cancel on a full queue: 57014');
ok($remote->poll_query_until('postgres', $running, '0'),
	'cancel on a full queue: the remote query is gone');
($out, $err) = sq($slow, "SELECT * FROM pgpool_ext.query($hs, 'SELECT 44') AS t(x int)");
is($err, '', 'cancel on a full queue: the handle is usable');
is($out, '44', 'cancel on a full queue: with its own result only');
unlike(slurp_file($local->logfile), qr/did not answer the cancel request/,
	'cancel on a full queue: the cancel reached the remote server (no drain timeout)');
is($worker, worker_pid($local), 'the pool worker did not restart');

sq_ok($s, "SELECT pgpool_ext.release($h)");
sq_ok($slow, "SELECT pgpool_ext.release($hs)");
$s->quit;
$slow->quit;
$local->stop;
$remote->stop;
done_testing();
