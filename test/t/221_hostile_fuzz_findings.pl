# Hostile users: what the fuzz (220_hostile_fuzz.pl) found, one
# deterministic case each, asserting what any user may rely on.
#
# 1. A request made while another is in flight, from a domain CHECK in
#    query()'s column list: through run() on the same pool, and through
#    execute() on the very handle whose rows are being read.  The server
#    must not crash: the statement works or fails with a documented
#    SQLSTATE, and the handle works afterwards.
# 2. pg_cancel_backend() of the pool worker, idle and while it runs a
#    session's remote query: the worker does not exit (same pid), the
#    query gets its result, held handles stay usable.
# 3. More parameters than the protocol allows (70,000): a bad-argument or
#    program-limit error (22023 or 54000), not an error made to look like
#    the remote server's, and the handle works afterwards.
#
# Every case is followed by a check of the server log (no crash, no worker
# exit); restart_after_crash is on so that one case's crash does not hide
# the next ones.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local', conf => "restart_after_crash = on\n");
my $ci = conninfo_of($remote);

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('fz', '$ci', min_size => 1, max_size => 3)");
$local->safe_psql('postgres', q{
	CREATE FUNCTION fz_nested_run(int) RETURNS bool LANGUAGE plpgsql AS $f$
	BEGIN
		PERFORM * FROM pgpool_ext.run('fz', 'SELECT 1', NULL, '5s') AS t(x int);
		RETURN true;
	END $f$;
	CREATE DOMAIN fz_dom_run AS int CHECK (fz_nested_run(VALUE));
	CREATE FUNCTION fz_nested_execute(int) RETURNS bool LANGUAGE plpgsql AS $f$
	BEGIN
		PERFORM pgpool_ext.execute(handle, 'SELECT 1') FROM pgpool_ext.handles
		  WHERE holder_pid = pg_backend_pid();
		RETURN true;
	END $f$;
	CREATE DOMAIN fz_dom_execute AS int CHECK (fz_nested_execute(VALUE));
});

my $log_offset = 0;

# The server log since the last call: no crash, no pool worker exit.
sub log_is_clean
{
	my ($what) = @_;
	my $log = slurp_file($local->logfile, $log_offset);
	$log_offset += length($log);
	my @bad = grep {
		/terminated by signal|was terminated|PANIC:|TRAP:|background worker "pgpool_ext worker".*exited/
	} split /\n/, $log;
	is(join("\n", @bad), '', "$what: no crash and no pool worker exit in the server log");
	return;
}

my ($s, $h);

# A session holding a handle of fz; opened again after a lost session.
sub fresh_session
{
	$s->quit if $s && eval { $s->{run}->pumpable };
	$local->poll_query_until('postgres', 'SELECT 1', '1')
	  or die 'the local server does not come back';
	$local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pgpool_ext worker'")
	  or die 'no pool worker';
	$s = session($local);
	$h = sq_ok($s, "SELECT pgpool_ext.acquire('fz', '30s')");
	return;
}

# Run $sql in the session; (stdout, stderr, 'lost' if the session died).
sub try_sql
{
	my ($sql) = @_;
	start_query($s, $sql);
	my ($out, $err) = eval { finish_query_or_lost($s, 60) };
	return ('', $@, 'lost') if $@;
	return ($out, $err, '');
}

# The handle of the session works: a query through it returns its value.
sub handle_works
{
	my ($what) = @_;
	my ($out, $err, $lost) = try_sql("SELECT * FROM pgpool_ext.query($h, 'SELECT 7') AS t(a int)");
	is("$out$lost", '7', "$what: the handle works afterwards") or diag $err;
	return;
}

# 1. Nested requests from a domain CHECK.
foreach my $case (
	[ 'run() on the same pool from the column list', 'fz_dom_run' ],
	[ 'execute() on the handle being read, from the column list', 'fz_dom_execute' ])
{
	my ($what, $type) = @$case;
	fresh_session();
	my ($out, $err, $lost) =
	  try_sql("SELECT * FROM pgpool_ext.query($h, 'SELECT 1') AS t(a $type)");
	is($lost, '', "$what: the session survives");
	my $state = sqlstate($err);
	ok( ($err eq '' && $out eq '1')
		  || ($state ne '' && $state !~ /^(XX|58)/ && $state !~ /^08(000|001|006|P01)$/),
		"$what: the row, or an error with a documented SQLSTATE (got '$state')")
	  or diag "out <$out> err <$err>";
	log_is_clean($what);
	if ($lost) { fresh_session() }
	handle_works($what);
	sq_ok($s, "SELECT pgpool_ext.release(handle) FROM pgpool_ext.handles "
		  . "WHERE holder_pid = pg_backend_pid()");
	is( $local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.handles'),
		'0', "$what: after release, no handle is left");
}

# 2. pg_cancel_backend() of the pool worker.
fresh_session();
my $w = worker_pid($local);
is($local->safe_psql('postgres', "SELECT pg_cancel_backend($w)"),
	't', 'idle worker: cancel sent');
# two round trips through the worker: it has seen the cancel by then
handle_works('idle worker cancelled');
handle_works('idle worker cancelled (again)');
is(worker_pid($local), $w, 'idle worker cancelled: it is still the same process');
log_is_clean('idle worker cancelled');

fresh_session();
$w = worker_pid($local);
start_query($s,
	"SELECT * FROM pgpool_ext.query($h, 'SELECT 5 FROM pg_sleep(1)') AS t(a int)");
ok( $remote->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FROM pg_sleep(1)%' "
		  . "AND state = 'active' AND pid <> pg_backend_pid()", '1'),
	'busy worker: the remote query runs');
$local->safe_psql('postgres', "SELECT pg_cancel_backend($w)");
my ($out, $err) = eval { finish_query_or_lost($s, 60) };
is($out // '', '5', 'busy worker cancelled: the session gets its result')
  or diag $err // $@;
handle_works('busy worker cancelled');
is(worker_pid($local), $w, 'busy worker cancelled: it is still the same process');
log_is_clean('busy worker cancelled');

# 3. More parameters than the protocol allows.
fresh_session();
my $lost;
($out, $err, $lost) = try_sql(
	"SELECT pgpool_ext.execute($h, 'SELECT 1', "
	  . "(SELECT array_agg(i::text) FROM generate_series(1, 70000) i))");
like(sqlstate($err), qr/^(22023|54000)$/,
	'70,000 parameters: a bad-argument or program-limit error')
  or diag $err;
handle_works('70,000 parameters');
log_is_clean('70,000 parameters');

$s->quit if eval { $s->{run}->pumpable };
$local->stop;
$remote->stop;
done_testing();
