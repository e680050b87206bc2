# test/t/PgpoolTAP.pm
#	Shared helpers of the pgpool_ext TAP tests (test/t/*.pl).
#
# Nodes: remote_node() is a plain server the pools connect to;
# local_node() is a server with pgpool_ext preloaded and the extension
# created in "postgres" (pgpool_ext.database).  conninfo_of() gives the
# libpq string for a remote node (host and port always explicit: the local
# postmaster's environment has PGHOST/PGPORT of the local node).
#
# Sessions: session() opens a psql that stays connected (BackgroundPsql),
# with VERBOSITY verbose so that errors show their SQLSTATE.  sq() runs a
# statement and returns (stdout, stderr) of that statement alone;
# start_query()/finish_query() split that in two for statements that block
# (a long remote query, an acquire that waits).  sqlstate() picks the
# SQLSTATE out of psql's stderr.
#
# Waiting is always by polling (poll_query_until, poll_until), never sleep.
package PgpoolTAP;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(remote_node local_node conninfo_of session sq sq_ok
  start_query finish_query sqlstate worker_pid wait_new_worker
  remote_pool_backends poll_until poll_query_for psql_err);

my $log_prefix = "log_line_prefix = '%m [%p] %q%a %u\@%d '\n";

# A remote server.  %opt: conf => extra postgresql.conf text.
sub remote_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', $log_prefix . ($opt{conf} // ''));
	$node->start unless $opt{no_start};
	return $node;
}

# A server with pgpool_ext.  %opt: conf => extra postgresql.conf text,
# preload => 0 for a server without shared_preload_libraries,
# create_extension => 0 to leave the extension out.
sub local_node
{
	my ($name, %opt) = @_;
	my $preload = $opt{preload} // 1;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $conf = $log_prefix;
	$conf .=
	    "shared_preload_libraries = 'pgpool_ext'\n"
	  . "pgpool_ext.database = 'postgres'\n"
	  . "pgpool_ext.connect_retry_max = '1s'\n"
	  if $preload;
	$conf .= $opt{conf} // '';
	$node->append_conf('postgresql.conf', $conf);
	{
		# PostgreSQL::Test::Utils sets PGAPPNAME (the script name); the
		# postmaster must not inherit it, or libpq in the pool worker would
		# use it instead of fallback_application_name 'pgpool_ext'.  (Newer
		# Cluster.pm start() drops it too; older 15.x releases do not.)
		delete local $ENV{PGAPPNAME};
		$node->start;
	}
	$node->safe_psql('postgres', 'CREATE EXTENSION pgpool_ext')
	  if $opt{create_extension} // 1;
	return $node;
}

# libpq conninfo of a remote node; %extra adds keywords (user, password...).
sub conninfo_of
{
	my ($node, %extra) = @_;
	my $ci = 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres';
	$ci .= " $_=$extra{$_}" for sort keys %extra;
	return $ci;
}

# A psql session that stays open.
sub session
{
	my ($node, $db) = @_;
	return session_as($node, $db);
}

# Send a statement without waiting for its end.
sub start_query
{
	my ($s, $sql) = @_;
	my $banner = 'pgpool_tap_done ' . ++$s->{pgpool_cnt};
	$s->{pgpool_banner} = $banner;
	$s->{stdout} = '';
	$s->{stderr} = '';
	# the session's IPC::Run timeout counts per statement
	$s->{timeout}->start();
	$s->{stdin} .= "$sql\n;\n\\echo '$banner'\n\\warn '$banner'\n";
	$s->{run}->pump_nb();
	return;
}

# Wait for the statement sent by start_query to end; (stdout, stderr).
sub finish_query
{
	my ($s, $timeout) = @_;
	my $banner = $s->{pgpool_banner};
	my $timer = IPC::Run::timer($timeout // $PostgreSQL::Test::Utils::timeout_default);
	$timer->start;
	while (!($s->{stdout} =~ /$banner\r?\n/ && $s->{stderr} =~ /$banner\r?\n/))
	{
		die "statement did not end within the timeout: "
		  . "stdout <$s->{stdout}> stderr <$s->{stderr}>"
		  if $timer->is_expired;
		$s->{run}->pump_nb();
		usleep(20_000);
	}
	my ($out, $err) = ($s->{stdout}, $s->{stderr});
	$out =~ s/\r?\n?$banner\r?\n//;
	$err =~ s/\r?\n?$banner\r?\n//;
	chomp $out;
	note "psql stderr: $err" if $err ne '';
	$s->{stdout} = '';
	$s->{stderr} = '';
	return ($out, $err);
}

# Run a statement in the session; (stdout, stderr) in list context.
sub sq
{
	my ($s, $sql) = @_;
	start_query($s, $sql);
	my ($out, $err) = finish_query($s);
	return wantarray ? ($out, $err) : $out;
}

# Run a statement that must not fail; its stdout.
sub sq_ok
{
	my ($s, $sql) = @_;
	my ($out, $err) = sq($s, $sql);
	die "unexpected error from <$sql>: $err" if $err ne '';
	return $out;
}

# The SQLSTATE of the first error in psql's stderr (VERBOSITY verbose).
sub sqlstate
{
	my ($err) = @_;
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : '';
}

# Run one statement with psql -v VERBOSITY=verbose; (stdout, stderr).
sub psql_err
{
	my ($node, $sql, $db) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db // 'postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err);
	return ($out, $err);
}

# pid of the pool worker ('' if none).
sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pgpool_ext worker'");
}

# Resident memory of the node's pool worker, in kB (VmRSS).
sub worker_rss
{
	my ($node) = @_;
	my $pid = worker_pid($node);
	open(my $fh, '<', "/proc/$pid/status") or die "no /proc/$pid/status: $!";
	my ($kb) = map { /^VmRSS:\s+(\d+) kB/ ? $1 : () } <$fh>;
	close $fh;
	return $kb;
}

# Wait until a pool worker other than $old runs; its pid.
sub wait_new_worker
{
	my ($node, $old) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE backend_type = 'pgpool_ext worker' AND pid <> $old")
	  or die "no new pool worker";
	return worker_pid($node);
}

# Number of client backends on a remote node opened by pgpool_ext.
sub remote_pool_backends
{
	my ($remote, $cond) = @_;
	$cond = defined $cond ? " AND ($cond)" : '';
	return $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity "
		  . "WHERE application_name = 'pgpool_ext'$cond");
}

# Poll a Perl condition (a sub returning true) every 100 ms, for at most
# $secs seconds (default: the TAP timeout).
sub poll_until
{
	my ($what, $cond, $secs) = @_;
	my $deadline =
	  time() + ($secs // $PostgreSQL::Test::Utils::timeout_default);
	while (1)
	{
		return 1 if $cond->();
		last if time() > $deadline;
		usleep(100_000);
	}
	diag "timed out waiting for: $what";
	return 0;
}

# Like poll_query_until, for at most $secs seconds: for what must happen
# at once (a remote query cancelled), so that a test of something that
# does not happen fails in reasonable time instead of the TAP timeout.
sub poll_query_for
{
	my ($node, $secs, $sql, $expected) = @_;
	$expected //= 't';
	my $last;
	my $ok = poll_until("<$sql> = <$expected>",
		sub { $last = $node->safe_psql('postgres', $sql); $last eq $expected }, $secs);
	diag "last result: $last" unless $ok;
	return $ok;
}

push @EXPORT, qw(freeze_remote thaw_remote finish_query_within worker_rss);

# Stop a remote server's postmaster and the backends of pool connections
# (kill -STOP): its sockets still accept TCP connections and data, but
# nothing answers.  Returns the pids stopped, for thaw_remote().
sub freeze_remote
{
	my ($remote) = @_;
	my @pids = split /\n/, $remote->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'pgpool_ext'");
	unshift @pids, $remote->{_pid};
	kill 'STOP', @pids;
	return @pids;
}

# Resume what freeze_remote() stopped.
sub thaw_remote
{
	my (@pids) = @_;
	kill 'CONT', @pids;
	return;
}

# Like finish_query, but for at most $secs seconds and without dying:
# (1, stdout, stderr) if the statement ended, (0, '', '') if not.  (It
# polls by itself: the timer of finish_query is an IPC::Run timer, which
# expires only when something checks it.)
sub finish_query_within
{
	my ($s, $secs) = @_;
	my $banner = $s->{pgpool_banner};
	my $ended = poll_until(
		"end of <$banner>",
		sub {
			$s->{run}->pump_nb();
			$s->{stdout} =~ /$banner\r?\n/ && $s->{stderr} =~ /$banner\r?\n/;
		},
		$secs);
	return (0, '', '') unless $ended;
	my ($out, $err) = finish_query($s);
	return (1, $out, $err);
}

# A session like session(), in database $db, connected as role $user
# (default: the OS user, a superuser).
sub session_as
{
	my ($node, $db, $user) = @_;
	my $s = $node->background_psql($db // 'postgres',
		on_error_stop => 0,
		defined $user ? (extra_params => [ '-U', $user ]) : ());
	$s->{pgpool_cnt} = 0;
	sq($s, '\set VERBOSITY verbose');
	return $s;
}

# Like finish_query, but dies at once with "session lost" when psql has
# exited (its backend crashed or was terminated), and with "statement
# hangs" after $secs seconds (default: the TAP timeout).
sub finish_query_or_lost
{
	my ($s, $secs) = @_;
	my $banner = $s->{pgpool_banner};
	my $deadline =
	  time() + ($secs // $PostgreSQL::Test::Utils::timeout_default);
	while (!($s->{stdout} =~ /$banner\r?\n/ && $s->{stderr} =~ /$banner\r?\n/))
	{
		die "statement hangs\n" if time() > $deadline;
		my $alive = eval { $s->{run}->pump_nb; $s->{run}->pumpable };
		die "session lost\n" unless $alive;
		usleep(20_000);
	}
	return finish_query($s, 1);
}

push @EXPORT, qw(session_as finish_query_or_lost);

1;
