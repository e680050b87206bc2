# Closing a connection whose remote does not answer, with the socket's
# buffers full: a query with a parameter of 32 MB is being sent to a remote
# whose postmaster and backend are stopped (SIGSTOP) when its pool is
# dropped with force.  The close cancels the running query and sends
# libpq's Terminate message; neither may wait for the remote: the other
# pool keeps serving, the holder gets 08006 and the pool goes away while
# the remote is still stopped.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ra = remote_node('ra', conf => "listen_addresses = '127.0.0.1'\n");
my $rb = remote_node('rb');
my $local = local_node('local');
my $ci_a = 'host=127.0.0.1 port=' . $ra->port . ' dbname=postgres';
my $ci_b = conninfo_of($rb);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('pa', '$ci_a', min_size => 1, max_size => 1, "
	  . "connect_timeout => '3s')");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('pb', '$ci_b', min_size => 1, max_size => 1)");

my $s1 = session($local);
my $s2 = session($local);
my $s3 = session($local);
my $h = sq_ok($s1, "SELECT pgpool_ext.acquire('pa', timeout => '10s')");
is(sq_ok($s1, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)"),
	'1', 'pool pa serves before');

# Bytes queued in the kernel on TCP sockets to or from $port:
# (unsent by us, unread by the remote).
sub queued_bytes
{
	my ($port) = @_;
	my ($tx, $rx) = (0, 0);
	open my $fh, '<', '/proc/net/tcp' or return (0, 0);
	while (<$fh>)
	{
		my @f = split ' ';
		next unless defined $f[4] && $f[4] =~ /^([0-9A-F]+):([0-9A-F]+)$/;
		my ($q_tx, $q_rx) = (hex $1, hex $2);
		my ($lport) = $f[1] =~ /:([0-9A-F]+)$/;
		my ($rport) = $f[2] =~ /:([0-9A-F]+)$/;
		$tx += $q_tx if hex($rport) == $port;
		$rx += $q_rx if hex($lport) == $port;
	}
	close $fh;
	return ($tx, $rx);
}

my @frozen = freeze_remote($ra);
start_query($s1,
	"SELECT pgpool_ext.execute($h, 'SELECT length(\$1)', ARRAY[repeat('x', 32 * 1024 * 1024)])");
ok( poll_until(
		'the socket buffers of the pool connection fill up',
		sub { my ($tx, $rx) = queued_bytes($ra->port); $tx > 0 && $rx > 0 },
		60),
	'the query is stuck in full socket buffers on both sides');

# Drop the pool with force: its busy connection is closed.
start_query($s3, "SELECT pgpool_ext.drop_pool('pa', force => true)");
my ($done, $out, $err) = finish_query_within($s3, 30);
ok($done, 'drop_pool returns');
is($err, '', 'drop_pool succeeds');

($done, $out, $err) = finish_query_within($s1, 30);
ok($done, 'the holder gets an answer while the remote is still stopped');
is(sqlstate($err), '08006', 'the holder gets 08006');

start_query($s2, "SELECT * FROM pgpool_ext.run('pb', 'SELECT 2') AS t(x int)");
($done, $out, $err) = finish_query_within($s2, 30);
ok($done, 'pool pb serves while the remote of pa does not answer');
is($out, '2', 'pool pb returns the right row');

ok( poll_until(
		'the dropped pool goes away',
		sub {
			$local->safe_psql('postgres',
				"SELECT count(*) FROM pgpool_ext.pools WHERE pool_name = 'pa'") eq '0';
		},
		30),
	'the dropped pool is gone while the remote is still stopped');

thaw_remote(@frozen);

ok( $ra->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgpool_ext'", '0'),
	'no pool connection is left on the remote once it resumes');
sq_ok($s1, "SELECT pgpool_ext.release($h)");
is(sq_ok($s2, "SELECT * FROM pgpool_ext.run('pb', 'SELECT 3') AS t(x int)"),
	'3', 'pool pb still serves');

$s1->quit;
$s2->quit;
$s3->quit;
$local->stop;
$ra->stop;
$rb->stop;
done_testing();
