# test/t/PgpoolMonitoring.pm
#	Helpers of the monitoring TAP tests (test/t/42*.pl): promtool, Debian's
#	prometheus-postgres-exporter with monitoring/pgpool_ext_queries.yaml,
#	a Prometheus server scraping it, and the Grafana dashboard's queries.
#
# Each test starts its own exporter and Prometheus on free ports
# (PostgreSQL::Test::Cluster::get_free_port), with their files under a
# TAP temporary directory, and stops them in an END block, as
# PostgreSQL::Test::Cluster does with its nodes.  test/setup.sh installs the
# packages.  Readiness is polled over HTTP with a deadline, never slept for.
package PgpoolMonitoring;

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(monitoring_file promtool_check start_exporter
  start_prometheus http_get prom_query prom_poll parse_exposition
  dashboard_metrics queue_traffic);

# Daemons started by this test: stopped at exit.
my @daemons;

END
{
	# kill_kill reaps the daemon: keep the test's exit status
	local $?;
	foreach my $d (@daemons)
	{
		$d->{handle}->kill_kill if $d->{handle}->pumpable;
	}
}

# Path of a file of the project's monitoring/ folder.
sub monitoring_file
{
	my ($name) = @_;
	my $root = File::Spec->rel2abs(dirname(__FILE__) . '/../..');
	return "$root/monitoring/$name";
}

# Run "promtool check metrics" on a text; (exit code, its output).
sub promtool_check
{
	my ($text) = @_;
	my $out = '';
	IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', \$text, '>&', \$out);
	return ($? >> 8, $out);
}

# GET a URL; (status, body).
sub http_get
{
	my ($url) = @_;
	my $res = HTTP::Tiny->new(timeout => 10)->get($url);
	return ($res->{status}, $res->{content});
}

# Start a daemon; its output goes to $log.  Returns its record.
sub start_daemon
{
	my ($name, $cmd, $log, %env) = @_;
	local @ENV{ keys %env } = values %env;
	note "starting $name: @$cmd";
	my $h = IPC::Run::start($cmd, '<', \undef, '>&', $log);
	my $d = { name => $name, handle => $h, log => $log };
	push @daemons, $d;
	return $d;
}

# Poll until GET $url answers 200 and $cond->(body) holds, for at most
# $secs seconds; the last body, or undef.
sub poll_http
{
	my ($url, $cond, $secs) = @_;
	my $deadline = time() + ($secs // $PostgreSQL::Test::Utils::timeout_default);
	while (time() < $deadline)
	{
		my ($status, $body) = http_get($url);
		return $body if $status == 200 && $cond->($body);
		usleep(100_000);
	}
	diag "timed out waiting for $url";
	return undef;
}

# Start prometheus-postgres-exporter on a free port, connected to $node as
# $user with the shipped query file, default and settings metrics off.
# Waits for its first pgpool_ext series.  Returns { port, url, log }.
sub start_exporter
{
	my ($node, $user, $db) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $dir = PostgreSQL::Test::Utils::tempdir('exporter');
	my $dsn = 'host=' . $node->host . ' port=' . $node->port
	  . ' dbname=' . ($db // 'postgres') . " user=$user sslmode=disable";
	my $d = start_daemon(
		'exporter',
		[
			'prometheus-postgres-exporter',
			"--web.listen-address=127.0.0.1:$port",
			'--extend.query-path=' . monitoring_file('pgpool_ext_queries.yaml'),
			'--disable-default-metrics', '--disable-settings-metrics',
			'--log.level=info'
		],
		"$dir/exporter.log",
		DATA_SOURCE_NAME => $dsn);
	$d->{port} = $port;
	$d->{url} = "http://127.0.0.1:$port/metrics";
	my $body = poll_http($d->{url}, sub { $_[0] =~ /^pgpool_ext_worker_up/m });
	BAIL_OUT('the exporter does not serve pgpool_ext_worker_up; its log: '
		  . slurp_file($d->{log}))
	  unless defined $body;
	return $d;
}

# Start Prometheus on a free port, scraping $target (host:port) every
# second.  Returns { port, url, log } once it is ready.
sub start_prometheus
{
	my ($target) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $dir = PostgreSQL::Test::Utils::tempdir('prometheus');
	open my $fh, '>', "$dir/prometheus.yml" or die "$dir/prometheus.yml: $!";
	print $fh <<"EOF";
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pgpool_ext
    static_configs:
      - targets: ['$target']
EOF
	close $fh;
	my $d = start_daemon(
		'prometheus',
		[
			'prometheus', "--config.file=$dir/prometheus.yml",
			"--storage.tsdb.path=$dir/data",
			"--web.listen-address=127.0.0.1:$port"
		],
		"$dir/prometheus.log");
	$d->{port} = $port;
	$d->{url} = "http://127.0.0.1:$port";
	BAIL_OUT('Prometheus did not get ready; its log: ' . slurp_file($d->{log}))
	  unless defined poll_http("$d->{url}/-/ready", sub { 1 });
	return $d;
}

# An instant query of Prometheus' HTTP API: the decoded "data.result".
sub prom_query
{
	my ($prom, $expr) = @_;
	my $url = "$prom->{url}/api/v1/query?query="
	  . HTTP::Tiny->new->www_form_urlencode({ q => $expr }) =~ s/^q=//r;
	my ($status, $body) = http_get($url);
	return undef unless $status == 200;
	my $doc = decode_json($body);
	return $doc->{status} eq 'success' ? $doc->{data}{result} : undef;
}

# Poll an instant query until $cond->(result) holds; the result, or undef.
sub prom_poll
{
	my ($prom, $expr, $cond, $secs) = @_;
	my $deadline = time() + ($secs // $PostgreSQL::Test::Utils::timeout_default);
	my $res;
	while (time() < $deadline)
	{
		$res = prom_query($prom, $expr);
		return $res if defined $res && $cond->($res);
		usleep(200_000);
	}
	diag "timed out waiting for <$expr>; last result: "
	  . (defined $res ? encode_json($res) : 'none');
	return undef;
}

# Parse the text exposition format: { types => {family => type},
# samples => [ [name, {labels}, value] ] }.
sub parse_exposition
{
	my ($text) = @_;
	my %types;
	my @samples;
	foreach my $line (split /\n/, $text)
	{
		if ($line =~ /^# TYPE (\S+) (\S+)$/)
		{
			$types{$1} = $2;
			next;
		}
		next if $line =~ /^#/ || $line eq '';
		$line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
		  or die "unparsable sample line: $line";
		my ($name, $labels, $value) = ($1, $2 // '', $3);
		my %l;
		while ($labels =~ /\G,?([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/gc)
		{
			my ($k, $v) = ($1, $2);
			$v =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
			$l{$k} = $v;
		}
		push @samples, [ $name, \%l, $value ];
	}
	return { types => \%types, samples => \@samples };
}

# The metric names every query of the Grafana dashboard uses (panel
# targets and template variables).
sub dashboard_metrics
{
	my ($file) = @_;
	my $doc = decode_json(slurp_file($file));
	my @exprs;
	my $walk;
	$walk = sub {
		my ($x) = @_;
		if (ref $x eq 'HASH')
		{
			foreach my $k (keys %$x)
			{
				if ($k =~ /^(expr|query|definition)$/ && !ref $x->{$k})
				{
					push @exprs, $x->{$k};
				}
				else
				{
					$walk->($x->{$k});
				}
			}
		}
		elsif (ref $x eq 'ARRAY')
		{
			$walk->($_) foreach @$x;
		}
	};
	$walk->($doc);
	my %names;
	foreach my $e (@exprs)
	{
		$names{$1} = 1 while $e =~ /\b(pgpool_ext_[a-zA-Z0-9_]+)/g;
	}
	return (\@exprs, [ sort keys %names ]);
}

# Traffic with waits of known shape on pool $pool (max_size 1): a holder
# session acquires the one connection, runs a remote query, and keeps it
# while $n waiters queue (each acquires and releases at once when granted);
# once all are queued the holder sleeps $hold seconds and releases, so each
# waiter waits about $hold plus its wait for those before it.  Returns the
# handle-free state: every waiter done.  %opt: partition => key.
sub queue_traffic
{
	my ($node, $pool, $n, $hold, %opt) = @_;
	my $part = defined $opt{partition} ? ", partition => '$opt{partition}'" : '';
	my $holder = session($node);
	my $h = sq($holder, "SELECT pgpool_ext.acquire('$pool'$part)");
	sq($holder, "SELECT pgpool_ext.execute($h, 'SELECT pg_sleep(0.01)')");
	my @waiters = map { session($node) } 1 .. $n;
	start_query($_, "SELECT pgpool_ext.release(pgpool_ext.acquire('$pool'$part))")
	  foreach @waiters;
	$node->poll_query_until('postgres',
		"SELECT waiting = $n FROM pgpool_ext.pools WHERE pool_name = '$pool'")
	  or die "the $n waiters did not queue";
	sq($holder, "SELECT pg_sleep($hold)");
	sq($holder, "SELECT pgpool_ext.release($h)");
	foreach my $w (@waiters)
	{
		my ($out, $err) = finish_query($w);
		die "waiter failed: $err" if $err =~ /ERROR/;
		$w->quit;
	}
	$holder->quit;
	return;
}

1;
