# The "remote is the bottleneck" advice: the remote lets the pool's role
# open one connection (CONNECTION LIMIT 1) while the pool may have 4.  Two
# clients that each acquire, hold for 100 ms (a remote pg_sleep) and
# acquire again at once keep one of them waiting nearly all the time, and
# every connection the worker tries to add for the waiter fails.  The
# model wants more than half of max_size (about one Erlang on one
# connection needs 3 or 4), so the advice must name the remote, with the
# failures counted in the pools view, not ask for a larger max_size.
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
$remote->safe_psql('postgres',
	"CREATE ROLE limited LOGIN CONNECTION LIMIT 1;
	 GRANT EXECUTE ON FUNCTION pg_sleep(float8) TO limited;");
my $ci = conninfo_of($remote, user => 'limited');
my $n = 60;    # iterations per client: 120 acquires over 12 s

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('effr', '$ci', min_size => 0, max_size => 4,
	   password_required => false)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'effr'"),
	'the pool is loaded');
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('effr')");

my $loop = "DO \$\$ DECLARE h bigint; BEGIN FOR i IN 1..$n LOOP
	h := pgpool_ext.acquire('effr', timeout => '60s');
	PERFORM pgpool_ext.execute(h, 'SELECT pg_sleep(0.1)');
	PERFORM pgpool_ext.release(h);
  END LOOP; END \$\$";
my @clients = map { session($local) } 1 .. 2;
start_query($_, $loop) for @clients;
for my $s (@clients)
{
	my ($out, $err) = finish_query_or_lost($s);
	is($err, '', 'a client ran its loop without an error');
}

my ($acquires, $failures, $connects) = split /\|/,
  $local->safe_psql('postgres',
	"SELECT acquires, connect_failures, connects FROM pgpool_ext.pools WHERE pool_name = 'effr'");
is($acquires, 2 * $n, 'every iteration acquired once');
is($connects, 1, 'one connection could be opened');
ok($failures > 0, "the others failed ($failures)");

my ($rec, $saturation, $advice) = split /\|/,
  $local->safe_psql('postgres',
	"SELECT recommended_max_size, saturation, advice FROM pgpool_ext.efficiency
	  WHERE pool_name = 'effr' AND partition IS NULL AND time_window = 'total'");
note $local->safe_psql('postgres',
	"SELECT * FROM pgpool_ext.efficiency WHERE pool_name = 'effr' AND partition IS NULL");
ok($rec > 2, "the model wants more than half of max_size ($rec)");
like(
	$advice,
	qr/^the remote is the bottleneck: [0-9]+ connection attempts failed while clients waited [0-9]+ % of the time$/,
	'the advice names the remote');
my ($said) = $advice =~ /: ([0-9]+) connection attempts/;
ok($said > 0 && $said <= $failures,
	'the failures it counts are the pool\'s, within the window');

$_->quit for @clients;
done_testing();
