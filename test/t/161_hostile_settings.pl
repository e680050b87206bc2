# Remote session settings never change values.  The remote role has
# DateStyle 'SQL, DMY', IntervalStyle sql_standard and extra_float_digits 0:
# dates, floats and intervals still arrive exactly (query and query_json).
# The user's own SQL that sets DateStyle or IntervalStyle fails instead of
# delivering converted rows, and the setting is restored for the next
# request; extra_float_digits (not reported by the server) is restored by
# the reset at release, also with reset_query ''.
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

$remote->safe_psql('postgres', q{
	CREATE ROLE odd LOGIN;
	ALTER ROLE odd SET DateStyle = 'SQL, DMY';
	ALTER ROLE odd SET IntervalStyle = 'sql_standard';
	ALTER ROLE odd SET extra_float_digits = 0;});
my $ci = conninfo_of($remote, user => 'odd');
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('odd', '$ci', max_size => 1);
	SELECT pgpool_ext.create_pool('bare', '$ci', max_size => 1, reset_query => '');");

my $values = q{SELECT '2020-02-01'::date AS d1, '2020-01-31'::date AS d2, }
  . q{0.30000000000000004::float8 AS f, '1 year 2 mons 3 days 04:05:06'::interval AS i};
my $check = q{d1 = '2020-02-01' AND d2 = '2020-01-31' AND f = 0.30000000000000004::float8 }
  . q{AND i = '1 year 2 mons 3 days 04:05:06'::interval};
my $cols = 'AS t(d1 date, d2 date, f float8, i interval)';

# (a) the remote role's settings do not apply to values.
is( $local->safe_psql('postgres',
		"SELECT $check FROM pgpool_ext.run('odd', \$\$$values\$\$) $cols"),
	't', 'dates, float8 and interval arrive exactly despite the role settings');
my ($out, $err) = psql_err($local, qq{
	DO \$\$
	DECLARE h bigint := pgpool_ext.acquire('odd'); j jsonb;
	BEGIN
		SELECT * INTO j FROM pgpool_ext.query_json(h, \$q\$$values\$q\$);
		PERFORM pgpool_ext.release(h);
		RAISE NOTICE '%', j;
	END \$\$});
like($err, qr/"d1": "2020-02-01", "d2": "2020-01-31"/, 'query_json: the dates in ISO form');
like($err, qr/"f": 0.30000000000000004/, 'query_json: the float8 exact');
like($err, qr/"i": "1 year 2 mons 3 days 04:05:06"/,
	'query_json: the interval in postgres form');

# (b) the user's SQL sets DateStyle / IntervalStyle: the request fails, the
# next one on the same handle gets exact values.
my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('odd')");
($out, $err) = sq($s,
	"SELECT d FROM pgpool_ext.query($h, "
	  . "\$\$SET DateStyle = 'SQL, DMY'; SELECT '2020-02-01'::date\$\$) AS t(d date)");
is(sqlstate($err), '0A000', 'SET DateStyle in the remote SQL: the request fails');
like($err, qr/remote session setting "DateStyle" was changed/, 'naming DateStyle');
is($out, '', 'and no row was delivered');
is(sq_ok($s, "SELECT $check FROM pgpool_ext.query($h, \$\$$values\$\$) $cols"),
	't', 'the next request gets exact values');
($out, $err) = sq($s,
	"SELECT pgpool_ext.execute($h, \$\$SET IntervalStyle = 'iso_8601'\$\$)");
is(sqlstate($err), '0A000', 'execute() of SET IntervalStyle fails too');
like($err, qr/"IntervalStyle"/, 'naming IntervalStyle');
like( sq_ok($s,
		"SELECT * FROM pgpool_ext.query($h, 'SELECT current_setting(''IntervalStyle''), "
		  . "current_setting(''DateStyle''), current_setting(''extra_float_digits'')') "
		  . "AS t(a text, b text, c text)"),
	qr/^postgres\|ISO, [DMY]{3}\|3$/, 'the settings are restored');
# a SET in an explicit transaction that is then rolled back
($out, $err) = sq($s,
	"SELECT pgpool_ext.execute($h, \$\$BEGIN; SET LOCAL DateStyle = 'German'\$\$)");
is(sqlstate($err), '0A000', 'SET LOCAL DateStyle in a transaction fails');
is(sq_ok($s, "SELECT $check FROM pgpool_ext.query($h, \$\$$values\$\$) $cols"),
	't', 'the rest of that transaction gets exact values');
sq_ok($s, "SELECT pgpool_ext.execute($h, 'ROLLBACK')");
is(sq_ok($s, "SELECT $check FROM pgpool_ext.query($h, \$\$$values\$\$) $cols"),
	't', 'and after its rollback');
sq_ok($s, "SELECT pgpool_ext.release($h)");

# (c) extra_float_digits is not reported: restored at release, even with
# no reset query.
$h = sq_ok($s, "SELECT pgpool_ext.acquire('bare')");
sq_ok($s, "SELECT pgpool_ext.execute($h, 'SET extra_float_digits = 0')");
sq_ok($s, "SELECT pgpool_ext.release($h)");
$h = sq_ok($s, "SELECT pgpool_ext.acquire('bare')");
is(sq_ok($s, "SELECT $check FROM pgpool_ext.query($h, \$\$$values\$\$) $cols"),
	't', 'after release and acquire: float8 exact again (reset_query empty)');
sq_ok($s, "SELECT pgpool_ext.execute($h, 'SET extra_float_digits = 0')");
$s->quit;
# the release at exit resets it: the next user gets exact values
ok( $local->poll_query_until('postgres',
		"SELECT state = 'idle' FROM pgpool_ext.connections WHERE pool_name = 'bare'"),
	'released at session exit');
is( $local->safe_psql('postgres',
		"SELECT $check FROM pgpool_ext.run('bare', \$\$$values\$\$) $cols"),
	't', 'the next holder gets exact values');

$local->stop;
$remote->stop;
done_testing();
