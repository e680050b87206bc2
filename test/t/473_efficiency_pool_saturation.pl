# The pool row of the efficiency view measures the time with at least one
# backend of the pool waiting, not the sum of its partitions' times.
#
# Pool effs (max_size 2) is held by one handle in partition 'a' and one in
# partition 'b'; then one backend waits in 'a' and one in 'b', both started
# together, each until its 3 s timeout.  Each partition has someone
# waiting about 3 s, and so does the pool: the two waits overlap.  The sum
# of the partitions' would be about 6 s.
#
# The window begins with 3 s with nobody waiting, so that the
# sum of the partitions' shares (about 6 s over about 6 s) stays under the
# clamp at 1 and the pool row would read the sum.
#
# Everything is read as seconds waited (saturation x elapsed), so the rows
# need not cover the same time.  Tolerances: each wait lasts at least its
# timeout, measured on the coarse clock (4 ms ticks): 0.05 s below; the
# two waiters start one statement apart (a few ms here), and the pool's
# time is the union of the two waits: it may exceed the longer one by that
# skew, allowed up to 1 s for a slow machine, still far from the sum.
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
my $timeout_s = 3;

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('effs', '$ci', min_size => 0, max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'effs'"),
	'the pool is loaded');

# the holders: one handle in each partition, the pool full
my @holders = map { session($local) } 1 .. 2;
my @waiters = map { session($local) } 1 .. 2;
my @keys = ('a', 'b');
for my $i (0, 1)
{
	start_query($holders[$i],
		"SELECT pgpool_ext.acquire('effs', partition => '$keys[$i]', timeout => '60s') > 0");
	my ($out) = finish_query_or_lost($holders[$i]);
	is($out, 't', "a handle held in partition $keys[$i]");
}
# the partitions exist: every row's windows start now
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('effs')");
# then $timeout_s s with nobody waiting (part of the workload, not a
# synchronisation): the window is longer than the sum of the waits, so a
# pool row that added its partitions' would not be hidden by the share's
# clamp at 1
$local->safe_psql('postgres', "SELECT pg_sleep($timeout_s)");

start_query($waiters[$_],
	"SELECT pgpool_ext.acquire('effs', partition => '$keys[$_]', timeout => '${timeout_s}s')"
) for 0, 1;
for my $i (0, 1)
{
	my (undef, $err) = finish_query_or_lost($waiters[$i]);
	like($err, qr/ERROR/, "the waiter in partition $keys[$i] timed out");
}

# seconds with someone waiting, per row
my %waited;
for my $line (
	split /\n/,
	$local->safe_psql(
		'postgres',
		"SELECT coalesce(partition, 'POOL'), saturation * elapsed
		   FROM pgpool_ext.efficiency
		  WHERE pool_name = 'effs' AND time_window = 'total'
		    AND coalesce(partition, 'POOL') IN ('POOL', 'a', 'b')"))
{
	my ($k, $v) = split /\|/, $line;
	$waited{$k} = $v;
}
note explain \%waited;
my ($a, $b, $pool) = @waited{qw(a b POOL)};
my $longer = $a > $b ? $a : $b;

ok($a >= $timeout_s - 0.05, "partition a had a waiter for its timeout ($a s)");
ok($b >= $timeout_s - 0.05, "partition b had a waiter for its timeout ($b s)");
ok( $pool >= $longer - 0.05 && $pool <= $longer + 1,
	"the pool had a waiter $pool s: the longer partition's ($longer s), the waits overlapped"
);
ok($pool < $a + $b - $timeout_s / 2,
	"the pool's time ($pool s) is not the sum of the partitions' ($a + $b s)");

# the 5-minute window: the same
my $pool5 = $local->safe_psql('postgres',
	"SELECT saturation * elapsed FROM pgpool_ext.efficiency
	  WHERE pool_name = 'effs' AND partition IS NULL AND time_window = '5min'");
ok( $pool5 >= $longer - 0.05 && $pool5 < $a + $b - $timeout_s / 2,
	"the 5min window's pool row: $pool5 s, not the sum");

# the peak of the pool's waiting is the peak of the sum: usage_hourly
# shows the pool's interval, whose peak_waiting is 2 (both at once)
is( $local->safe_psql('postgres',
		"SELECT max(peak_waiting) FROM pgpool_ext.usage_hourly WHERE pool_name = 'effs'"),
	'2',
	'both waited at once: the pool peaked at 2 waiters');

$_->quit for @holders, @waiters;
done_testing();
