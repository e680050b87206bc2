# Usage over time against a workload timed by the client, with
# pgpool_ext.usage_interval = 2s: a pool of one connection; a holder keeps
# it across several slots while three waiters queue behind it and a fourth
# times out; then the waiters get it in turn.  The rows of usage_hourly must
# be successive 2-second slots; the events (acquires, waits, timeouts) are
# those caused; in every complete slot avg_in_use is the share of the slot
# the connection was held, as the client's own timings bound it, and
# avg_waiting is 3 in the slots wholly inside the three waiters' queueing;
# peak_waiting is the number of waiters queued at once.
# usage_by_hour_of_day folds the same slots, reset_stats empties them, and a
# new usage_interval begins slots of the new width.
#
# Tolerance of the time-weighted values: the server stamps usage with the
# kernel's coarse clock, at most one tick (<= 10 ms at HZ=100) behind the
# client's clock, which reads the same system time; so the server's in-use
# interval begins and ends within 10 ms before the client's bounds (acquire
# sent/returned, release sent/returned).  Over a 2 s slot that is 0.005 of
# avg_in_use per end; 0.01 a slot is allowed.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use List::Util qw(max min sum);
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $width = 2;
my $eps = 0.01;
my $remote = remote_node('remote');
my $local = local_node('local', conf => "pgpool_ext.usage_interval = '${width}s'\n");
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('use', '$ci', min_size => 1, max_size => 1)");
ok( $local->poll_query_until('postgres',
		"SELECT idle FROM pgpool_ext.pools WHERE pool_name = 'use'", '1'),
	'the pool has its idle connection');
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('use')");

# Number of rows (slots) of the pool, and a poll until there are $n.
my $rows_sql = "SELECT count(*) FROM pgpool_ext.usage_hourly WHERE pool_name = 'use'";
sub poll_rows
{
	my ($n, $what) = @_;
	ok( $local->poll_query_until('postgres',
			"SELECT ($rows_sql) >= $n"), $what);
}

# Begin in the second slot after the reset, so that every slot the
# workload touches is a whole one (the first covers only from the reset).
poll_rows(2, 'a second slot began after the reset');
my $rows0 = $local->safe_psql('postgres', $rows_sql);

# Run $sql in session $s: (stdout, time sent, time returned).
sub timed
{
	my ($s, $sql) = @_;
	my $t0 = time();
	my $out = sq_ok($s, $sql);
	return ($out, $t0, time());
}

my $holder = session($local);
my ($h, $acq_sent, $acq_ret) = timed($holder,
	"SELECT pgpool_ext.acquire('use', timeout => '120s')");

my @w = map { session($local) } 1 .. 3;
for my $i (0 .. 2)
{
	start_query($w[$i], "SELECT pgpool_ext.acquire('use', timeout => '120s')");
	ok( $local->poll_query_until('postgres',
			"SELECT count(*) FROM pgpool_ext.waiters WHERE pool_name = 'use'", $i + 1),
		"waiter $i queued");
}
my $queued3 = time();	# three wait from here at the latest

# A fourth waiter gives up after 300 ms.
my $late = session($local);
my $to_sent = time();
my ($out, $err) = sq($late, "SELECT pgpool_ext.acquire('use', timeout => '300ms')");
my $to_ret = time();
is(sqlstate($err), '53300', 'the fourth acquire times out');

# Hold on across three more slot boundaries: whole slots with three
# waiters, at least one of them ending well before the release.
my $rows_held = $local->safe_psql('postgres', $rows_sql);
poll_rows($rows_held + 3, 'the holder held across three more slots');
my $rel_sent = time();
sq_ok($holder, "SELECT pgpool_ext.release($h)");

# Each waiter in turn is granted (at once: the holder's release hands the
# connection over) and releases.
my ($last_rel_sent, $last_rel_ret);
for my $i (0 .. 2)
{
	my ($hw, $e) = finish_query($w[$i], 60);
	is($e, '', "waiter $i granted");
	(undef, $last_rel_sent, $last_rel_ret) =
	  timed($w[$i], "SELECT pgpool_ext.release($hw)");
}

# Let the slot of the last release end, so that every slot is complete.
my $rows_end = $local->safe_psql('postgres', $rows_sql);
poll_rows($rows_end + 1, 'the slot of the last release ended');

my @rows = map { [ split /\|/ ] } split /\n/, $local->safe_psql('postgres',
	"SELECT extract(epoch FROM hour_start), interval_s, acquires, waits, timeouts, "
	  . "avg_in_use, peak_in_use, avg_waiting, peak_waiting, coalesce(wait_p95, -1) "
	  . "FROM pgpool_ext.usage_hourly WHERE pool_name = 'use' ORDER BY hour_start");
my @starts = map { $_->[0] } @rows;
ok(@rows >= $rows0 + 3, scalar(@rows) . ' rows');
ok((!grep { $rows[$_]->[0] - $rows[ $_ - 1 ]->[0] != $width } 1 .. $#rows),
	'the rows are successive 2 s slots');
ok((!grep { $_->[1] != $width || $_->[0] != int($_->[0]) || $_->[0] % $width } @rows),
	'every slot is 2 s wide and starts on a multiple of 2 s');
is(sum(map { $_->[2] } @rows), 4, 'acquires: the holder and three waiters');
is(sum(map { $_->[3] } @rows), 4, 'waits: four queued');
is(sum(map { $_->[4] } @rows), 1, 'timeouts: one');
is(max(map { $_->[8] } @rows), 4, 'peak_waiting: four queued at once');
is(max(map { $_->[6] } @rows), 1, 'peak_in_use: the one connection');

# Overlap in seconds of [a, b] with the slot beginning at s.
sub overlap
{
	my ($a, $b, $s) = @_;
	my $o = min($b, $s + $width) - max($a, $s);
	return $o > 0 ? $o : 0;
}

# The connection is in use from the holder's acquire to the last waiter's
# release, without a gap (each release hands it to the next waiter).  The
# first row is the partial slot of the reset and the last the current one:
# only the complete slots between are checked.
my $checked_waiting = 0;
for my $k (1 .. $#rows - 1)
{
	my ($s, $avg_in_use, $avg_waiting) = @{ $rows[$k] }[ 0, 5, 7 ];
	my $lo = overlap($acq_ret, $last_rel_sent, $s) / $width - $eps;
	my $hi = overlap($acq_sent, $last_rel_ret, $s) / $width + $eps;
	ok($avg_in_use >= $lo && $avg_in_use <= $hi,
		sprintf('slot %d: avg_in_use %.4f within [%.4f, %.4f]', $k, $avg_in_use, $lo, $hi));
	# wholly inside three waiters' queueing, and not the fourth's
	if ($s >= $queued3 && $s + $width <= $rel_sent - $eps
		&& overlap($to_sent, $to_ret, $s) == 0)
	{
		ok(abs($avg_waiting - 3) <= 3 * $eps,
			sprintf('slot %d: avg_waiting %.4f is 3', $k, $avg_waiting));
		$checked_waiting++;
	}
}
ok($checked_waiting >= 1, "avg_waiting checked in $checked_waiting whole slots");

# wait_p95: the slot of the grants has the three waiters' waits, each
# longer than the time from the last one queued to the release.
my $min_wait = $rel_sent - $queued3;
ok(max(map { $_->[9] } @rows) >= 0.95 * $min_wait,
	sprintf('the largest wait_p95 covers the waiters (%.3f s)', $min_wait));

# usage_by_hour_of_day folds the same slots (polled: a slot may begin
# between the two views' reads).
ok( $local->poll_query_until('postgres', q{
	SELECT (SELECT sum(days) FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'use')
	     = (SELECT count(*) FROM pgpool_ext.usage_hourly WHERE pool_name = 'use')}),
	'usage_by_hour_of_day: every slot folded');
is( $local->safe_psql('postgres', q{
	SELECT sum(acquires) || ' ' || sum(waits) || ' ' || sum(timeouts) || ' '
	       || max(peak_waiting) || ' ' || max(peak_in_use)
	  FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'use'}),
	'4 4 1 4 1', 'usage_by_hour_of_day: the same counts and peaks');
is( $local->safe_psql('postgres', q{
	SELECT (SELECT array_agg(DISTINCT extract(hour FROM hour_start)::int)
	          FROM pgpool_ext.usage_hourly WHERE pool_name = 'use')
	     = (SELECT array_agg(hour_of_day ORDER BY hour_of_day)
	          FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'use')}),
	't', 'usage_by_hour_of_day: the hours of the slots');

# reset_stats empties the slots.
$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats('use')");
is( $local->safe_psql('postgres', q{
	SELECT coalesce(sum(acquires + waits + timeouts), 0) || ' ' || max(peak_waiting)
	       || ' ' || max(peak_in_use) || ' ' || count(wait_p95)
	  FROM pgpool_ext.usage_hourly WHERE pool_name = 'use'}),
	'0 0 0 0', 'reset_stats: no event, no peak, no wait left');
is( $local->safe_psql('postgres', q{
	SELECT coalesce(sum(acquires + waits + timeouts), 0)
	  FROM pgpool_ext.usage_by_hour_of_day WHERE pool_name = 'use'}),
	'0', 'reset_stats: usage_by_hour_of_day is empty too');

# A new usage_interval begins slots of the new width from the reload on.
$local->safe_psql('postgres',
	"ALTER SYSTEM SET pgpool_ext.usage_interval = '3s'; SELECT pg_reload_conf()");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pgpool_ext.usage_hourly "
		  . "WHERE pool_name = 'use' AND interval_s = 3"),
	'a slot of the new width began');
is( $local->safe_psql('postgres',
		"SELECT bool_and(extract(epoch FROM hour_start)::bigint % 3 = 0) "
		  . "FROM pgpool_ext.usage_hourly WHERE pool_name = 'use' AND interval_s = 3"),
	't', 'it starts on a multiple of the new width');

$holder->quit;
$late->quit;
$_->quit for @w;
done_testing();
