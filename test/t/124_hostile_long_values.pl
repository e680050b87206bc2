# Nothing a definition holds is cut.  The table constraints refuse an
# over-long conninfo, reset_query or pool name at every entry (INSERT,
# UPDATE, COPY).  Rows that got in anyway (tables of schema 0.1, which had
# no such constraints) are refused by the pool worker with a WARNING: a new
# pool is not loaded, an existing one keeps its previous definition; a
# trailing sslmode=verify-full is never silently dropped.  So are the
# grants of a pool with more than PGPOOL_MAX_GRANTS (32) of them.
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
my $long_ci = $ci . ' application_name=' . ('a' x 1000) . ' sslmode=verify-full';
my $cols = '(pool_name, conninfo, min_size, max_size, idle_timeout, '
  . 'connect_timeout, reset_query, password_required, owner)';

# Schema 0.2: the constraints hold at every entry.
my ($out, $err) = psql_err($local,
	"INSERT INTO pgpool_ext.pool_definition $cols "
	  . "VALUES ('big', '$long_ci', 0, 1, '1 min', '1 s', '', true, current_user)");
is(sqlstate($err), '23514', 'INSERT of a conninfo over 1023 bytes: 23514');
like($err, qr/pool_definition_conninfo_length/, 'the constraint is named');
($out, $err) = psql_err($local,
	"COPY pgpool_ext.pool_definition $cols FROM STDIN;\n"
	  . "big\t$long_ci\t0\t1\t1 min\t1 s\t\tt\tpostgres\n\\.\n");
is(sqlstate($err), '23514', 'COPY of a conninfo over 1023 bytes: 23514');
($out, $err) = psql_err($local,
	"INSERT INTO pgpool_ext.pool_definition $cols "
	  . "VALUES ('big', '$ci', 0, 1, '1 min', '1 s', repeat('x', 600), true, current_user)");
is(sqlstate($err), '23514', 'INSERT of a reset_query over 511 bytes: 23514');
($out, $err) = psql_err($local,
	"INSERT INTO pgpool_ext.pool_definition $cols "
	  . "VALUES (repeat('n', 64), '$ci', 0, 1, '1 min', '1 s', '', true, current_user)");
is(sqlstate($err), '23514', 'INSERT of a 64-byte pool name: 23514');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('ok', '$ci', max_size => 2)");
($out, $err) = psql_err($local,
	"UPDATE pgpool_ext.pool_definition SET conninfo = '$long_ci' WHERE pool_name = 'ok'");
is(sqlstate($err), '23514', 'UPDATE to a conninfo over 1023 bytes: 23514');

# Schema 0.1 tables (no constraints): the worker refuses what it cannot hold.
$local->safe_psql('postgres', "
	DROP EXTENSION pgpool_ext;
	CREATE EXTENSION pgpool_ext VERSION '0.1';
	INSERT INTO pgpool_ext.pool_definition $cols
	VALUES ('kept', '$ci', 0, 2, '1 min', '10 s', 'DISCARD ALL', false,
		current_user::text::regrole);");
ok($local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'kept'"),
	'schema 0.1: pool "kept" is loaded');
$local->safe_psql('postgres',
	"INSERT INTO pgpool_ext.pool_definition $cols "
	  . "VALUES ('big', '$long_ci', 0, 1, '1 min', '1 s', '', true, current_user::text::regrole)");
ok( poll_until('the worker refused big',
		sub {
			slurp_file($local->logfile) =~
			  /WARNING:  pgpool_ext: definition of pool "big" ignored: its conninfo is 11\d\d bytes long/;
		}),
	'a conninfo over 1023 bytes is refused with a WARNING giving its length');
is( $local->safe_psql('postgres',
		"SELECT string_agg(pool_name, ',' ORDER BY pool_name) FROM pgpool_ext.pools"),
	'kept', 'that pool is not loaded (never loaded cut, without its sslmode)');

$local->safe_psql('postgres',
	"UPDATE pgpool_ext.pool_definition SET reset_query = repeat('x', 600), max_size = 3 "
	  . "WHERE pool_name = 'kept'");
ok( poll_until('the worker refused the new kept',
		sub {
			slurp_file($local->logfile) =~
			  /WARNING:  pgpool_ext: definition of pool "kept" ignored: its reset_query is 600 bytes long/;
		}),
	'a reset_query over 511 bytes is refused with a WARNING');
is( $local->safe_psql('postgres',
		"SELECT max_size || ' ' || reset_query FROM pgpool_ext.pools WHERE pool_name = 'kept'"),
	'2 DISCARD ALL', 'pool "kept" keeps its previous definition');

# More grants than shared memory holds.
$local->safe_psql('postgres',
	"UPDATE pgpool_ext.pool_definition SET reset_query = 'DISCARD ALL' WHERE pool_name = 'kept';
	 SELECT format('CREATE ROLE g%s', i) FROM generate_series(1, 33) i \\gexec
	 INSERT INTO pgpool_ext.pool_usage SELECT 'kept', ('g' || i)::regrole FROM generate_series(1, 32) i;");
ok($local->poll_query_until('postgres',
		"SELECT max_size = 3 FROM pgpool_ext.pools WHERE pool_name = 'kept'"),
	'with 32 grants, the new definition of "kept" is loaded');
$local->safe_psql('postgres',
	"BEGIN; INSERT INTO pgpool_ext.pool_usage VALUES ('kept', 'g33');
	 UPDATE pgpool_ext.pool_definition SET max_size = 4 WHERE pool_name = 'kept'; COMMIT;");
ok( poll_until('the worker refused 33 grants',
		sub {
			slurp_file($local->logfile) =~
			  /WARNING:  pgpool_ext: definition of pool "kept" ignored: it has 33 usage grants, more than 32/;
		}),
	'a 33rd grant is refused with a WARNING');
is($local->safe_psql('postgres',
		"SELECT max_size FROM pgpool_ext.pools WHERE pool_name = 'kept'"),
	'3', 'pool "kept" keeps its previous definition (and its 32 grants)');
($out, $err) = psql_err($local,
	"SET ROLE g1; SELECT pgpool_ext.acquire('kept', timeout => '10s') > 0");
is($out, 't', 'g1 still has usage') or diag $err;

$local->stop;
$remote->stop;
done_testing();
