# Re-entrant requests: user code that runs while the rows of a request are
# being read (a domain's CHECK in the column definition list calling a
# PL/pgSQL function) calls query, execute, run, acquire or release again.
# The nested request gets a clean 55006 and never touches the open one; the
# server does not crash; the outer request completes when the nested error
# is caught; release() of the handle whose request is streaming is refused.
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
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 3)");

# f_<what>(value) runs <what> through pgpool_ext with the handle in the
# setting test.h; d_<what> is an int domain whose CHECK calls it.  The
# "caught_" variants swallow the error in an EXCEPTION block.
my %body = (
	query => "PERFORM * FROM pgpool_ext.query(h, 'SELECT 1') AS t(x int);",
	execute => "PERFORM pgpool_ext.execute(h, 'SELECT 1');",
	run => "PERFORM * FROM pgpool_ext.run('p', 'SELECT 1') AS t(x int);",
	acquire => "PERFORM pgpool_ext.release(pgpool_ext.acquire('p', timeout => '10s'));",
	release => "PERFORM pgpool_ext.release(h);",
	release_others => "PERFORM pgpool_ext.release(handle) FROM pgpool_ext.handles "
	  . "WHERE holder_pid = pg_backend_pid() AND handle <> h;");
my $ddl = '';
for my $what (sort keys %body)
{
	$ddl .= <<"EOT";
CREATE FUNCTION f_$what(v int) RETURNS boolean LANGUAGE plpgsql AS \$f\$
DECLARE h bigint := current_setting('test.h', true)::bigint;
BEGIN
  $body{$what}
  RETURN true;
END \$f\$;
CREATE DOMAIN d_$what AS int CHECK (f_$what(VALUE));
CREATE FUNCTION caught_$what(v int) RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN
  RETURN f_$what(v);
EXCEPTION WHEN object_in_use THEN
  RAISE NOTICE 'caught: %', SQLERRM;
  RETURN true;
END \$f\$;
CREATE DOMAIN c_$what AS int CHECK (caught_$what(VALUE));
EOT
}
$local->safe_psql('postgres', $ddl);

my $started = $local->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my $s = session($local);
my $pid = sq_ok($s, 'SELECT pg_backend_pid()');
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
sq_ok($s, "SET test.h = '$h'");
# a self-deadlock must end as a failure of this test, not of the TAP timeout
sq_ok($s, "SET statement_timeout = '30s'");

my $small = "'SELECT g FROM generate_series(1, 3) g'";
# more than the 64kB channel: the worker is still sending when the CHECK runs
my $big = "'SELECT g FROM generate_series(1, 20000) g'";

# 1. Nested requests get 55006, whatever the outer result size.
for my $what (qw(query execute run))
{
	for my $case ([ 'small', $small ], [ 'big', $big ])
	{
		my ($out, $err) = sq($s,
			"SELECT count(*) FROM pgpool_ext.query($h, $case->[1]) AS t(x d_$what)");
		is(sqlstate($err), '55006', "nested $what, $case->[0] outer result: 55006");
		like($err, qr/cannot start a pgpool_ext request while another one is being read/,
			"nested $what, $case->[0] outer result: the message says why");
		($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 42') AS t(x int)");
		is($out, '42', "after nested $what ($case->[0]): the handle returns its own result");
	}
}

# run() as the outer request too.
my ($out, $err) = sq($s,
	"SELECT count(*) FROM pgpool_ext.run('p', $big) AS t(x d_query)");
is(sqlstate($err), '55006', 'nested query inside run(): 55006');

# 2. A nested error caught in the CHECK: the outer request goes on intact.
for my $what (qw(query execute run release))
{
	for my $case ([ 'small', $small, '3|6' ], [ 'big', $big, '20000|200010000' ])
	{
		($out, $err) = sq($s,
			"SELECT count(*) || '|' || sum(x) FROM pgpool_ext.query($h, $case->[1]) AS t(x c_$what)");
		is($out, $case->[2], "caught nested $what, $case->[0]: the outer result is complete");
		like($err, qr/caught: /, "caught nested $what, $case->[0]: the CHECK saw the error");
	}
}
($out, $err) = sq($s,
	"SELECT count(*) || '|' || sum(x) FROM pgpool_ext.run('p', $big) AS t(x c_release_others)");
is($out, '20000|200010000', 'release of run()\'s own handle refused; run() completes');
is($local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE holder_pid = $pid"),
	'1', 'only the acquired handle is held after run()');

# 3. release() of the streaming handle, uncaught: 55006, handle still held.
($out, $err) = sq($s, "SELECT count(*) FROM pgpool_ext.query($h, $big) AS t(x d_release)");
is(sqlstate($err), '55006', 'release of the streaming handle: 55006');
like($err, qr/cannot release pgpool_ext handle $h while a request on it is being read/,
	'release of the streaming handle: the message names the handle');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 7') AS t(x int)"),
	'7', 'the handle is still held and usable');

# 4. acquire() and release() of another handle work while rows stream.
($out, $err) = sq($s, "SELECT count(*) FROM pgpool_ext.query($h, $big) AS t(x d_acquire)");
is($out, '20000', 'acquire and release of another handle inside the CHECK work');

# 5. The session and the server survived all of it.
is(sq_ok($s, 'SELECT pg_backend_pid()'), $pid, 'same backend: no crash');
is($local->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'the server was not restarted');
ok(!(slurp_file($local->logfile) =~ /terminated by signal|unexpected message type/),
	'no crash and no protocol error in the server log');
sq_ok($s, "SELECT pgpool_ext.release($h)");
ok( $local->poll_query_until('postgres',
		"SELECT in_use || ' ' || waiting FROM pgpool_ext.pools", '0 0'),
	'nothing left in use');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
