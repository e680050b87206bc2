# Connection strings that cannot be used never put their secrets in an
# error, a view or the server log: URIs whose user information holds the
# password (malformed in several ways, or with an '@' not percent-encoded)
# and key=value strings whose password has spaces or quotes.  Each is
# refused at create_pool with 22023; the error reaches the log uncaught
# (log_statement is off and failing statements are not logged: PostgreSQL
# logs statements as they are).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $secret = 'Tr0ub4dor';
my $node = local_node('local',
	conf => "log_statement = none\nlog_min_error_statement = panic\n");

my @bad = (
	"postgresql://app:$secret\@[::1/db",
	"postgresql://app:$secret\@h/db?sslmode",
	"postgresql://app:$secret\@h/db?a=b=c",
	"postgresql://app:${secret}%zz\@h/db",
	"postgresql://app:$secret\@h/db?x%00=1",
	"postgresql://app:$secret/x\@h/db",
	"postgresql://app:Tr0\@ub4dor\@h/db",
	"postgresql://app:$secret\@h:5x/db",
	"dbname=x password=correct $secret=battery",
	"dbname=x password=correct $secret\" horse",
	"dbname=x password=$secret\" \"other",
	"dbname=x password='$secret sslmode=bogus");
my $i = 0;
foreach my $ci (@bad)
{
	$i++;
	my ($out, $err) = psql_err($node,
		"SELECT pgpool_ext.create_pool('bad$i', \$ci\$$ci\$ci\$)");
	is(sqlstate($err), '22023', "conninfo $i refused with 22023");
	unlike($err, qr/Tr0|ub4dor/, "conninfo $i: no fragment of the password in the error");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.pool_definition'),
	'0', 'none was stored');

my $log = slurp_file($node->logfile);
like($log, qr/ERROR:  invalid value for pool option "conninfo"/,
	'server log: the errors were logged (the log was checked)');
unlike($log, qr/Tr0|ub4dor/, 'server log: no fragment of the password');

$node->stop;
done_testing();
