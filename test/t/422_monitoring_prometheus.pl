# A Prometheus server scraping prometheus-postgres-exporter (with the
# shipped query file) every second: after a controlled workload on a pool
# of one connection (a holder keeps it a fixed time while waiters queue),
# histogram_quantile(0.95, ...) over pgpool_ext_wait_seconds_bucket (and
# the hold and query histograms) lies within the Prometheus buckets around
# the p95 that pgpool_ext.latency reports (itself within 5 % of the exact
# value), both over the raw cumulative buckets and as the Grafana dashboard
# asks it, over rate(...[5m]).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolMonitoring;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 1)");
ok( $local->poll_query_until('postgres',
		"SELECT idle = 1 FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'pool p has its idle connection');
$local->safe_psql('postgres', "CREATE ROLE monitor LOGIN IN ROLE pg_read_all_stats");

my $exporter = start_exporter($local, 'monitor');
my $prom = start_prometheus("127.0.0.1:$exporter->{port}");
ok( prom_poll($prom, 'pgpool_ext_wait_seconds_count{pool="p"}', sub { @{ $_[0] } == 1 }),
	'Prometheus has scraped the (empty) wait histogram of p');

# the workload, after the first scrape: short waits, then long ones
queue_traffic($local, 'p', 3, 0.05);
queue_traffic($local, 'p', 5, 0.3);

# the Prometheus bucket bounds, from metrics()
my $text = $local->safe_psql('postgres', "SELECT pgpool_ext.metrics()");
my @bounds = map { $_->[1]{le} }
  grep { $_->[0] eq 'pgpool_ext_wait_seconds_bucket' && $_->[1]{pool} eq 'p' }
  @{ parse_exposition($text)->{samples} };
is($bounds[-1], '+Inf', 'the bucket set ends with +Inf');
pop @bounds;

foreach my $kind (qw(wait hold query))
{
	my ($count, $p95) = split /\|/, $local->safe_psql('postgres',
		"SELECT count, p95 FROM pgpool_ext.latency WHERE pool_name = 'p' "
		  . "AND partition IS NULL AND kind = '$kind' AND time_window = 'total'");
	cmp_ok($count, '>', 0, "$kind: the latency view counted $count");
	ok( prom_poll($prom, "sum(pgpool_ext_${kind}_seconds_count{pool=\"p\"})",
			sub { @{ $_[0] } == 1 && $_[0][0]{value}[1] == $count }),
		"$kind: Prometheus has scraped all $count");

	# the buckets around the view's p95 (allowing for its 5 % error)
	my ($lo) = reverse grep { $_ <= $p95 / 1.05 } @bounds;
	my ($hi) = grep { $_ >= $p95 * 1.05 } @bounds;
	$lo //= 0;
	$hi //= 'inf';
	foreach my $expr (
		"histogram_quantile(0.95, sum by (le) (pgpool_ext_${kind}_seconds_bucket{pool=\"p\"}))",
		"histogram_quantile(0.95, sum by (pool, le) "
		. "(rate(pgpool_ext_${kind}_seconds_bucket{pool=\"p\"}[5m])))")
	{
		my $res = prom_query($prom, $expr);
		my $q = $res && @$res ? $res->[0]{value}[1] : 'none';
		ok($q ne 'none' && $q ne 'NaN' && $q >= $lo && ($hi eq 'inf' || $q <= $hi),
			"$kind: $expr = $q, within [$lo, $hi] around the view's p95 $p95");
	}
}

done_testing();
