# Encodings: every remote connection talks UTF8 and backends convert.
# A LATIN1 remote database gives valid text to a UTF8 local database (no
# invalid bytes stored), parameters and SQL text reach it unchanged, a
# LATIN1 local database receives its own encoding, and a remote
# "SET client_encoding" in the user's SQL never delivers converted rows
# (query and query_json): the request fails and the next one works with the
# setting restored.
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

my $mkdb = "ENCODING '%s' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'";
$remote->safe_psql('postgres', sprintf("CREATE DATABASE rlat $mkdb", 'LATIN1'));
$remote->safe_psql('postgres', sprintf("CREATE DATABASE rutf $mkdb", 'UTF8'));
# chr(233) is e-acute in both encodings: no client encoding is involved
$remote->safe_psql('rlat', 'CREATE TABLE t AS SELECT chr(233) AS v');
$local->safe_psql('postgres', sprintf("CREATE DATABASE lutf $mkdb", 'UTF8'));
$local->safe_psql('postgres', sprintf("CREATE DATABASE llat $mkdb", 'LATIN1'));
$local->safe_psql($_, 'CREATE EXTENSION pgpool_ext') for qw(lutf llat);

my $base = 'host=' . $remote->host . ' port=' . $remote->port;
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('lat', '$base dbname=rlat', max_size => 1);
	SELECT pgpool_ext.create_pool('utf', '$base dbname=rutf', max_size => 1);");

# (a) a LATIN1 remote, a UTF8 local database: e-acute arrives as UTF8.
is( $local->safe_psql('lutf',
		"SELECT encode(convert_to(v, 'UTF8'), 'hex') "
		  . "FROM pgpool_ext.run('lat', 'SELECT v FROM t') AS t(v text)"),
	'c3a9', 'LATIN1 remote -> UTF8 local: the value is valid UTF8');
$local->safe_psql('lutf',
	"CREATE TABLE copy AS SELECT v FROM pgpool_ext.run('lat', 'SELECT v FROM t') AS t(v text)");
is($local->safe_psql('lutf', "SELECT v = chr(233) FROM copy"),
	't', 'the stored copy equals the remote value');

# (b) parameters and SQL text reach the LATIN1 remote unchanged.
is( $local->safe_psql('lutf',
		"SELECT * FROM pgpool_ext.run('lat', 'SELECT v = \$1, length(\$1) FROM t', "
		  . "ARRAY[chr(233)]) AS t(eq bool, len int)"),
	"t|1", 'a parameter arrives as the same character');
is( $local->safe_psql('lutf',
		"SELECT * FROM pgpool_ext.run('lat', 'SELECT count(*) FROM t WHERE v = '"
		  . " || quote_literal(chr(233))) AS t(n bigint)"),
	'1', 'SQL text arrives as the same characters');

# (c) a LATIN1 local database: values, SQL text and parameters converted
# from and to LATIN1.
is( $local->safe_psql('llat',
		"SELECT encode(convert_to(v, 'LATIN1'), 'hex'), v = chr(233) || chr(233) "
		  . "FROM pgpool_ext.run('utf', 'SELECT ' || quote_literal(chr(233)) || "
		  . "'::text || \$1', ARRAY[chr(233)]) AS t(v text)"),
	'e9e9|t', 'UTF8 remote -> LATIN1 local: the value is LATIN1');
my ($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('utf', 'SELECT chr(8364)') AS t(v text)", 'llat');
like($err, qr/ERROR:\s+22P05:/,
	'a character the local encoding lacks is an error (22P05), not a value');

# (d) UTF8 to UTF8, the user's SQL sets client_encoding on the remote.
my $s = session($local, 'lutf');
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('utf')");
(undef, $err) = sq($s,
	"SELECT encode(convert_to(v, 'UTF8'), 'hex') FROM pgpool_ext.query($h, "
	  . "\$\$SET client_encoding = 'LATIN1'; SELECT chr(233)\$\$) AS t(v text)");
is(sqlstate($err), '22021', 'query: invalid bytes are refused (22021)');
like($err, qr/CONTEXT:\s+remote SQL command: SET client_encoding/,
	'the error names the remote command');
is( sq_ok($s,
		"SELECT encode(convert_to(v, 'UTF8'), 'hex') FROM pgpool_ext.query($h, "
		  . "'SELECT chr(233)') AS t(v text)"),
	'c3a9', 'the next request on the same handle gets UTF8 again');
# LATIN1 bytes that happen to be valid UTF8: caught by the settings check
(undef, $err) = sq($s,
	"SELECT v FROM pgpool_ext.query($h, "
	  . "\$\$SET client_encoding = 'LATIN1'; SELECT chr(195) || chr(169)\$\$) AS t(v text)");
is(sqlstate($err), '0A000', 'query: converted rows are refused (0A000)');
like($err, qr/remote session setting "client_encoding" was changed/,
	'the error names the setting');
(undef, $err) = sq($s,
	"SELECT * FROM pgpool_ext.query_json($h, "
	  . "\$\$SET client_encoding = 'LATIN1'; SELECT chr(195) || chr(169) AS v\$\$)");
is(sqlstate($err), '0A000', 'query_json: converted rows are refused (0A000)');
(undef, $err) = sq($s,
	"SELECT * FROM pgpool_ext.query_json($h, "
	  . "\$\$SET client_encoding = 'LATIN1'; SELECT chr(233) AS v\$\$)");
isnt(sqlstate($err), '', 'query_json: invalid bytes are refused');
is( sq_ok($s,
		"SELECT c || ' ' || encode(convert_to(v, 'UTF8'), 'hex') FROM pgpool_ext.query($h, "
		  . "'SELECT current_setting(''client_encoding''), chr(195) || chr(169)') "
		  . "AS t(c text, v text)"),
	'UTF8 c383c2a9', 'client_encoding is UTF8 again and values are exact');
sq_ok($s, "SELECT pgpool_ext.release($h)");
is( $local->safe_psql('lutf',
		"SELECT v FROM pgpool_ext.run('utf', 'SHOW client_encoding') AS t(v text)"),
	'UTF8', 'after release, the connection still talks UTF8');
$s->quit;

$local->stop;
$remote->stop;
done_testing();
