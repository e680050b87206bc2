# Debian's prometheus-postgres-exporter with monitoring/pgpool_ext_queries.yaml,
# connected as a role with pg_read_all_stats: it loads the file without
# error, serves every metric of pgpool_ext.metrics() under the same name,
# type and labels (plus its "server" label) and the same values, and every
# metric the Grafana dashboard (monitoring/grafana-dashboard.json) queries
# is in its output.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use JSON::PP;
use PgpoolMonitoring;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local');
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 0, max_size => 1)");
queue_traffic($local, 'p', 2, 0.02);
queue_traffic($local, 'p', 2, 0.02, partition => 'k1');
$local->safe_psql('postgres', "CREATE ROLE monitor LOGIN IN ROLE pg_read_all_stats");
# a quiet pool: nothing changes between the two reads below
ok( $local->poll_query_until('postgres',
		"SELECT idle = 1 AND waiting = 0 FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'pool p is idle');

my $exporter = start_exporter($local, 'monitor');
my $text = $local->safe_psql('postgres', "SELECT pgpool_ext.metrics('prometheus')");
my (undef, $served) = http_get($exporter->{url});
my $ours = parse_exposition($text);
my $theirs = parse_exposition($served);

# the file loaded, every query ran
my %exp = map { ($_->[0] => $_) } @{ $theirs->{samples} };
is($exp{pg_exporter_last_scrape_error}[2], 0, 'the exporter\'s last scrape had no error');
is(scalar(grep { $_->[0] eq 'pg_exporter_user_queries_load_error' && $_->[2] != 0 }
		  @{ $theirs->{samples} }),
	0, 'the exporter loaded the query file');
unlike(slurp_file($exporter->{log}), qr/level=error/, 'no error in the exporter log');

# same metrics, types, labels and values
foreach my $f (sort keys %{ $ours->{types} })
{
	is($theirs->{types}{$f}, $ours->{types}{$f}, "exporter serves $f as a $ours->{types}{$f}");
}
my %served;
my $no_server = 0;
foreach my $x (@{ $theirs->{samples} })
{
	next unless $x->[0] =~ /^pgpool_ext_/;
	my %l = %{ $x->[1] };
	$no_server++ unless delete $l{server};
	$served{ sample_key($x->[0], \%l) } = $x->[2];
}
is($no_server, 0, 'every pgpool_ext sample has the exporter\'s server label');
my ($missing, $different) = (0, 0);
foreach my $x (@{ $ours->{samples} })
{
	my $key = sample_key($x->[0], $x->[1]);
	# a gauge that is a clock reading differs between the two reads
	next if $x->[0] eq 'pgpool_ext_max_wait_seconds';
	if (!exists $served{$key})
	{
		$missing++;
		diag "not served: $key";
	}
	elsif ($served{$key} != $x->[2] && abs($served{$key} - $x->[2]) > 1e-6 * abs($x->[2]))
	{
		$different++;
		diag "served $key = $served{$key}, metrics() says $x->[2]";
	}
}
is($missing, 0, 'every sample of metrics() is served by the exporter');
is($different, 0, 'with the same value');
is(scalar(grep { /^pgpool_ext_/ && !exists $ours->{types}{$_} } keys %{ $theirs->{types} }),
	0, 'the exporter serves no pgpool_ext metric that metrics() lacks');

# the Grafana dashboard uses only metrics the exporter serves
my ($exprs, $names) = dashboard_metrics(monitoring_file('grafana-dashboard.json'));
cmp_ok(scalar @$exprs, '>=', 10, 'the dashboard has its queries');
my %sample_names = map { ($_->[0] => 1) } @{ $theirs->{samples} };
foreach my $name (@$names)
{
	ok($sample_names{$name}, "dashboard metric $name is in the exporter's output");
}

done_testing();

# A sample's name and labels as one string.  A bucket bound is a number:
# the exporter writes 1e-05 where metrics() writes 0.00001.
sub sample_key
{
	my ($name, $labels) = @_;
	my %l = %$labels;
	$l{le} = 0 + $l{le} if exists $l{le} && $l{le} ne '+Inf';
	return $name . JSON::PP->new->canonical->encode(\%l);
}
