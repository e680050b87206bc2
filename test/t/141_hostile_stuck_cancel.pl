# A cancelled request whose remote ignores the cancel (its remote backend
# is stopped with SIGSTOP) is drained on its connection alone:
#  - the same session's next request on another pool runs at once;
#  - a request on the same handle waits in the worker until the drain is
#    over (cancellable), then runs on the same connection;
#  - a session that exits during such a drain leaves a clean channel to
#    the next session given its PGPROC.
# "At once" is bounded by a statement_timeout far below the stuck pool's
# connect_timeout (1 hour), not measured.
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
	"SELECT pgpool_ext.create_pool('stuck', '$ci', min_size => 0, max_size => 2, "
	  . "connect_timeout => '1h');"
	  . "SELECT pgpool_ext.create_pool('ok', '$ci', min_size => 1, max_size => 2)");

my $s = session($local);
my $h1 = sq_ok($s, "SELECT pgpool_ext.acquire('stuck', timeout => '10s')");
my $h2 = sq_ok($s, "SELECT pgpool_ext.acquire('ok', timeout => '10s')");
my $rpid =
  sq_ok($s, "SELECT * FROM pgpool_ext.query($h1, 'SELECT pg_backend_pid()') AS t(p int)");

# Stop remote backend $rpid once it runs the query containing $text.
sub stop_when_running
{
	my ($rpid, $text) = @_;
	ok( $remote->poll_query_until('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE pid = $rpid "
			  . "AND state = 'active' AND query LIKE '%$text%'", '1'),
		"remote backend $rpid runs $text");
	ok(kill('STOP', $rpid), "remote backend $rpid stopped");
}

# 1. The remote backend of h1 stops while running a query; the query is
# cancelled locally.
my $pid = sq_ok($s, 'SELECT pg_backend_pid()');
start_query($s, "SELECT * FROM pgpool_ext.query($h1, 'SELECT pg_sleep(600)') AS t(x text)");
stop_when_running($rpid, 'pg_sleep(600)');
is($local->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"), 't', 'cancel sent');
my ($out, $err) = finish_query($s);
is(sqlstate($err), '57014', 'query on the stopped remote: 57014');
ok( $local->poll_query_until('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE remote_pid = $rpid", 'busy'),
	'the cancelled query is still being drained');

# 2. The same session, another pool: runs at once.
sq_ok($s, "SET statement_timeout = '20s'");
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h2, 'SELECT 1') AS t(x int)");
is($err, '', 'another pool during the drain: no error');
is($out, '1', 'another pool during the drain: its result');
is(scalar(sq($s, "SELECT pgpool_ext.execute($h2, 'SELECT 2')")), 'SELECT 1',
	'and execute() on it too');

# 3. The same handle: waits in the worker, and the wait can be cancelled.
sq_ok($s, "SET statement_timeout = '1s'");
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h1, 'SELECT 3') AS t(x int)");
is(sqlstate($err), '57014', 'same handle during the drain: waits, cancellable (57014)');
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE remote_pid = $rpid"),
	'busy', 'after that cancelled wait the connection still shows busy (draining)');
sq_ok($s, "SET statement_timeout = '20s'");
is(scalar(sq($s, "SELECT * FROM pgpool_ext.query($h2, 'SELECT 4') AS t(x int)")),
	'4', 'another pool after that cancelled wait: runs at once');

# 4. A request on the same handle waits for the drain, then runs.
sq_ok($s, 'RESET statement_timeout');
start_query($s, "SELECT * FROM pgpool_ext.query($h1, 'SELECT 5') AS t(x int)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT 5%' "
		  . "AND wait_event = 'Extension'", '1'),
	'same handle: the request waits');
ok(kill('CONT', $rpid), 'remote backend continued');
($out, $err) = finish_query($s);
is($err, '', 'same handle after the drain: no error');
is($out, '5', 'same handle after the drain: its own result');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h1, 'SELECT pg_backend_pid()') AS t(p int)"),
	$rpid, 'still the same remote connection');

# 5. A session that exits during a stuck drain.
my $s2 = session($local);
my $pid2 = sq_ok($s2, 'SELECT pg_backend_pid()');
my $h3 = sq_ok($s2, "SELECT pgpool_ext.acquire('stuck', timeout => '10s')");
my $rpid3 =
  sq_ok($s2, "SELECT * FROM pgpool_ext.query($h3, 'SELECT pg_backend_pid()') AS t(p int)");
start_query($s2, "SELECT * FROM pgpool_ext.query($h3, 'SELECT pg_sleep(601)') AS t(x text)");
stop_when_running($rpid3, 'pg_sleep(601)');
ok( $local->poll_query_until('postgres',
		"SELECT wait_event FROM pg_stat_activity WHERE pid = $pid2", 'Extension'),
	'second session waits for its remote result');
is($local->safe_psql('postgres', "SELECT pg_terminate_backend($pid2)"), 't',
	'second session terminated');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE pid = $pid2", '0'),
	'second session is gone');
# Backend PGPROCs are reused last-freed first: three sessions open at once
# take the three on top of the free list, the dead session's among them
# (a connection that polled above may have freed its own on top of it).
my @new = map { session($local) } 1 .. 3;
for my $i (1 .. 3)
{
	sq_ok($new[ $i - 1 ], "SET statement_timeout = '20s'");
	my ($o, $e) =
	  sq($new[ $i - 1 ], "SELECT * FROM pgpool_ext.run('ok', 'SELECT $i') AS t(x int)");
	is($e, '', "new session $i during the dead session's drain: no error");
	is($o, $i, "new session $i during the dead session's drain: its result");
}
$_->quit for @new;
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE remote_pid = $rpid3"),
	'resetting', "the dead session's connection is still being drained");
ok(kill('CONT', $rpid3), 'second remote backend continued');
ok( $local->poll_query_until('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE remote_pid = $rpid3", 'idle'),
	"the dead session's connection is drained, reset and idle");

# 6. The worst moment: a session whose request waits in the worker for the
# drain of its own cancelled one (same handle) exits.
my $s3 = session($local);
my $pid3 = sq_ok($s3, 'SELECT pg_backend_pid()');
my $h4 = sq_ok($s3, "SELECT pgpool_ext.acquire('stuck', timeout => '10s')");
my $rpid4 =
  sq_ok($s3, "SELECT * FROM pgpool_ext.query($h4, 'SELECT pg_backend_pid()') AS t(p int)");
start_query($s3, "SELECT * FROM pgpool_ext.query($h4, 'SELECT pg_sleep(602)') AS t(x text)");
stop_when_running($rpid4, 'pg_sleep(602)');
$local->safe_psql('postgres', "SELECT pg_cancel_backend($pid3)");
($out, $err) = finish_query($s3);
is(sqlstate($err), '57014', 'third session: its query is cancelled');
start_query($s3, "SELECT * FROM pgpool_ext.query($h4, 'SELECT 6') AS t(x int)");
ok( $local->poll_query_until('postgres',
		"SELECT wait_event FROM pg_stat_activity WHERE pid = $pid3", 'Extension'),
	'third session: its next request waits for the drain');
is($local->safe_psql('postgres', "SELECT pg_terminate_backend($pid3)"), 't',
	'third session terminated');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE pid = $pid3", '0'),
	'third session is gone');
@new = map { session($local) } 1 .. 3;
for my $i (1 .. 3)
{
	sq_ok($new[ $i - 1 ], "SET statement_timeout = '20s'");
	my ($o, $e) =
	  sq($new[ $i - 1 ], "SELECT * FROM pgpool_ext.run('ok', 'SELECT 1$i') AS t(x int)");
	is($o, "1$i", "new session $i after the third one died: its result");
}
$_->quit for @new;
ok(kill('CONT', $rpid4), 'third remote backend continued');
ok( $local->poll_query_until('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE remote_pid = $rpid4", 'idle'),
	"the third session's connection is drained, reset and idle");
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE holder_pid = $pid3"),
	'0', 'the third session holds nothing');
my $s4 = session($local);
my $h5 = sq_ok($s4, "SELECT pgpool_ext.acquire('stuck', timeout => '10s')");
is( sq_ok($s4,
		"SELECT * FROM pgpool_ext.query($h5, 'SELECT current_setting(''application_name'')') AS t(x text)"),
	'pgpool_ext', 'the stuck pool serves a new session afterwards');
sq_ok($s4, "SELECT pgpool_ext.release($h5)");
$s4->quit;

# 7. A remote that never answers the cancel: the pool's connect_timeout
# closes the connection.  The request of the same handle that waited for
# the drain fails with 08006; it never runs on a new connection without the
# handle's remote session (settings, an open transaction).
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('short', '$ci', max_size => 1, connect_timeout => '2s')");
my $h6 = sq_ok($s, "SELECT pgpool_ext.acquire('short', timeout => '10s')");
is(sq_ok($s, "SELECT pgpool_ext.execute($h6, 'SET application_name = ''mine''')"),
	'SET', 'short pool: a remote session setting');
my $rpid6 =
  sq_ok($s, "SELECT * FROM pgpool_ext.query($h6, 'SELECT pg_backend_pid()') AS t(p int)");
start_query($s, "SELECT * FROM pgpool_ext.query($h6, 'SELECT pg_sleep(603)') AS t(x text)");
stop_when_running($rpid6, 'pg_sleep(603)');
$local->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
($out, $err) = finish_query($s);
is(sqlstate($err), '57014', 'short pool: the query is cancelled');
($out, $err) = sq($s,
	"SELECT * FROM pgpool_ext.query($h6, 'SELECT current_setting(''application_name'')') AS t(x text)");
is(sqlstate($err), '08006',
	'short pool: the request that waited for the drain fails when the connection is closed');
is($out, '', 'short pool: it did not run on a new connection');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h6, 'SELECT 1') AS t(x int)");
is(sqlstate($err), '08006', 'short pool: the handle is broken until released');
sq_ok($s, "SELECT pgpool_ext.release($h6)");
ok(kill('CONT', $rpid6), 'short pool: remote backend continued');

sq_ok($s, "SELECT pgpool_ext.release($h1)");
sq_ok($s, "SELECT pgpool_ext.release($h2)");
ok( $local->poll_query_until('postgres',
		"SELECT sum(in_use)::text || ' ' || sum(waiting) FROM pgpool_ext.pools", '0 0'),
	'nothing left in use');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
