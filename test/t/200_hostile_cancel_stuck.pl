# A remote that accepts connections but never answers (postmaster and
# backend stopped with SIGSTOP) while a query of a cancelled session runs
# on it.  libpq 15's PQcancel() waits for such a server without limit; the
# pool worker must not: other pools keep serving, the stuck request ends
# within the pool's connect_timeout, and the cancel reaches the remote once
# it resumes.  Once over TCP (the cancel connect is asynchronous there) and
# once over a unix socket (where it completes at once).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rb = remote_node('rb');
my $local = local_node('local');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('pb', '" . conninfo_of($rb) . "', min_size => 1, max_size => 2)");

my $s1 = session($local);
my $s2 = session($local);
my $pid1 = sq_ok($s1, 'SELECT pg_backend_pid()');
my $n = 0;

# The scenario, on pool $pool whose remote is $ra, reached with $ci.
sub stuck_cancel
{
	my ($ra, $ci, $pool, $how) = @_;

	$local->safe_psql('postgres',
		"SELECT pgpool_ext.create_pool('$pool', '$ci', min_size => 1, max_size => 2, "
		  . "connect_timeout => '3s')");
	my $h = sq_ok($s1, "SELECT pgpool_ext.acquire('$pool', timeout => '10s')");
	is(sq_ok($s2, "SELECT * FROM pgpool_ext.run('pb', 'SELECT 1') AS t(x int)"),
		'1', "$how: pool pb serves before");

	my $running = "SELECT count(*) FROM pg_stat_activity "
	  . "WHERE state = 'active' AND query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()";
	start_query($s1,
		"SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep(120)') AS t(x text)");
	ok($ra->poll_query_until('postgres', $running, '1'), "$how: the remote query runs");

	my @frozen = freeze_remote($ra);
	my $log_offset = -s $local->logfile;

	# The session gives up: the worker now cancels the remote query.
	is($local->safe_psql('postgres', "SELECT pg_cancel_backend($pid1)"),
		't', "$how: cancel sent");
	my ($done, $out, $err) = finish_query_within($s1, 30);
	ok($done, "$how: the cancelled session returns");
	is(sqlstate($err), '57014', "$how: the cancelled session gets 57014");

	# Meanwhile the worker serves the other pool (with PQcancel() it was
	# stuck until the remote resumed).
	start_query($s2, "SELECT * FROM pgpool_ext.run('pb', 'SELECT 2') AS t(x int)");
	($done, $out, $err) = finish_query_within($s2, 30);
	ok($done, "$how: pool pb serves while the remote does not answer");
	is($out, '2', "$how: pool pb returns the right row");

	# The stuck request ends by itself (connect_timeout 3s): the handle's
	# connection is closed and the handle reports it.
	ok( poll_until(
			'the drain gives up',
			sub {
				slurp_file($local->logfile, $log_offset) =~
				  /remote server did not answer the cancel request/;
			},
			30),
		"$how: the drain of the cancelled query ended at connect_timeout");
	start_query($s1, "SELECT * FROM pgpool_ext.query($h, 'SELECT 3') AS t(x int)");
	($done, $out, $err) = finish_query_within($s1, 30);
	ok($done, "$how: the handle answers while the remote is still stopped");
	is(sqlstate($err), '08006', "$how: its connection is reported lost (08006)");

	thaw_remote(@frozen);

	# The cancel request waited in the stopped postmaster's backlog: once
	# it resumes, it cancels the remote query.
	ok($ra->poll_query_until('postgres', $running, '0'),
		"$how: the remote query was cancelled once the remote resumed");
	sq_ok($s1, "SELECT pgpool_ext.release($h)");
	ok( $local->poll_query_until('postgres',
			"SELECT x FROM pgpool_ext.run('$pool', 'SELECT 4') AS t(x int)", '4'),
		"$how: the pool serves again");
	is(sq_ok($s2, "SELECT * FROM pgpool_ext.run('pb', 'SELECT 5') AS t(x int)"),
		'5', "$how: pool pb still serves");
	return;
}

my $ra_tcp = remote_node('ra_tcp', conf => "listen_addresses = '127.0.0.1'\n");
stuck_cancel($ra_tcp, 'host=127.0.0.1 port=' . $ra_tcp->port . ' dbname=postgres',
	'pa_tcp', 'tcp');
my $ra_unix = remote_node('ra_unix');
stuck_cancel($ra_unix, conninfo_of($ra_unix), 'pa_unix', 'unix socket');

$s1->quit;
$s2->quit;
$local->stop;
$ra_tcp->stop;
$ra_unix->stop;
$rb->stop;
done_testing();
