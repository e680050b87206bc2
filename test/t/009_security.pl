# Passwords never leak: the remote asks for a SCRAM password; pool
# conninfo strings carry it (keyword, quoted and URI forms).  The pools view
# masks it, connection failures (wrong password) are reported without it,
# and the local server log never contains it.  pg_dump dumps the
# definitions.  Non-superusers only get connections that used a password.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $good = 'SuperSecret123';
my $wrong = 'WrongPass789';

my $remote = remote_node('remote', conf => "password_encryption = 'scram-sha-256'\n");
$remote->safe_psql('postgres', "CREATE ROLE app LOGIN PASSWORD '$good'");
$remote->safe_psql('postgres', 'GRANT pg_read_all_stats TO app');
# postgres stays trusted (the test's own connections); app needs SCRAM.
open my $hba, '>', $remote->data_dir . '/pg_hba.conf' or die $!;
print $hba "local all postgres trust\nlocal all all scram-sha-256\n";
close $hba;
$remote->reload;

# log_statement = none: the statements of this test carry passwords, and
# PostgreSQL would log them as they are; what is checked is what the
# extension itself logs (at debug1, to see as much of it as possible).
my $local = local_node('local',
	conf => "log_statement = none\nlog_min_messages = debug1\n");
my $host = $remote->host;
my $port = $remote->port;
my $ci_good = conninfo_of($remote, user => 'app', password => $good);
my $ci_quoted = "host=$host port=$port dbname=postgres user=app password='$good'";
(my $host_enc = $host) =~ s{/}{%2F}g;
my $ci_uri = "postgresql://app:$good\@$host_enc:$port/postgres";
my $ci_wrong = conninfo_of($remote, user => 'app', password => $wrong);
my $ci_trust = conninfo_of($remote);

$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('good', '$ci_good', min_size => 1, max_size => 2);
	SELECT pgpool_ext.create_pool('quoted', \$\$$ci_quoted\$\$, min_size => 1, max_size => 1);
	SELECT pgpool_ext.create_pool('uri', '$ci_uri', min_size => 1, max_size => 1);
	SELECT pgpool_ext.create_pool('wrong', '$ci_wrong', min_size => 1, max_size => 1);
	SELECT pgpool_ext.create_pool('trusted', '$ci_trust', min_size => 0, max_size => 1);");

# (a) the views.
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pgpool_ext.connections "
		  . "WHERE pool_name IN ('good', 'quoted', 'uri') AND state = 'idle'"),
	'good, quoted, uri: connected with the password');
is( $local->safe_psql('postgres',
		"SELECT string_agg(pool_name || ':' || used_password, ',' ORDER BY pool_name) "
		  . "FROM pgpool_ext.connections WHERE pool_name IN ('good', 'quoted', 'uri')"),
	'good:true,quoted:true,uri:true', 'connections view: used_password is true');
my $pools = $local->safe_psql('postgres',
	'SELECT pool_name, conninfo, last_connect_error FROM pgpool_ext.pools ORDER BY 1');
note "pools view:\n$pools";
unlike($pools, qr/$good|$wrong/, 'pools view: no password anywhere');
foreach my $p ('good', 'quoted', 'uri', 'wrong')
{
	my $ci = $local->safe_psql('postgres',
		"SELECT conninfo FROM pgpool_ext.pools WHERE pool_name = '$p'");
	like($ci, qr/password=\*{8}/, "pools view: $p conninfo shows password=********");
	like($ci, qr/user=app/, "pools view: $p conninfo still shows the user");
}
my ($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('good', 'SELECT current_user') AS t(u name)");
is($out, 'app', 'good: remote queries run as app');

# (b) wrong password.
ok( $local->poll_query_until('postgres',
		"SELECT connect_failures > 0 FROM pgpool_ext.pools WHERE pool_name = 'wrong'"),
	'wrong: connect failures counted');
my $last = $local->safe_psql('postgres',
	"SELECT last_connect_error FROM pgpool_ext.pools WHERE pool_name = 'wrong'");
like($last, qr/password authentication failed for user "app"/,
	'wrong: last_connect_error has the authentication failure');
unlike($last, qr/$wrong/, 'wrong: last_connect_error has no password');
($out, $err) = psql_err($local, "SELECT pgpool_ext.acquire('wrong', timeout => '1s')");
is(sqlstate($err), '53300', 'wrong: acquire times out with 53300');
like($err, qr/DETAIL:.*password authentication failed/s,
	'wrong: the 53300 detail has the authentication failure');
unlike($err, qr/$wrong|$good/, 'wrong: the 53300 error has no password');

# A remote error on a good connection does not show the conninfo either.
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('good', 'SELECT 1/0') AS t(x int)");
is(sqlstate($err), '22012', 'remote error: remote SQLSTATE');
unlike($err, qr/$good/, 'remote error: no password');

# Fixing the password with alter_pool makes the pool work.
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('wrong', conninfo => '$ci_good')");
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('wrong', 'SELECT 1', timeout => '20s') AS t(x int)");
is($out, '1', 'wrong: usable after alter_pool fixed the password');

# Non-superusers: only connections that used a password.
$local->safe_psql('postgres', "
	CREATE ROLE reader LOGIN;
	SELECT pgpool_ext.grant_usage('good', 'reader');
	SELECT pgpool_ext.grant_usage('trusted', 'reader');");
($out, $err) = psql_err($local,
	"SET ROLE reader; SELECT * FROM pgpool_ext.run('good', 'SELECT 5') AS t(x int)");
is($out, '5', 'reader: may use a pool whose connections used a password');
($out, $err) = psql_err($local,
	"SET ROLE reader; SELECT * FROM pgpool_ext.run('trusted', 'SELECT 6', timeout => '10s') AS t(x int)");
is(sqlstate($err), '42501', 'reader: refused a connection made without a password (42501)');
($out, $err) = psql_err($local,
	"SET ROLE reader; SELECT * FROM pgpool_ext.run('uri', 'SELECT 7') AS t(x int)");
is(sqlstate($err), '42501', 'reader: refused a pool without usage granted (42501)');
($out, $err) = psql_err($local,
	'SET ROLE reader; SELECT conninfo FROM pgpool_ext.pool_definition');
is(sqlstate($err), '42501', 'reader: cannot read the definitions table');
($out, $err) = psql_err($local, 'SET ROLE reader; SELECT * FROM pgpool_ext.pools');
is(sqlstate($err), '42501', 'reader: cannot read the pools view');
is( $local->safe_psql('postgres',
		"SELECT in_use || ' ' || waiting FROM pgpool_ext.pools WHERE pool_name = 'trusted'"),
	'0 0', 'trusted: the refused connection was not kept by reader');

# The server log never has a password.
my $log = slurp_file($local->logfile);
unlike($log, qr/$good/, "local server log: no '$good'");
unlike($log, qr/$wrong/, "local server log: no '$wrong'");
like($log, qr/password authentication failed/,
	'local server log: the authentication failure was logged (the log was checked)');

# (c) pg_dump dumps the definitions (the stored conninfo, password
# included: it is the definition).
my ($dump, $dump_err) = ('', '');
IPC::Run::run([ 'pg_dump', '-d', $local->connstr('postgres') ],
	'>', \$dump, '2>', \$dump_err);
is($dump_err, '', 'pg_dump: no error');
like($dump, qr/^COPY pgpool_ext\.pool_definition .*^good\t/ms,
	'pg_dump: the definition of pool good is dumped');
like($dump, qr/^COPY pgpool_ext\.pool_usage .*^good\treader$/ms,
	'pg_dump: the usage grant is dumped');

$local->stop;
$remote->stop;
done_testing();
