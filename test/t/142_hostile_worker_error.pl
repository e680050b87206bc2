# An ERROR inside the pool worker does not restart it:
#  - pg_cancel_backend(<worker pid>), idle or while requests run: the worker
#    goes on, running requests complete, every handle stays usable;
#  - out of memory while the worker packs a huge row: that request fails
#    with 54000 ("out of memory"), the handle stays usable on the same remote connection, and
#    other sessions' handles never notice;
#  - SIGTERM (pg_terminate_backend) still stops the worker.
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
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 2, max_size => 3)");

my $s = session($local);
my $s2 = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $h2 = sq_ok($s2, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $rpid = sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)");
my $rpid2 =
  sq_ok($s2, "SELECT * FROM pgpool_ext.query($h2, 'SELECT pg_backend_pid()') AS t(p int)");
my $worker = worker_pid($local);
ok($worker ne '', 'the pool worker runs');

# Count of a log line so far, to wait for the next one.
sub log_count
{
	my ($re) = @_;
	my @m = (slurp_file($local->logfile) =~ /$re/g);
	return scalar @m;
}
my $recovered = qr/pgpool_ext worker recovered from an error/;

# 1. Cancel of the idle worker.
my $n = log_count($recovered);
is($local->safe_psql('postgres', "SELECT pg_cancel_backend($worker)"), 't',
	'cancel of the idle worker sent');
ok(poll_until('the worker logs its recovery', sub { log_count($recovered) > $n }),
	'the worker recovered from the cancel');
is(worker_pid($local), $worker, 'idle cancel: same worker');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)"),
	'1', 'idle cancel: the handle works');

# 2. Cancels while requests run: a long one streaming rows and one
# waiting for the remote.
$n = log_count($recovered);
start_query($s,
	"SELECT count(*) FROM pgpool_ext.query($h, "
	  . "'SELECT g, pg_sleep(0.001) FROM generate_series(1, 3000) g') AS t(x int, y text)");
start_query($s2, "SELECT * FROM pgpool_ext.query($h2, 'SELECT 7 FROM pg_sleep(2)') AS t(x int)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
		  . "AND pid IN ($rpid, $rpid2)", '2'),
	'both remote queries run');
for (1 .. 3)
{
	$local->safe_psql('postgres', "SELECT pg_cancel_backend($worker)");
}
my ($out, $err) = finish_query($s);
is($err, '', 'cancelled worker: the streaming query has no error');
is($out, '3000', 'cancelled worker: the streaming query has all its rows');
($out, $err) = finish_query($s2);
is($err, '', 'cancelled worker: the other session\'s query has no error');
is($out, '7', 'cancelled worker: the other session\'s query has its result');
ok(log_count($recovered) > $n, 'the worker logged its recovery');
ok(slurp_file($local->logfile) =~ /ERROR:  canceling statement due to user request/,
	'the cancel itself is in the log');
is(worker_pid($local), $worker, 'cancel while busy: same worker');

# 3. Out of memory in the worker: one value just under 1 GB fits in the
# remote's row message but not, behind a long column name, in the worker's
# batch of rows (1 GB at most).
my $name = 'c' x 63;
($out, $err) = sq($s,
	"SELECT length(v) FROM pgpool_ext.query($h, "
	  . "'SELECT repeat(''x'', 1073741780) AS $name') AS t(v text)");
is(sqlstate($err), '54000', 'huge row: the request fails with 54000 (program limit exceeded)');
like($err, qr/out of memory/, 'huge row: the message says out of memory');
is(worker_pid($local), $worker, 'huge row: same worker');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$rpid, 'huge row: the handle works, on the same remote connection');
is(sq_ok($s2, "SELECT * FROM pgpool_ext.query($h2, 'SELECT pg_backend_pid()') AS t(p int)"),
	$rpid2, 'huge row: the other session\'s handle never noticed');
is($local->safe_psql('postgres',
		"SELECT string_agg(state, ',' ORDER BY slot) FROM pgpool_ext.connections"),
	'acquired,acquired', 'connections view: both still acquired');

# 4. SIGTERM still stops the worker; a new one starts.
$local->safe_psql('postgres', "SELECT pg_terminate_backend($worker)");
my $new = wait_new_worker($local, $worker);
isnt($new, $worker, 'SIGTERM: the worker exited and a new one runs');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'SIGTERM: handles of the old worker are broken (08006)');

sq_ok($s, "SELECT pgpool_ext.release($h)");
sq_ok($s2, "SELECT pgpool_ext.release($h2)");
$s->quit;
$s2->quit;
$local->stop;
$remote->stop;
done_testing();
