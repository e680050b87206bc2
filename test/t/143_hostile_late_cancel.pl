# A cancel request must not outlive the request it was sent for.  When a
# session gives up a request whose result is larger than its channel (a
# domain's CHECK in the column list fails half-way), the worker drains the
# rest on the connection; if it also sends a cancel request, that request
# must be through (the remote postmaster has signalled the backend) before
# the connection runs anything else, or it cancels the session's next
# statement: 57014 on a query nobody cancelled.  And when the rest of the
# result is already on its way, no cancel is needed at all.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Over TCP: the cancel connection's connect completes a loop turn later.
my $remote = remote_node('remote', conf => "listen_addresses = '127.0.0.1'\n");
my $local = local_node('local');
my $ci = 'host=127.0.0.1 port=' . $remote->port . ' dbname=postgres';

$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('p', '$ci', min_size => 1, max_size => 1);
	CREATE DOMAIN small AS int CHECK (VALUE < 3000);");

my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('p')");

# Five times: a result of about 2 MB whose conversion fails at row 3000,
# caught, and at once a statement of 0.2 s on the same handle.
my ($out, $err) = sq($s, "DO \$\$
DECLARE
	n int := 0;
BEGIN
	FOR i IN 1..5 LOOP
		BEGIN
			PERFORM * FROM pgpool_ext.query($h,
				'SELECT g, repeat(''x'', 100) FROM generate_series(1, 20000) g')
				AS t(a small, b text);
		EXCEPTION WHEN check_violation THEN
			n := n + 1;
		END;
		PERFORM * FROM pgpool_ext.query($h, 'SELECT pg_sleep(0.2)::text')
			AS t(x text);
	END LOOP;
	RAISE NOTICE 'caught %', n;
END \$\$");
is(sqlstate($err), '', 'no statement after a given-up request is cancelled')
  or diag $err;
like($err, qr/caught 5/, 'each of the five big results failed its CHECK');

# The handle and its connection still work, and it is the same connection.
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT 42') AS t(x int)"),
	'42', 'the handle still works');
is( $local->safe_psql('postgres',
		"SELECT state FROM pgpool_ext.connections WHERE pool_name = 'p'"),
	'acquired', 'its connection is acquired, not busy');
sq_ok($s, "SELECT pgpool_ext.release($h)");
$s->quit;

$local->stop;
$remote->stop;
done_testing();
