# ALTER EXTENSION pgpool_ext UPDATE TO '0.2' on a live installation of
# 0.1: owner and grantee OIDs become role names (PUBLIC becomes 'public'),
# the pools are the same pools afterwards (counters kept, no reconnect), a
# handle held across the upgrade keeps working, and grants keep granting.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local', create_extension => 0);
my $ci = conninfo_of($remote);
my $cols = '(pool_name, conninfo, min_size, max_size, idle_timeout, '
  . 'connect_timeout, reset_query, password_required, owner)';

# Schema 0.1, its rows written as 0.1 stored them (regrole; '-' is PUBLIC).
$local->safe_psql('postgres', "
	CREATE ROLE creator; CREATE ROLE reader; CREATE ROLE nobody;
	CREATE EXTENSION pgpool_ext VERSION '0.1';
	INSERT INTO pgpool_ext.pool_definition $cols VALUES
		('u1', '$ci', 1, 3, '10 min', '10 s', 'DISCARD ALL', false, 'creator'),
		('u2', '$ci', 0, 2, '10 min', '10 s', 'DISCARD ALL', false,
		 current_user::text::regrole);
	INSERT INTO pgpool_ext.pool_usage VALUES ('u1', 'reader'), ('u2', '-');");
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.1', 'version 0.1 installed');
ok($local->poll_query_until('postgres', 'SELECT count(*) = 2 FROM pgpool_ext.pools'),
	'0.1: both pools loaded');

my $s = session($local);
sq_ok($s, 'SET ROLE reader');
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('u1', timeout => '10s')");
my $rpid = sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)");
ok($rpid > 0, '0.1: reader holds a handle on u1 through its grant');
my ($out, $err) = psql_err($local,
	"SET ROLE nobody; SELECT * FROM pgpool_ext.run('u2', 'SELECT 1', timeout => '10s') AS t(x int)");
is($out, '1', '0.1: PUBLIC uses u2') or diag $err;

# A 0.1 row that 0.2's constraints refuse stops the upgrade, named.
$local->safe_psql('postgres',
	"INSERT INTO pgpool_ext.pool_definition $cols VALUES "
	  . "('too long', repeat('x', 1100), 0, 1, '1 min', '1 s', '', true, 'creator')");
($out, $err) = psql_err($local, "ALTER EXTENSION pgpool_ext UPDATE TO '0.2'");
is(sqlstate($err), '23514', 'a conninfo over 1023 bytes stops the upgrade: 23514');
like($err, qr/cannot hold the definitions of pools: "too long"/, 'naming the pool');
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.1', 'the extension stays at 0.1');
$local->safe_psql('postgres',
	"DELETE FROM pgpool_ext.pool_definition WHERE pool_name = 'too long'");

$local->safe_psql('postgres', "ALTER EXTENSION pgpool_ext UPDATE TO '0.2'");
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.2', 'updated to 0.2');
is( $local->safe_psql('postgres',
		"SELECT string_agg(pool_name || ':' || owner, ',' ORDER BY pool_name) "
		  . "FROM pgpool_ext.pool_definition"),
	'u1:creator,u2:' . $local->safe_psql('postgres', 'SELECT current_user'),
	'owners are stored by name');
is( $local->safe_psql('postgres',
		"SELECT string_agg(pool_name || ':' || role, ',' ORDER BY pool_name) "
		  . "FROM pgpool_ext.pool_usage"),
	'u1:reader,u2:public', 'grantees are stored by name, PUBLIC as public');
is( $local->safe_psql('postgres',
		"SELECT pg_typeof(owner) FROM pgpool_ext.pool_definition LIMIT 1"),
	'text', 'the owner column is text');

is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT pg_backend_pid()') AS t(p int)"),
	$rpid, 'the handle held across the upgrade works, on the same connection');
is( $local->safe_psql('postgres',
		"SELECT string_agg(pool_name || ':' || (acquires > 0), ',' ORDER BY pool_name) "
		  . "FROM pgpool_ext.pools"),
	'u1:true,u2:true', 'the pools are the same pools (counters kept)');
sq_ok($s, "SELECT pgpool_ext.release($h)");
is( sq_ok($s,
		"SELECT * FROM pgpool_ext.run('u1', 'SELECT 2', timeout => '10s') AS t(x int)"),
	'2', 'reader still uses u1');
($out, $err) = psql_err($local,
	"SET ROLE nobody; SELECT * FROM pgpool_ext.run('u2', 'SELECT 3', timeout => '10s') AS t(x int)");
is($out, '3', 'PUBLIC still uses u2') or diag $err;
($out, $err) = psql_err($local,
	"SET ROLE nobody; SELECT pgpool_ext.acquire('u1', timeout => '1s')");
is(sqlstate($err), '42501', 'nobody still has no usage on u1');

# Grants by name work after the upgrade.
($out, $err) = psql_err($local, 'DROP ROLE reader');
is(sqlstate($err), '2BP01', 'the grantee cannot be dropped');
$local->safe_psql('postgres', "SELECT pgpool_ext.revoke_usage('u1', 'reader')");
($out, $err) = sq($s, "SELECT pgpool_ext.acquire('u1', timeout => '1s')");
is(sqlstate($err), '42501', 'after revoke_usage, reader has no usage on u1');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.missing_roles'),
	'0', 'no definition names a missing role');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
