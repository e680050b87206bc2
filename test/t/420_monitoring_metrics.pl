# pgpool_ext.metrics() with traffic (waits, a timeout, two partitions, a
# remote error): promtool check metrics accepts the Prometheus text with
# no problem; the JSON document parses and holds the same samples; the CSV
# has its header and one line per sample; a role with pg_read_all_stats
# reads it, others get 42501.
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
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('q\"x', '$ci', min_size => 0, max_size => 2)");
queue_traffic($local, 'p', 3, 0.05);
queue_traffic($local, 'p', 2, 0.02, partition => 'k1');
# a timeout, a remote error
my $s = session($local);
my $h = sq($s, "SELECT pgpool_ext.acquire('p')");
my (undef, $err) = sq($s,
	"SELECT pgpool_ext.acquire('p', timeout => '50ms')");
is(sqlstate($err), '53300', 'an acquire timed out');
(undef, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT 1/0')");
is(sqlstate($err), '22012', 'a remote error');
sq($s, "SELECT pgpool_ext.release($h)");

# Prometheus text: promtool accepts it as it is
my $text = $local->safe_psql('postgres', "SELECT pgpool_ext.metrics('prometheus')");
my ($rc, $out) = promtool_check($text . "\n");
is($rc, 0, 'promtool check metrics exits 0');
is($out, '', 'promtool check metrics reports no problem');
my $prom = parse_exposition($text);
my @families = sort keys %{ $prom->{types} };
foreach my $f (@families)
{
	like($text, qr/^# HELP \Q$f\E \S.*\n# TYPE \Q$f\E \w+$/m, "$f has HELP and TYPE");
}
my %sample = map { ($_->[0] . encode_json_canon($_->[1])) => $_->[2] } @{ $prom->{samples} };
is($sample{'pgpool_ext_acquires_total{"pool":"p"}'},
	$local->safe_psql('postgres', "SELECT acquires FROM pgpool_ext.pools WHERE pool_name = 'p'"),
	'acquires_total is the pools view\'s acquires');
is($sample{'pgpool_ext_timeouts_total{"pool":"p"}'}, 1, 'timeouts_total counted the timeout');
is($sample{'pgpool_ext_connections{"partition":"k1","pool":"p","state":"idle"}'}
	  + $sample{'pgpool_ext_connections{"partition":"","pool":"p","state":"idle"}'}
	  + $sample{'pgpool_ext_connections{"partition":"","pool":"p","state":"resetting"}'}
	  + $sample{'pgpool_ext_connections{"partition":"k1","pool":"p","state":"resetting"}'},
	1, 'the one connection of p is idle or resetting in one of its partitions');
ok(exists $sample{'pgpool_ext_waiting_clients{"partition":"","pool":"q\"x"}'},
	'a pool name with a quote is escaped and reads back');

# histograms: cumulative buckets ending in +Inf = count, sum present
SKIP:
{
	skip 'no histogram in this build', 4 unless exists $prom->{types}{pgpool_ext_wait_seconds};
	is($prom->{types}{$_}, 'histogram', "$_ is a histogram")
	  foreach qw(pgpool_ext_wait_seconds pgpool_ext_hold_seconds pgpool_ext_query_seconds);
	my $ok = 1;
	foreach my $kind (qw(wait hold query))
	{
		my @b = grep { $_->[0] eq "pgpool_ext_${kind}_seconds_bucket" && $_->[1]{pool} eq 'p'
			  && $_->[1]{partition} eq '' } @{ $prom->{samples} };
		my $prev = 0;
		foreach my $b (@b)
		{
			$ok = 0, diag "not cumulative: $b->[1]{le}" if $b->[2] < $prev;
			$prev = $b->[2];
		}
		$ok = 0, diag "$kind: last bucket is not +Inf" unless $b[-1][1]{le} eq '+Inf';
		$ok = 0, diag "$kind: +Inf is not count"
		  unless $b[-1][2] == $sample{"pgpool_ext_${kind}_seconds_count" . '{"partition":"","pool":"p"}'};
		$ok = 0, diag "$kind: empty" unless $b[-1][2] > 0;
		$ok = 0, diag "$kind: first bound above 100 us" unless $b[0][1]{le} <= 0.0001;
	}
	ok($ok, 'buckets are cumulative from at most 100 us to +Inf = count, non-empty');
}

# JSON: one document, the same samples
my $doc = decode_json($local->safe_psql('postgres', "SELECT pgpool_ext.metrics('json')"));
is_deeply([ sort map { $_->{name} } @{ $doc->{metrics} } ], \@families,
	'JSON has the same metrics as the Prometheus text');
my $nsamples = 0;
foreach my $m (@{ $doc->{metrics} })
{
	foreach my $x (@{ $m->{samples} })
	{
		# a histogram is its buckets, +Inf, _sum and _count in the text format
		$nsamples += $m->{type} eq 'histogram' ? @{ $x->{buckets} } + 3 : 1;
	}
}
is($nsamples, scalar @{ $prom->{samples} }, 'JSON holds as many samples as the text format');

# CSV: a header and one line per sample
my $csv = $local->safe_psql('postgres', "SELECT pgpool_ext.metrics('csv')");
my @lines = split /\n/, $csv;
is(shift @lines, 'metric,labels,value', 'CSV header');
is(scalar @lines, scalar @{ $prom->{samples} }, 'CSV has one line per sample');
is(scalar(grep { !/^[a-z_]+,"(?:[^"]|"")*",[-+0-9.eInfa]+$/ } @lines), 0,
	'every CSV line is metric,"labels",value');

# privileges
$local->safe_psql('postgres',
	"CREATE ROLE mon_stats LOGIN IN ROLE pg_read_all_stats; CREATE ROLE mon_none LOGIN");
like($local->safe_psql('postgres', "SELECT pgpool_ext.metrics()", extra_params => [ '-U', 'mon_stats' ]),
	qr/^pgpool_ext_acquires_total\{pool="p"\} /m, 'pg_read_all_stats reads the metrics');
my ($ret, $stdout, $stderr) = $local->psql('postgres', "SELECT pgpool_ext.metrics()",
	extra_params => [ '-U', 'mon_none', '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/42501/, 'a role without pg_read_all_stats gets 42501');
unlike($text . $csv, qr/host=|port=/, 'no conninfo in the metrics');

done_testing();

# Labels as a canonical string, for hash keys.
sub encode_json_canon
{
	return JSON::PP->new->canonical->encode($_[0]);
}
