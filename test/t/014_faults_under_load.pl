# Faults under load: four sessions loop acquire / query / release on a
# pool smaller than their number (so they queue and hand over) while the
# pool worker is killed twice and the remote restarts.  Errors are allowed
# only as 08006 (connection lost); no query ever gets another query's
# result; afterwards everything works and nothing is stuck or leaked.
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

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 2)");

# stress(secs): loop for secs seconds; returns
# 'ok=N wrong=N states=S1,S2' (the distinct SQLSTATEs of failed rounds).
$local->safe_psql('postgres', q{
CREATE FUNCTION stress(secs float8) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	n_ok int := 0;
	n_wrong int := 0;
	states text[] := '{}';
	h bigint;
	x int;
	i int := 0;
	stop timestamptz := clock_timestamp() + secs * interval '1 s';
BEGIN
	WHILE clock_timestamp() < stop LOOP
		i := i + 1;
		h := NULL;
		BEGIN
			h := pgpool_ext.acquire('p', timeout => '60s');
			SELECT v INTO x FROM pgpool_ext.query(h, 'SELECT $1::int + 0 * pg_backend_pid()',
				ARRAY[i::text]) AS t(v int);
			IF x IS DISTINCT FROM i THEN
				n_wrong := n_wrong + 1;
			END IF;
			PERFORM pgpool_ext.release(h);
			n_ok := n_ok + 1;
		EXCEPTION WHEN OTHERS THEN
			IF NOT SQLSTATE = ANY (states) THEN
				states := states || SQLSTATE::text;
			END IF;
			IF h IS NOT NULL THEN
				BEGIN
					PERFORM pgpool_ext.release(h);
				EXCEPTION WHEN OTHERS THEN
					states := states || ('release:' || SQLSTATE);
				END;
			END IF;
		END;
	END LOOP;
	RETURN format('ok=%s wrong=%s states=%s', n_ok > 0, n_wrong,
				  array_to_string(states, ','));
END $$});

my @s = map { session($local) } 1 .. 4;
start_query($_, 'SELECT stress(12)') for @s;
ok( $local->poll_query_until('postgres',
		"SELECT waits > 0 AND acquires > 100 FROM pgpool_ext.pools"),
	'the sessions run, and queue for connections');

my $w = worker_pid($local);
$local->safe_psql('postgres', "SELECT pg_terminate_backend($w)");
$w = wait_new_worker($local, $w);
my $acq = $local->safe_psql('postgres', 'SELECT acquires FROM pgpool_ext.pools');
ok( $local->poll_query_until('postgres',
		"SELECT acquires > $acq + 50 FROM pgpool_ext.pools"),
	'first worker kill: the sessions go on');
$remote->restart;
$acq = $local->safe_psql('postgres', 'SELECT acquires FROM pgpool_ext.pools');
ok( $local->poll_query_until('postgres',
		"SELECT acquires > $acq + 50 FROM pgpool_ext.pools"),
	'remote restarted: the sessions go on');
my $w2 = worker_pid($local);
$local->safe_psql('postgres', "SELECT pg_terminate_backend($w2)");
wait_new_worker($local, $w2);
pass('second worker kill');

foreach my $i (0 .. 3)
{
	my ($out, $err) = finish_query($s[$i], 120);
	is($err, '', "session $i: the loop ended without an uncaught error");
	like($out, qr/^ok=t wrong=0 states=(08006)?$/,
		"session $i: rounds succeeded, no wrong result, errors only 08006 ($out)");
}

# Afterwards: a clean second round, with no fault.
start_query($_, 'SELECT stress(2)') for @s;
foreach my $i (0 .. 3)
{
	my ($out, $err) = finish_query($s[$i], 120);
	is($out, 'ok=t wrong=0 states=', "session $i: without faults, no error at all");
}

is( $local->safe_psql('postgres',
		"SELECT in_use || ' ' || waiting || ' ' || (total <= max_size) FROM pgpool_ext.pools"),
	'0 0 true', 'pools view: nothing in use, nobody waiting, total within max_size');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.handles'),
	'0', 'handles view is empty');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.waiters'),
	'0', 'waiters view is empty');
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pgpool_ext.connections WHERE state <> 'idle'"),
	'every connection is idle');
ok( poll_until(
		'remote pgpool_ext backends = connections view rows',
		sub {
			$local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.connections')
			  eq remote_pool_backends($remote);
		},
		30),
	'remote: as many pgpool_ext backends as rows in the connections view');

$_->quit for @s;
$local->stop;
$remote->stop;
done_testing();
