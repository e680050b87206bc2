# Latency distributions against what clients measure: a pool of one
# connection; a holder keeps it while waiters queue, then each waiter in
# turn gets it, runs a remote pg_sleep and releases it.  The client times
# every acquire, remote query and hold from outside the server; the
# percentiles of the latency view (wait, hold, query) must match the
# clients' own nearest-rank percentiles within the histogram's 5 % error,
# plus a small absolute slack for what the client adds (a round trip, the
# polling of psql's output).  Then: a timed-out and a cancelled acquire
# are counted in timeouts and cancels (and in the 5min window),
# reset_stats() empties everything, and with pgpool_ext.track_timing off
# nothing is recorded.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use List::Util qw(max);
use POSIX qw(ceil);
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

# What the client adds to a duration the server measures: a round trip
# and finish_query's 20 ms polling, with room for a busy machine.
my $slack = 0.25;
my $hold_secs = 2.0;	# the first holder's remote query
my $nwaiters = 4;

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('lat', '$ci', min_size => 1, max_size => 1)");
ok( $local->poll_query_until('postgres',
		"SELECT idle FROM pgpool_ext.pools WHERE pool_name = 'lat'", '1'),
	'the pool has its idle connection');
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('lat')");

# Run $sql in session $s and time it on the client: (stdout, seconds).
sub timed
{
	my ($s, $sql) = @_;
	my $t0 = time();
	my $out = sq_ok($s, $sql);
	return ($out, time() - $t0);
}

# Nearest-rank percentile: the smallest value with at least ceil(q * n)
# values at or below it.
sub percentile
{
	my ($q, @v) = @_;
	@v = sort { $a <=> $b } @v;
	my $rank = ceil($q * @v);
	$rank = 1 if $rank < 1;
	return $v[ $rank - 1 ];
}

my (@waits, @holds, @queries);

# The holder takes the idle connection.
my $holder = session($local);
my ($h, $secs) = timed($holder, "SELECT pgpool_ext.acquire('lat', timeout => '60s')");
push @waits, $secs;
my $held_at = time();

# Waiters queue behind it, in order.
my @w = map { session($local) } 1 .. $nwaiters;
my @sent;
for my $i (0 .. $nwaiters - 1)
{
	$sent[$i] = time();
	start_query($w[$i], "SELECT pgpool_ext.acquire('lat', timeout => '60s')");
	ok( $local->poll_query_until('postgres',
			"SELECT count(*) FROM pgpool_ext.waiters WHERE pool_name = 'lat'", $i + 1),
		"waiter $i queued");
}
ok( $local->safe_psql('postgres',
		"SELECT max_wait > 0 FROM pgpool_ext.pools WHERE pool_name = 'lat'") eq 't',
	'pools.max_wait shows the oldest waiter');

# The holder runs a remote query, then releases.
(undef, $secs) = timed($holder,
	"SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep($hold_secs)') AS t(x text)");
push @queries, $secs;
timed($holder, "SELECT pgpool_ext.release($h)");
push @holds, time() - $held_at;

# Each waiter in turn: granted, a remote query of its own length, release.
for my $i (0 .. $nwaiters - 1)
{
	my ($hw, $err) = finish_query($w[$i], 60);
	is($err, '', "waiter $i granted");
	push @waits, time() - $sent[$i];
	my $got_at = time();
	my $len = 0.3 * ($i + 1);
	(undef, $secs) = timed($w[$i],
		"SELECT * FROM pgpool_ext.query($hw, 'SELECT pg_sleep($len)') AS t(x text)");
	push @queries, $secs;
	timed($w[$i], "SELECT pgpool_ext.release($hw)");
	push @holds, time() - $got_at;
}

# The server's view, per kind, of the whole pool since the reset.
my %client = (wait => \@waits, hold => \@holds, query => \@queries);
for my $kind (qw(wait hold query))
{
	my @c = @{ $client{$kind} };
	my ($count, $p50, $p90, $p99, $mx) = split /\|/, $local->safe_psql('postgres',
		"SELECT count, p50, p90, p99, max FROM pgpool_ext.latency "
		  . "WHERE pool_name = 'lat' AND partition IS NULL AND kind = '$kind' "
		  . "AND time_window = 'total'");
	is($count, scalar @c, "$kind: one value per client measure");
	my %server = (0.5 => $p50, 0.9 => $p90, 0.99 => $p99, 1 => $mx);
	for my $q (sort keys %server)
	{
		my $want = percentile($q, @c);
		my $tol = 0.05 * $want + $slack;
		ok(abs($server{$q} - $want) <= $tol,
			sprintf('%s p%s: server %.4f s, client %.4f s (within %.3f s)',
				$kind, $q * 100, $server{$q}, $want, $tol));
	}
}
is( $local->safe_psql('postgres',
		"SELECT string_agg(kind || ':' || count, ',' ORDER BY kind) FROM pgpool_ext.latency "
		  . "WHERE pool_name = 'lat' AND partition IS NULL AND time_window = '5min'"),
	'hold:5,query:5,wait:5', 'the 5min window holds the same values');
ok( $local->safe_psql('postgres',
		"SELECT wait_p50 > 0 AND wait_p99 >= wait_p50 FROM pgpool_ext.pools WHERE pool_name = 'lat'")
	  eq 't', 'pools shows the recent wait percentiles');
is( $local->safe_psql('postgres',
		"SELECT sum(count) FROM pgpool_ext.histogram "
		  . "WHERE pool_name = 'lat' AND partition IS NULL AND kind = 'wait' "
		  . "AND time_window = 'total'"),
	'5', 'the histogram holds every wait');

# A timed-out acquire and a cancelled one.
$h = sq_ok($holder, "SELECT pgpool_ext.acquire('lat', timeout => '60s')");
my $t0 = time();
my ($out, $err) = sq($w[0], "SELECT pgpool_ext.acquire('lat', timeout => '500ms')");
my $timeout_secs = time() - $t0;
is(sqlstate($err), '53300', 'an acquire times out');
my $pid = sq_ok($w[1], 'SELECT pg_backend_pid()');
$t0 = time();
start_query($w[1], "SELECT pgpool_ext.acquire('lat', timeout => '60s')");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) FROM pgpool_ext.waiters WHERE pid = $pid", '1'),
	'a waiter queued');
$local->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
($out, $err) = finish_query($w[1], 60);
my $cancel_secs = time() - $t0;
is(sqlstate($err), '57014', 'the waiter is cancelled');
sq_ok($holder, "SELECT pgpool_ext.release($h)");
for my $window ('total', '5min')
{
	is( $local->safe_psql('postgres',
			"SELECT count || ' ' || timeouts || ' ' || cancels FROM pgpool_ext.latency "
			  . "WHERE pool_name = 'lat' AND partition IS NULL AND kind = 'wait' "
			  . "AND time_window = '$window'"),
		'8 1 1', "$window: the timeout and the cancel are waits, counted apart");
}
my $max_wait = $local->safe_psql('postgres',
	"SELECT max FROM pgpool_ext.latency WHERE pool_name = 'lat' AND partition IS NULL "
	  . "AND kind = 'wait' AND time_window = 'total'");
my $longest = max(@waits, $timeout_secs, $cancel_secs);
ok(abs($max_wait - $longest) <= 0.05 * $longest + $slack,
	"the longest wait is the client's longest ($max_wait s, $longest s)");
is( $local->safe_psql('postgres',
		"SELECT timeouts FROM pgpool_ext.pools WHERE pool_name = 'lat'"),
	'1', 'pools.timeouts agrees');

# reset_stats empties every distribution and counter of the pool.
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('lat')");
is( $local->safe_psql('postgres',
		"SELECT sum(count) || ' ' || sum(coalesce(timeouts, 0) + coalesce(cancels, 0) "
		  . "+ coalesce(errors, 0)) || ' ' || count(p50) FROM pgpool_ext.latency "
		  . "WHERE pool_name = 'lat'"),
	'0 0 0', 'reset_stats: every distribution is empty');
is($local->safe_psql('postgres', "SELECT count(*) FROM pgpool_ext.histogram WHERE pool_name = 'lat'"),
	'0', 'reset_stats: no bucket left');
is( $local->safe_psql('postgres',
		"SELECT acquires || ' ' || waits || ' ' || (wait_p50 IS NULL) FROM pgpool_ext.pools "
		  . "WHERE pool_name = 'lat'"),
	'0 0 true', 'reset_stats: the pool counters too');

# track_timing off (a superuser setting): nothing is recorded, whether
# granted at once, after a wait, or timed out.
$local->safe_psql('postgres',
	"ALTER SYSTEM SET pgpool_ext.track_timing = off; SELECT pg_reload_conf()");
ok( $local->poll_query_until('postgres', 'SHOW pgpool_ext.track_timing', 'off'),
	'track_timing is off');
sq_ok($_, 'SELECT 1') for ($holder, @w);	# the sessions see the reload
$h = sq_ok($holder, "SELECT pgpool_ext.acquire('lat', timeout => '60s')");
sq_ok($holder, "SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(x int)");
start_query($w[0], "SELECT pgpool_ext.acquire('lat', timeout => '60s')");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) FROM pgpool_ext.waiters WHERE pool_name = 'lat'", '1'),
	'a waiter queued');
($out, $err) = sq($w[1], "SELECT pgpool_ext.acquire('lat', timeout => '100ms')");
is(sqlstate($err), '53300', 'an acquire times out');
sq_ok($holder, "SELECT pgpool_ext.release($h)");
my ($hw) = finish_query($w[0], 60);
sq_ok($w[0], "SELECT pgpool_ext.release($hw)");
is( $local->safe_psql('postgres',
		"SELECT acquires || ' ' || waits || ' ' || timeouts FROM pgpool_ext.pools "
		  . "WHERE pool_name = 'lat'"),
	'2 2 1', 'the counters still count');
is( $local->safe_psql('postgres',
		"SELECT sum(count) || ' ' || sum(coalesce(timeouts, 0)) FROM pgpool_ext.latency "
		  . "WHERE pool_name = 'lat'"),
	'0 0', 'track_timing off: nothing recorded');
$local->safe_psql('postgres',
	"ALTER SYSTEM RESET pgpool_ext.track_timing; SELECT pg_reload_conf()");

$_->quit for ($holder, @w);
$local->stop;
$remote->stop;
done_testing();
