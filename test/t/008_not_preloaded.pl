# Without shared_preload_libraries: CREATE EXTENSION works, and every
# function and view fails with 55000 and a hint naming
# shared_preload_libraries; the server stays up.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $node = local_node('plain', preload => 0, create_extension => 0);
my $ci = conninfo_of($remote);

my ($out, $err) = psql_err($node, 'CREATE EXTENSION pgpool_ext');
is($err, '', 'CREATE EXTENSION works without shared_preload_libraries');

my @cases = (
	[ 'acquire', "SELECT pgpool_ext.acquire('p')" ],
	[ 'create_pool', "SELECT pgpool_ext.create_pool('p', '$ci')" ],
	[ 'pools view', 'SELECT * FROM pgpool_ext.pools' ],
	[ 'connections view', 'SELECT * FROM pgpool_ext.connections' ],
	[ 'handles view', 'SELECT * FROM pgpool_ext.handles' ],
	[ 'waiters view', 'SELECT * FROM pgpool_ext.waiters' ],
	[ 'run', "SELECT * FROM pgpool_ext.run('p', 'SELECT 1') AS t(x int)" ],
	[ 'query', "SELECT * FROM pgpool_ext.query(1, 'SELECT 1') AS t(x int)" ],
	[ 'execute', "SELECT pgpool_ext.execute(1, 'SELECT 1')" ],
	[ 'release', 'SELECT pgpool_ext.release(1)' ],
	[ 'drop_pool', "SELECT pgpool_ext.drop_pool('p')" ],);
foreach my $c (@cases)
{
	my ($what, $sql) = @$c;
	($out, $err) = psql_err($node, $sql);
	is(sqlstate($err), '55000', "$what: SQLSTATE 55000");
	like($err, qr/HINT:.*shared_preload_libraries/, "$what: hint names shared_preload_libraries");
}

# Inserting a definition directly fires the extension's trigger function;
# whatever it answers, the server must survive it (checked below).
($out, $err) = psql_err($node,
	"INSERT INTO pgpool_ext.pool_definition VALUES "
	  . "('p', '$ci', 0, 1, NULL, '1 min', '10 s', '', true, 'postgres')");
note "direct insert into pool_definition: " . ($err eq '' ? 'accepted' : $err);

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* exited with exit code [^0]/,
	'no backend crashed');
my @fatal = grep { /FATAL/ } split /\n/, $log;
is(scalar(@fatal), 0, 'no session was terminated (no FATAL in the server log)')
  or diag join("\n", @fatal);
is( $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity "
		  . "WHERE backend_type = 'pgpool_ext worker'"),
	'0', 'no pool worker runs');
($out, $err) = psql_err($node, 'DROP EXTENSION pgpool_ext');
is($err, '', 'DROP EXTENSION works');

$node->stop;
$remote->stop;
done_testing();
