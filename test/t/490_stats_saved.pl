# Statistics (pools' counters, latency and histogram, usage_hourly)
# survive a restart of the pool worker and a clean restart of the server
# (saved in $PGDATA/pg_stat/pgpool_ext.stat at shutdown, read back by the
# worker's first load, once), and are discarded after an immediate-mode
# stop or a crash, as PostgreSQL's own statistics are.  A pool dropped and
# created again under the same name does not inherit the old pool's
# statistics; a garbled or truncated file, or one of another build, is
# ignored with a LOG line and the server runs on with empty statistics.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IPC::Run;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);
my $file = $local->data_dir . '/pg_stat/pgpool_ext.stat';
$local->append_conf('postgresql.conf', "restart_after_crash = on\n");
$local->reload;

# No connection is opened but on demand: a (re)start opens none, so every
# counter stays as the workload left it.
for my $p ([ 'sv', 2 ], [ 'gone', 1 ])
{
	$local->safe_psql('postgres',
		    "SELECT pgpool_ext.create_pool('$p->[0]', '$ci', min_size => 0, "
		  . "initial_size => 0, max_size => $p->[1])");
}

# Start the node as local_node does (without the script's PGAPPNAME).
sub start_local
{
	delete local $ENV{PGAPPNAME};
	$local->start;
	return;
}

# One acquire, remote query and release on pool sv (partition $part).
sub use_sv
{
	my ($part) = @_;
	my $p = defined $part ? ", partition => '$part'" : '';
	$local->safe_psql('postgres',
		"SELECT pgpool_ext.acquire('sv', timeout => '30s'$p) AS h \\gset\n"
		  . "SELECT * FROM pgpool_ext.query(:h, 'SELECT 1') AS t(x int);\n"
		  . "SELECT pgpool_ext.release(:h);");
	return;
}

# What a user sees of the statistics: the pools' counters, the latency
# summaries and the histogram buckets since the last reset, and the usage
# intervals with events (their averages are over the time tracked so far,
# which grows as long as the current interval lasts: left out).
sub snapshot
{
	return $local->safe_psql(
		'postgres', q{
SELECT string_agg(format('%s acquires=%s waits=%s timeouts=%s connects=%s '
                         'failures=%s closes=%s reset=%s', pool_name,
                         acquires, waits, timeouts, connects,
                         connect_failures, closes, stats_reset),
                  E'\n' ORDER BY pool_name)
  FROM pgpool_ext.pools;
SELECT string_agg(format('%s/%s %s n=%s mean=%s p50=%s p99=%s max=%s '
                         'timeouts=%s cancels=%s errors=%s', pool_name,
                         coalesce(partition, '*'), kind, count, mean, p50,
                         p99, max, timeouts, cancels, errors),
                  E'\n' ORDER BY pool_name, partition NULLS FIRST, kind)
  FROM pgpool_ext.latency WHERE time_window = 'total';
SELECT string_agg(format('%s/%s %s [%s,%s) %s', pool_name,
                         coalesce(partition, '*'), kind, lower, upper, count),
                  E'\n' ORDER BY pool_name, partition NULLS FIRST, kind, lower)
  FROM pgpool_ext.histogram WHERE time_window = 'total';
SELECT string_agg(format('%s %s/%s acquires=%s waits=%s timeouts=%s '
                         'errors=%s connects=%s closes=%s peak_in_use=%s '
                         'peak_waiting=%s wait_p95=%s', pool_name,
                         hour_start, interval_s, acquires, waits, timeouts,
                         errors, connects, closes, peak_in_use,
                         peak_waiting, wait_p95),
                  E'\n' ORDER BY pool_name, hour_start)
  FROM pgpool_ext.usage_hourly
 WHERE acquires + waits + timeouts + errors + connects + closes > 0;
});
}

# A counter of the pools view.
sub counter
{
	my ($pool, $col) = @_;
	return $local->safe_psql('postgres',
		"SELECT $col FROM pgpool_ext.pools WHERE pool_name = '$pool'");
}

# Are all statistics of every pool empty?
sub all_empty
{
	return $local->safe_psql(
		'postgres', q{
SELECT (SELECT count(*) FROM pgpool_ext.pools
         WHERE acquires + waits + timeouts + connects + connect_failures
               + closes > 0) = 0
   AND (SELECT count(*) FROM pgpool_ext.latency WHERE count > 0) = 0
   AND (SELECT count(*) FROM pgpool_ext.histogram) = 0
   AND (SELECT count(*) FROM pgpool_ext.usage_hourly
         WHERE acquires + waits + timeouts + errors + connects + closes
               > 0) = 0});
}

# The server log written since $offset.
sub log_since
{
	my ($offset) = @_;
	return slurp_file($local->logfile, $offset);
}

# ---- a workload: the default partition and k1 of sv, a timeout on gone
use_sv() for 1 .. 3;
use_sv('k1') for 1 .. 2;
my $holder = session($local);
my $hg = sq_ok($holder, "SELECT pgpool_ext.acquire('gone', timeout => '30s')");
my ($out, $err) = psql_err($local,
	"SELECT pgpool_ext.acquire('gone', timeout => '10ms')");
is(sqlstate($err), '53300', 'an acquire on gone timed out');
sq_ok($holder, "SELECT pgpool_ext.release($hg)");
$holder->quit;

my $before = snapshot();
like($before, qr/^sv acquires=5 /m, 'sv counted five acquires');
like($before, qr/^gone acquires=1 waits=\d+ timeouts=1 /m,
	'gone counted the acquire and the timeout');
like($before, qr{^sv/k1 query n=2 }m, 'partition k1 has its query latencies');
like($before, qr{^sv \S+ \S+/\d+ acquires=5 }m, 'sv has a usage interval');
note $before;

# ---- a restart of the pool worker: nothing lost, nothing counted twice
my $old = worker_pid($local);
$local->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
wait_new_worker($local, $old);
is(snapshot(), $before, 'the statistics are unchanged after a worker restart');

# ---- a clean restart
my $offset = -s $local->logfile;
$local->stop('fast');
ok(-e $file, 'the statistics were saved at the clean shutdown');
start_local();
is(snapshot(), $before, 'the statistics are unchanged after a clean restart');
ok(!-e $file, 'the file is removed once applied');
like(log_since($offset),
	qr/restored the statistics of 2 pools saved at .*\n.*Partitions restored: 3\.  .*discarded: 0\./,
	'LOG: what was restored');

# Applied once per shared-memory lifetime: a worker restart after more
# work, and the new worker's load of the definitions (a definition
# changed), keep the new counts: the file is not applied again.
use_sv();
$old = worker_pid($local);
$local->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
wait_new_worker($local, $old);
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('gone', max_size => 1)");
is(counter('sv', 'acquires'), '6',
	'a worker restart and its next load apply nothing again');
my @restored = log_since($offset) =~ /restored the statistics/g;
is(scalar(@restored), 1, 'the file was applied once');
my $sv_line = (split /\n/, snapshot())[1];
like($sv_line, qr/^sv acquires=6 /, 'the pools row of sv');

# pg_ctl restart (fast mode) keeps them as well.
$before = snapshot();
{
	delete local $ENV{PGAPPNAME};
	$local->restart;
}
is(snapshot(), $before, 'the statistics are unchanged after pg_ctl restart');

# ---- a pool dropped and created again while the server was down (its
# definition row has a new created_at) starts from zero.  The change is
# made in single-user mode, where no pool worker runs: the saved file
# stays for the next start.
$offset = -s $local->logfile;
$local->stop('fast');
my $single_out = '';
my $single_ok = IPC::Run::run(
	[ 'postgres', '--single', '-D', $local->data_dir, 'postgres' ],
	'<', \"UPDATE pgpool_ext.pool_definition SET created_at = created_at + interval '1 second' WHERE pool_name = 'gone'\n",
	'>&', \$single_out);
ok($single_ok, 'single-user mode ran') or diag $single_out;
ok(-e $file, 'the file survives a start that never loaded the pools');
start_local();
my $now = snapshot();
is((split /\n/, $now)[1], $sv_line, 'sv keeps its statistics');
like($now, qr/^gone acquires=0 waits=0 timeouts=0 /m,
	'the recreated pool gone starts from zero');
unlike($now, qr{^gone/\S+ \w+ n=[1-9]}m, 'no latency of the old gone');
my $log = log_since($offset);
like($log,
	qr/restored the statistics of 1 pool saved at .*\n.*Partitions restored: 2\.  Saved entries that matched no pool or partition, discarded: 2\./,
	'LOG: sv restored, the old gone (pool and partition) discarded');

# ---- an immediate-mode stop discards everything.  The postmaster exits
# with code 0 then too: the save itself must see that the shutdown
# checkpoint never ran.
$offset = -s $local->logfile;
$local->stop('immediate');
like(log_since($offset), qr/pool statistics not saved/,
	'LOG: not saved at an immediate stop');
ok(!-e $file, 'no file after an immediate stop');
start_local();
is(all_empty(), 't', 'no statistics after an immediate stop');
isnt(counter('sv', 'stats_reset'), (split /reset=/, $sv_line)[1],
	'stats_reset is new');
unlike(log_since($offset), qr/restored the statistics/,
	'nothing restored after an immediate stop');

# A file found after a stop that was not clean (here: one of an earlier
# clean shutdown, put back) is discarded at start, not loaded.
use_sv();
$local->stop('fast');
rename($file, "$file.keep") or die "could not rename $file: $!";
start_local();
$local->stop('immediate');
rename("$file.keep", $file) or die "could not rename $file.keep: $!";
$offset = -s $local->logfile;
start_local();
is(all_empty(), 't', 'a file left before an immediate stop is not loaded');
like(log_since($offset),
	qr/discarding the saved pool statistics\n.*did not shut down cleanly/,
	'LOG: discarded at start');
ok(!-e $file, 'and removed');

# A crash (a backend killed): the crash-restart cycle starts from zero.
use_sv();
is(counter('sv', 'acquires'), '1', 'an acquire before the crash');
my $victim = session($local);
my $victim_pid = sq_ok($victim, 'SELECT pg_backend_pid()');
kill 'KILL', $victim_pid;
ok($local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE backend_type = 'pgpool_ext worker'"),
	'the server is back after the crash');
is(all_empty(), 't', 'no statistics after a crash');
ok(!-e $file, 'no file after a crash');

# ---- a garbled, a truncated file and a file of another build are ignored
for my $case ([ 'garbled', 'checksum does not match' ],
	[ 'truncated', 'too short' ],
	[ 'another build', 'another version or build' ])
{
	my ($what, $detail) = @$case;
	use_sv();
	$offset = -s $local->logfile;
	$local->stop('fast');
	ok(-e $file, "$what: saved");
	open(my $fh, '+<', $file) or die "could not open $file: $!";
	binmode $fh;
	if ($what eq 'garbled')
	{
		seek($fh, (-s $file) / 2, 0);
		print $fh 'garbage' x 4;
	}
	elsif ($what eq 'truncated')
	{
		truncate($fh, 10) or die "could not truncate $file: $!";
	}
	else
	{
		seek($fh, 4, 0);	# the format version
		print $fh pack('L', 999);
	}
	close $fh;
	start_local();
	is(all_empty(), 't', "$what: the statistics start empty");
	like(log_since($offset), qr/ignoring the saved pool statistics.*\n.*$detail/,
		"$what: LOG line");
	ok(!-e $file, "$what: the file is removed");
	use_sv();
	is(counter('sv', 'acquires'), '1', "$what: the server works");
	$local->safe_psql('postgres', "SELECT pgpool_ext.reset_stats()");
}

# ---- the time the server was down is in no usage interval.  With
# one-second intervals and the server down for more than two seconds, at
# least one whole interval lies in the downtime: none is shown for it.
$local->safe_psql('postgres',
	"ALTER SYSTEM SET pgpool_ext.usage_interval = '1s'");
$local->reload;
ok( $local->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pgpool_ext.usage_hourly "
		  . "WHERE pool_name = 'sv' AND interval_s = 1"),
	'one-second usage intervals');
use_sv();
$local->stop('fast');
my $down_at = Time::HiRes::time();
# the one wait of this test that is on the clock, not on the server
ok(poll_until('the server is down for 2.5 s',
		sub { Time::HiRes::time() > $down_at + 2.5 }),
	'the server was down for 2.5 seconds');
my $up_at = Time::HiRes::time();
start_local();
use_sv();
is( $local->safe_psql(
		'postgres',
		"SELECT count(*) FROM pgpool_ext.usage_hourly WHERE pool_name = 'sv' "
		  . "AND hour_start >= to_timestamp($down_at) "
		  . "AND hour_start + interval '1 second' <= to_timestamp($up_at)"),
	'0',
	'no usage interval while the server was down');
is( $local->safe_psql(
		'postgres',
		"SELECT sum(acquires) FROM pgpool_ext.usage_hourly WHERE pool_name = 'sv'"),
	'2',
	'the acquires before and after the restart are in usage_hourly');

done_testing();
