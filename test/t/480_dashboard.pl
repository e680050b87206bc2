# dashboard() under a live workload agrees with the views it summarizes
# (pools, waiters, leaks, latency, partitions); and the privileges of every
# view and function added by 0.3 and 0.4, read as a plain role, as a member
# of pg_read_all_stats and as a superuser: the aggregates are for
# pg_read_all_stats only, the per-backend views (leaks, leak_history) show
# a plain role the rows of its own sessions only; no password anywhere,
# even when the statement that acquired a leaked handle quoted one.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use JSON::PP;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

$local->safe_psql('postgres', qq{
CREATE ROLE app_user LOGIN;
CREATE ROLE other_user LOGIN;
CREATE ROLE stats_user LOGIN IN ROLE pg_read_all_stats;
SELECT pgpool_ext.create_pool('p', '$ci password=dash_secret_pw', min_size => 0,
                              max_size => 2, password_required => false,
                              options => '{"leak_threshold": "1s"}');
SELECT pgpool_ext.grant_usage('p', 'app_user');
SELECT pgpool_ext.grant_usage('p', 'other_user');
});

# The dashboard's object of pool p, as role $user (undef: the superuser).
sub dash_pool
{
	my ($user) = @_;
	my $json = $local->safe_psql('postgres',
		"SELECT pgpool_ext.dashboard()",
		defined $user ? (extra_params => [ '-U', $user ]) : ());
	my $doc = decode_json($json);
	my ($p) = grep { $_->{name} eq 'p' } @{ $doc->{pools} };
	return ($doc, $p);
}

# Two holders (one per role), the first acquiring in a statement that
# quotes a password; two waiters.
my $sa = session_as($local, 'postgres', 'app_user');
my $a_pid = sq_ok($sa, 'SELECT pg_backend_pid()');
my $ha = sq_ok($sa,
	"SELECT pgpool_ext.acquire('p', timeout => '10s') "
	  . "FROM (SELECT 'host=h password=quoted_secret_pw' AS ci) s");
my $sb = session_as($local, 'postgres', 'other_user');
my $b_pid = sq_ok($sb, 'SELECT pg_backend_pid()');
my $hb = sq_ok($sb, "SELECT pgpool_ext.acquire('p', timeout => '10s')");
sq_ok($sb, "SELECT pgpool_ext.execute($hb, 'SELECT 1')");

my $sc = session_as($local, 'postgres', 'app_user');
my $c_pid = sq_ok($sc, 'SELECT pg_backend_pid()');
start_query($sc, "SELECT pgpool_ext.acquire('p', timeout => '5min') IS NOT NULL");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.waiters WHERE pool_name = 'p'"),
	'first waiter queued');
my $sd = session_as($local, 'postgres', 'other_user');
my $d_pid = sq_ok($sd, 'SELECT pg_backend_pid()');
start_query($sd, "SELECT pgpool_ext.acquire('p', partition => 'k', timeout => '5min') IS NOT NULL");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.waiters WHERE pool_name = 'p'"),
	'second waiter queued');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.leaks WHERE pool_name = 'p'"),
	'both handles are leaks (held past 1 s)');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pgpool_ext.leak_history WHERE pool_name = 'p'"),
	'both leaks are in leak_history');

# What the views say, then the dashboard (nothing changes in between but
# the time: the waits and holds go on).
my $pools = $local->safe_psql('postgres',
	"SELECT in_use, idle, total, waiting, acquires, waits, max_wait, conninfo "
	  . "FROM pgpool_ext.pools WHERE pool_name = 'p'");
my ($in_use, $idle, $total, $waiting, $acquires, $waits, $max_wait, $conninfo)
  = split /\|/, $pools;
my $waiter_pids = $local->safe_psql('postgres',
	"SELECT string_agg(pid::text, ',' ORDER BY waiting_since) "
	  . "FROM pgpool_ext.waiters WHERE pool_name = 'p'");
my $leak_rows = $local->safe_psql('postgres',
	"SELECT string_agg(handle || ':' || holder_pid || ':' || role, ',' ORDER BY handle) "
	  . "FROM pgpool_ext.leaks WHERE pool_name = 'p'");
my $lat = $local->safe_psql('postgres',
	"SELECT kind, count, coalesce(p95::text, 'null') FROM pgpool_ext.latency "
	  . "WHERE pool_name = 'p' AND partition IS NULL AND time_window = '5min' ORDER BY kind");
my $parts = $local->safe_psql('postgres',
	"SELECT partition, in_use, waiting, acquires FROM pgpool_ext.partitions "
	  . "WHERE pool_name = 'p' ORDER BY partition");

my ($doc, $p) = dash_pool();
is($doc->{version}, 1, 'document version 1');
ok(defined $p, 'pool p is in the dashboard');
is( join('|',
		$p->{connections}{in_use}, $p->{connections}{idle}, $p->{total},
		$p->{waiting}, $p->{counters}{acquires}, $p->{counters}{waits}),
	join('|', $in_use, $idle, $total, $waiting, $acquires, $waits),
	'connections, waiting and counters as the pools view');
is("$in_use|$waiting", '2|2', 'two held, two waiting');
ok($p->{max_wait} >= $max_wait, "max_wait $p->{max_wait} >= the pools view's $max_wait read before");
is($p->{definition}{conninfo}, $conninfo, 'definition: conninfo as the pools view (masked)');
is( join(',', map { $_->{pid} } @{ $p->{waiters} }),
	$waiter_pids, 'waiters: the waiters view\'s, oldest first');
is( join(',', map { "$_->{pid}:$_->{role}:$_->{partition}:$_->{priority}" } @{ $p->{waiters} }),
	"$c_pid:app_user::normal,$d_pid:other_user:k:normal",
	'waiters: pid, role, partition, priority');
ok(!grep({ $_->{waiting_for} < 0 } @{ $p->{waiters} }), 'waiters: waiting_for');
is( join(',', map { "$_->{handle}:$_->{holder_pid}:$_->{role}" }
		  sort { $a->{handle} <=> $b->{handle} } @{ $p->{leaks} }),
	$leak_rows, 'leaks: the leaks view\'s handles, holders and roles');
my ($leak_a) = grep { $_->{handle} eq $ha } @{ $p->{leaks} };
like($leak_a->{acquire_query}, qr/password=\*{8}/, 'leaks: acquire_query with its password masked');
ok($leak_a->{held_for} >= 1, 'leaks: held_for');
for my $row (split /\n/, $lat)
{
	my ($kind, $count, $p95) = split /\|/, $row;
	my $dp95 = $p->{$kind}{p95};
	is($p->{$kind}{count}, $count, "$kind: the latency view's 5min count");
	ok( ($p95 eq 'null' && !defined $dp95)
		  || (defined $dp95 && abs($dp95 - $p95) <= 1e-9 * (1 + $p95)),
		"$kind: the latency view's 5min p95 ($p95)");
}
is( join("\n", map { "$_->{partition}|$_->{connections}{in_use}|$_->{waiting}" }
		  sort { $a->{partition} cmp $b->{partition} } @{ $p->{partitions} }),
	join("\n", map { join('|', (split /\|/)[0 .. 2]) } split /\n/, $parts),
	'partitions: as the partitions view');
# usage: the intervals of the last hour hold all the pool's activity
my %usage_sum;
for my $iv (@{ $p->{usage} })
{
	$usage_sum{$_} += $iv->{$_} for qw(acquires waits timeouts);
	$usage_sum{peak_waiting} = $iv->{peak_waiting}
	  if $iv->{peak_waiting} > ($usage_sum{peak_waiting} // 0);
}
is( join('|', map { $usage_sum{$_} // 0 } qw(acquires waits timeouts peak_waiting)),
	"$acquires|$waits|0|2",
	'usage: acquires and waits as the pools view, peak_waiting 2');
SKIP:
{
	skip 'usage_hourly is not in this version', 1
	  if $local->safe_psql('postgres',
		"SELECT to_regclass('pgpool_ext.usage_hourly') IS NULL") eq 't';
	my $rows = $local->safe_psql('postgres',
		"SELECT string_agg(extract(epoch FROM hour_start)::bigint || ':' || acquires "
		  . "|| ':' || waits || ':' || peak_waiting, ',' ORDER BY hour_start) "
		  . "FROM pgpool_ext.usage_hourly WHERE pool_name = 'p' "
		  . "AND hour_start + interval_s * interval '1 s' > now() - interval '1 hour'");
	is( join(',',
			map {
				my $t = $local->safe_psql('postgres',
					"SELECT extract(epoch FROM '$_->{hour_start}'::timestamptz)::bigint");
				"$t:$_->{acquires}:$_->{waits}:$_->{peak_waiting}"
			} @{ $p->{usage} }),
		$rows, 'usage: the usage_hourly rows of the last hour');
}

# efficiency: the efficiency view's whole-pool row of the last 5 minutes
# (the values that do not move with the clock)
my $eff = $local->safe_psql('postgres',
	"SELECT max_size, target_wait, coalesce(recommended_max_size::text, 'null'), advice "
	  . "FROM pgpool_ext.efficiency WHERE pool_name = 'p' AND partition IS NULL "
	  . "AND time_window = '5min'");
# (the advice quotes the window's seconds, which move on: numbers as N)
s/\d+(\.\d+)?/N/g for (my $eff_dash = join('|',
		map { $p->{efficiency}{$_} // 'null' }
		  qw(max_size target_wait recommended_max_size advice)),
	$eff);
is($eff_dash, $eff,
	'efficiency: max_size, target_wait, recommendation and advice as the view');
ok($p->{efficiency}{utilization} > 0, 'efficiency: utilization while both are held');
my $all = $local->safe_psql('postgres', 'SELECT pgpool_ext.dashboard()');
unlike($all, qr/dash_secret_pw|quoted_secret_pw/, 'no password in the document');

# As a member of pg_read_all_stats: everything.
my ($sdoc, $sp) = dash_pool('stats_user');
is(scalar @{ $sp->{waiters} } . '|' . scalar @{ $sp->{leaks} }, '2|2',
	'pg_read_all_stats: every waiter and leak');

# Privileges of the views and functions of 0.3 and 0.4.
my @aggregates = (
	'SELECT count(*) FROM pgpool_ext.latency',
	'SELECT count(*) FROM pgpool_ext.histogram',
	'SELECT count(*) FROM pgpool_ext.partitions',
	'SELECT count(*) FROM pgpool_ext.usage_hourly',
	'SELECT count(*) FROM pgpool_ext.usage_by_hour_of_day',
	'SELECT count(*) FROM pgpool_ext.efficiency',
	"SELECT length(pgpool_ext.metrics('prometheus')) > 0",
	"SELECT length(pgpool_ext.metrics('json')) > 0",
	'SELECT pgpool_ext.dashboard() IS NOT NULL');
for my $sql (@aggregates)
{
	my ($rel) = $sql =~ /pgpool_ext\.(\w+)/;
  SKIP:
	{
		skip "$rel is not in this version", 3
		  if $local->safe_psql('postgres',
			"SELECT to_regclass('pgpool_ext.$rel') IS NULL "
			  . "AND to_regproc('pgpool_ext.$rel') IS NULL") eq 't';
		my ($ret, $out, $err) = $local->psql('postgres', $sql,
			extra_params => [ '-U', 'app_user' ]);
		like($err, qr/permission denied/, "plain role: $rel refused");
		($ret, $out, $err) = $local->psql('postgres', $sql,
			extra_params => [ '-U', 'stats_user' ]);
		is($ret, 0, "pg_read_all_stats: $rel readable") or diag $err;
		($ret, $out, $err) = $local->psql('postgres', $sql);
		is($ret, 0, "superuser: $rel readable") or diag $err;
	}
}
my ($ret, $out, $err) = $local->psql('postgres', "SELECT pgpool_ext.reset_stats('p')",
	extra_params => [ '-U', 'stats_user' ]);
like($err, qr/permission denied/, 'reset_stats: refused to pg_read_all_stats (a write)');

# leaks and leak_history: every role may read them; a plain role sees the
# rows of its own sessions only (the holder's query with them).
my $q_leaks = "SELECT string_agg(holder_pid || ':' || (acquire_query IS NOT NULL)::int, ',' "
  . "ORDER BY holder_pid) FROM pgpool_ext.leaks WHERE pool_name = 'p'";
my $q_hist = "SELECT string_agg(DISTINCT holder_pid::text, ',' ORDER BY holder_pid::text) "
  . "FROM pgpool_ext.leak_history WHERE pool_name = 'p'";
my @both = sort { $a <=> $b } ($a_pid, $b_pid);
is($local->safe_psql('postgres', $q_leaks, extra_params => [ '-U', 'app_user' ]),
	"$a_pid:1", 'leaks, plain role: its own session\'s row only');
is($local->safe_psql('postgres', $q_leaks, extra_params => [ '-U', 'other_user' ]),
	"$b_pid:1", 'leaks, the other role: its own row only');
is($local->safe_psql('postgres', $q_leaks, extra_params => [ '-U', 'stats_user' ]),
	join(',', map { "$_:1" } @both), 'leaks, pg_read_all_stats: every row');
is($local->safe_psql('postgres', $q_leaks), join(',', map { "$_:1" } @both),
	'leaks, superuser: every row');
is($local->safe_psql('postgres', $q_hist, extra_params => [ '-U', 'app_user' ]),
	"$a_pid", 'leak_history, plain role: its own events only');
is($local->safe_psql('postgres', $q_hist, extra_params => [ '-U', 'stats_user' ]),
	join(',', sort @both), 'leak_history, pg_read_all_stats: every event');
unlike( $local->safe_psql('postgres',
		"SELECT string_agg(acquire_query, ' ') FROM pgpool_ext.leak_history"),
	qr/quoted_secret_pw/, 'leak_history: no password');

# dashboard() granted by a superuser to a plain role: only its own
# sessions' waiters and leaks.
$local->safe_psql('postgres',
	'GRANT EXECUTE ON FUNCTION pgpool_ext.dashboard() TO app_user');
my ($udoc, $up) = dash_pool('app_user');
is( join(',', map { $_->{pid} } @{ $up->{waiters} }) . '/'
	  . join(',', map { $_->{holder_pid} } @{ $up->{leaks} }),
	"$c_pid/$a_pid", 'dashboard granted to a plain role: its own waiters and leaks');
is($up->{waiting}, 2, '... and the pool\'s aggregates');
$local->safe_psql('postgres',
	'REVOKE EXECUTE ON FUNCTION pgpool_ext.dashboard() FROM app_user');

# The waiters get the handles once released.
sq_ok($sa, "SELECT pgpool_ext.release($ha)");
sq_ok($sb, "SELECT pgpool_ext.release($hb)");
my ($ok_c) = finish_query($sc);
my ($ok_d) = finish_query($sd);
is("$ok_c|$ok_d", 't|t', 'the waiters were granted');
($doc, $p) = dash_pool();
is(scalar @{ $p->{waiters} } . '|' . $p->{waiting}, '0|0', 'no waiters left');

$_->quit for ($sa, $sb, $sc, $sd);
$local->stop;
$remote->stop;
done_testing();
