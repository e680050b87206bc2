# A role that owns a pool or holds usage on one cannot be dropped or
# renamed (the definitions name it): 2BP01, like a role that owns a table,
# with the pools in the detail; from pgpool_ext.database and from any other
# database.  Once the grant is revoked and the pool dropped (even in the
# same transaction as the DROP ROLE), the role can go.
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

$local->safe_psql('postgres', "
	CREATE ROLE creator; CREATE ROLE reader; CREATE ROLE bystander;
	CREATE DATABASE other;
	SELECT pgpool_ext.create_pool('p', '$ci', password_required => false);
	SELECT pgpool_ext.create_pool('q', '$ci', password_required => false);
	SELECT pgpool_ext.grant_usage('p', 'reader');
	SELECT pgpool_ext.grant_usage('q', 'reader');
	INSERT INTO pgpool_ext.pool_definition (pool_name, conninfo, min_size,
		max_size, idle_timeout, connect_timeout, reset_query,
		password_required, owner)
	VALUES ('c', '$ci', 0, 2, '1 min', '10 s', '', false, 'creator');");
$local->safe_psql('other', 'CREATE EXTENSION pgpool_ext');
ok( $local->poll_query_until('other',
		"SELECT count(*) = 3 FROM pgpool_ext.pools"),
	'three pools loaded');

for my $db ('postgres', 'other')
{
	my ($out, $err) = psql_err($local, 'DROP ROLE reader', $db);
	is(sqlstate($err), '2BP01', "$db: DROP ROLE of a grantee: 2BP01");
	like($err, qr/role "reader" cannot be dropped because some pgpool_ext pools depend on it/,
		"$db: the message names the role");
	like($err, qr/DETAIL:  usage on pool "p"\nusage on pool "q"/,
		"$db: the detail names both pools");

	($out, $err) = psql_err($local, 'DROP ROLE creator', $db);
	is(sqlstate($err), '2BP01', "$db: DROP ROLE of a pool's owner: 2BP01");
	like($err, qr/DETAIL:  owner of pool "c"/, "$db: the detail names the pool it owns");

	($out, $err) = psql_err($local, 'ALTER ROLE reader RENAME TO reader2', $db);
	is(sqlstate($err), '2BP01', "$db: ALTER ROLE ... RENAME of a grantee: 2BP01");
	like($err, qr/role "reader" cannot be renamed/, "$db: the message names the role");
}
is( $local->safe_psql('postgres',
		"SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles "
		  . "WHERE rolname IN ('creator', 'reader', 'reader2')"),
	'creator,reader', 'both roles are still there, under their names');

# Unrelated roles are not affected.
$local->safe_psql('other', 'ALTER ROLE bystander RENAME TO bystander2; DROP ROLE bystander2');
pass('a role no pool names is renamed and dropped');

# Revoke (and drop the pool) and DROP ROLE in one transaction.
my ($out, $err) = psql_err($local, "BEGIN;
	DELETE FROM pgpool_ext.pool_usage WHERE role = 'reader';
	DROP ROLE reader;
	COMMIT;");
is($err, '', 'grants removed and DROP ROLE in one transaction') or diag $err;
($out, $err) = psql_err($local, "BEGIN;
	SELECT pgpool_ext.drop_pool('c');
	DROP ROLE creator;
	COMMIT;");
is($err, '', 'drop_pool and DROP ROLE of its owner in one transaction') or diag $err;
ok( $local->poll_query_until('other',
		"SELECT string_agg(pool_name, ',' ORDER BY pool_name) = 'p,q' FROM pgpool_ext.pools"),
	'c is dropped, p and q remain');
is($local->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.missing_roles'),
	'0', 'no definition names a missing role');

# A grant racing a DROP ROLE: DROP ROLE holds its lock on the role from
# before the check until commit; grant_usage takes a lock on the role too,
# so it waits, then finds the role gone (42704) instead of storing a grant
# of a dropped role.  (create_pool locks its owner, the current user, the
# same way.)
$local->safe_psql('postgres', 'CREATE ROLE racer');
my $dropper = session($local, 'postgres');
my $granter = session($local, 'postgres');
sq_ok($dropper, 'BEGIN');
sq_ok($dropper, 'DROP ROLE racer');
start_query($granter, "SELECT pgpool_ext.grant_usage('p', 'racer')");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE wait_event_type = 'Lock' AND query LIKE '%grant_usage%'"),
	'grant_usage waits for the DROP ROLE of its grantee');
sq_ok($dropper, 'COMMIT');
($out, $err) = finish_query($granter);
is(sqlstate($err), '42704', 'the grant after the drop: role does not exist (42704)');
is($local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.pool_usage WHERE role = 'racer'"),
	'0', 'no grant of the dropped role was stored');
$dropper->quit;
$granter->quit;

$local->stop;
$remote->stop;
done_testing();
