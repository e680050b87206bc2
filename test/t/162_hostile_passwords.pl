# Passwords are kept out of messages by structure, not by searching the
# text: a password equal to a word of libpq's message (user=app
# password=app) does not reveal itself as "***" in last_connect_error, the
# 53300 detail or the log, and a remote error that contains the same text
# as the password is shown as the remote sent it.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote', conf => "password_encryption = 'scram-sha-256'\n");
$remote->safe_psql('postgres', "CREATE ROLE app LOGIN PASSWORD 'Hunter2Hunter2'");
open my $hba, '>', $remote->data_dir . '/pg_hba.conf' or die $!;
print $hba "local all postgres trust\nlocal all all scram-sha-256\n";
close $hba;
$remote->reload;

my $local = local_node('local', conf => "log_statement = none\n");
my $ci_app = conninfo_of($remote, user => 'app', password => 'app');
my $ci_good = conninfo_of($remote, user => 'app', password => 'Hunter2Hunter2');
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('app', '$ci_app', min_size => 1, max_size => 1);
	SELECT pgpool_ext.create_pool('good', '$ci_good', max_size => 1);");

# (a) user=app password=app, a wrong password.
ok( $local->poll_query_until('postgres',
		"SELECT connect_failures > 0 FROM pgpool_ext.pools WHERE pool_name = 'app'"),
	'the connection attempts fail');
my $last = $local->safe_psql('postgres',
	"SELECT last_connect_error FROM pgpool_ext.pools WHERE pool_name = 'app'");
like($last, qr/password authentication failed for user "app"/,
	'last_connect_error names the user as it is');
unlike($last, qr/\*\*\*/, 'last_connect_error has no stars standing for the password');
my ($out, $err) = psql_err($local, "SELECT pgpool_ext.acquire('app', timeout => '1s')");
is(sqlstate($err), '53300', 'acquire times out (53300)');
like($err, qr/DETAIL:.*password authentication failed for user "app"/s,
	'the 53300 detail names the user as it is');
my $log = slurp_file($local->logfile);
like($log, qr/password authentication failed for user "app"/,
	'the log names the user as it is');
unlike($log, qr/for user "\*+"/, 'the log has no stars for the user name');

# (b) a remote error that contains the password's text is not altered.
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('good', \$\$SELECT 'Hunter2Hunter2'::int\$\$) AS t(x int)");
is(sqlstate($err), '22P02', 'the remote error keeps its SQLSTATE');
like($err, qr/invalid input syntax for type integer: "Hunter2Hunter2"/,
	'the remote error text is as the remote sent it');

$local->stop;
$remote->stop;
done_testing();
