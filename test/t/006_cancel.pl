# A cancel (pg_cancel_backend, statement_timeout) of a session whose remote
# query runs: the session gets 57014, the remote query is cancelled on the
# remote server, and the handle stays usable.
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

$remote->safe_psql('postgres', 'CREATE TABLE t (x int)');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 2)");

my $s = session($local);
my $pid = sq_ok($s, 'SELECT pg_backend_pid()');
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
my $remote_pid =
  sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)");

# Remote queries still running, by text.
sub remote_running
{
	my ($text) = @_;
	return "SELECT count(*) FROM pg_stat_activity "
	  . "WHERE state = 'active' AND query LIKE '%$text%' AND pid <> pg_backend_pid()";
}

# 1. pg_cancel_backend during query().
start_query($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep(60)') AS t(x text)");
ok($remote->poll_query_until('postgres', remote_running('pg_sleep(60)'), '1'),
	'cancel: the remote query runs');
ok( $local->poll_query_until('postgres',
		"SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity WHERE pid = $pid",
		'Extension:Extension'),
	'the waiting backend shows wait event Extension');
is($local->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"), 't', 'cancel sent');
my ($out, $err) = finish_query($s, 60);
is(sqlstate($err), '57014', 'cancel: the session gets 57014');
ok($remote->poll_query_until('postgres', remote_running('pg_sleep(60)'), '0'),
	'cancel: the remote query was cancelled on the remote server');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)");
is($err, '', 'cancel: the handle is usable afterwards');
is($out, '1', 'cancel: select 1 through the handle returns 1');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$remote_pid, 'cancel: still the same remote connection');

# 2. statement_timeout during query().
sq_ok($s, "SET statement_timeout = '1s'");
($out, $err) =
  sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep(61)') AS t(x text)");
is(sqlstate($err), '57014', 'statement_timeout: the session gets 57014');
like($err, qr/statement timeout/, 'statement_timeout: the message says so');
ok($remote->poll_query_until('postgres', remote_running('pg_sleep(61)'), '0'),
	'statement_timeout: the remote query was cancelled');
sq_ok($s, 'RESET statement_timeout');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 2') AS t(x int)"),
	'2', 'statement_timeout: the handle is usable afterwards');

# 3. cancel during execute() inside a remote transaction: the remote
# transaction is in error state, as it would be after a failed statement;
# a ROLLBACK through the handle recovers it.
is(sq_ok($s, "SELECT pgpool_ext.execute($h, 'BEGIN')"), 'BEGIN', 'remote BEGIN');
is(sq_ok($s, "SELECT pgpool_ext.execute($h, 'INSERT INTO t VALUES (1)')"),
	'INSERT 0 1', 'remote INSERT');
sq_ok($s, "SET statement_timeout = '1s'");
($out, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT pg_sleep(62)')");
is(sqlstate($err), '57014', 'execute: statement_timeout gives 57014');
sq_ok($s, 'RESET statement_timeout');
ok($remote->poll_query_until('postgres', remote_running('pg_sleep(62)'), '0'),
	'execute: the remote statement was cancelled');
($out, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
is(sqlstate($err), '25P02', 'execute: the remote transaction is aborted (remote 25P02)');
is(sq_ok($s, "SELECT pgpool_ext.execute($h, 'ROLLBACK')"), 'ROLLBACK', 'remote ROLLBACK');
is($remote->safe_psql('postgres', 'SELECT count(*) FROM t'), '0', 'nothing was committed');

# 4. statement_timeout during run(): the handle run() took is released.
sq_ok($s, "SET statement_timeout = '1s'");
($out, $err) = sq($s,
	"SELECT * FROM pgpool_ext.run('p', 'SELECT pg_sleep(63)') AS t(x text)");
is(sqlstate($err), '57014', 'run: statement_timeout gives 57014');
sq_ok($s, 'RESET statement_timeout');
ok($remote->poll_query_until('postgres', remote_running('pg_sleep(63)'), '0'),
	'run: the remote query was cancelled');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE holder_pid = $pid"),
	'1', 'run: only the explicitly acquired handle is still held');

# 5. statement_timeout while rows stream (a result of 50M rows, produced
# row by row): nothing of the cancelled result leaks into the next one.
sq_ok($s, "SET statement_timeout = '1s'");
($out, $err) = sq($s,
	"SELECT count(*) FROM pgpool_ext.query($h, 'SELECT generate_series(1, 50000000)') AS t(x int)");
is(sqlstate($err), '57014', 'streaming: statement_timeout gives 57014');
sq_ok($s, 'RESET statement_timeout');
ok($remote->poll_query_until('postgres', remote_running('generate_series(1, 50000000)'), '0'),
	'streaming: the remote query was cancelled');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 3') AS t(x int)");
is($err, '', 'streaming: the handle is usable afterwards');
is($out, '3', 'streaming: the next query returns its own result only');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT ''four''') AS t(x text)"),
	'four', 'streaming: and the one after too');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$remote_pid, 'streaming: still the same remote connection');

sq_ok($s, "SELECT pgpool_ext.release($h)");
ok( $local->poll_query_until('postgres',
		"SELECT in_use || ' ' || waiting FROM pgpool_ext.pools", '0 0'),
	'pools view: nothing in use, nobody waiting');
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity "
		  . "WHERE application_name = 'pgpool_ext' AND state <> 'idle'"),
	'remote: every pool connection is idle');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
