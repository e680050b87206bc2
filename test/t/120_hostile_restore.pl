# A dump restored into a cluster that lacks some roles keeps every pool
# definition and every grant: roles are stored by name (schema 0.2), so the
# COPY of the definition tables does not fail.  The pool worker loads what
# it can: a pool whose owner is missing is not loaded, a grant to a missing
# role is skipped, each with a WARNING naming the pool and the role, and
# pgpool_ext.missing_roles lists them.  Creating the missing role brings
# the pool back at the next load.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $src = local_node('source');
my $ci = conninfo_of($remote);

# 12 pools owned by the superuser, one owned by "creator"; usage for
# "reader" (which the target has) and "ghost" (which it lacks).
$src->safe_psql('postgres', "CREATE ROLE creator; CREATE ROLE reader; CREATE ROLE ghost;");
for my $i (1 .. 12)
{
	my $name = sprintf('p%02d', $i);
	$src->safe_psql('postgres',
		"SELECT pgpool_ext.create_pool('$name', '$ci', password_required => false)");
}
$src->safe_psql('postgres', "
	INSERT INTO pgpool_ext.pool_definition (pool_name, conninfo, min_size,
		max_size, idle_timeout, connect_timeout, reset_query,
		password_required, owner)
	VALUES ('c1', '$ci', 0, 2, '1 min', '10 s', '', false, 'creator');
	SELECT pgpool_ext.grant_usage('p01', 'reader');
	SELECT pgpool_ext.grant_usage('p01', 'ghost');
	SELECT pgpool_ext.grant_usage('c1', 'reader');");
is($src->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.pools'),
	'13', 'source: 13 pools loaded');

my $dumpfile = $src->basedir . '/pgpool.dump';
command_ok([ 'pg_dump', '-Fc', '-f', $dumpfile, '-d', $src->connstr('postgres') ],
	'pg_dump -Fc of the source database');

my $dst = local_node('target', create_extension => 0);
$dst->safe_psql('postgres', 'CREATE ROLE reader');
my ($out, $err) = (q{}, q{});
my @cmd = ('pg_restore', '-d', $dst->connstr('postgres'), $dumpfile);
my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
ok($ok, 'pg_restore into a cluster without "creator" and "ghost" succeeds')
  or diag $err;

is($dst->safe_psql('postgres', 'SELECT count(*) FROM pgpool_ext.pool_definition'),
	'13', 'target: every definition is restored');
is( $dst->safe_psql('postgres',
		"SELECT string_agg(pool_name || ':' || role, ',' ORDER BY pool_name, role) FROM pgpool_ext.pool_usage"),
	'c1:reader,p01:ghost,p01:reader', 'target: every grant is restored');
is( $dst->safe_psql('postgres',
		"SELECT string_agg(pool_name, ',' ORDER BY pool_name) FROM pgpool_ext.pools"),
	join(',', map { sprintf('p%02d', $_) } 1 .. 12),
	'target: the 12 pools whose owner exists are loaded, c1 is not');
is( $dst->safe_psql('postgres',
		"SELECT string_agg(pool_name || ':' || role || ':' || used_as || ':' || effect, ',' "
		  . "ORDER BY pool_name) FROM pgpool_ext.missing_roles"),
	'c1:creator:owner:pool not loaded,p01:ghost:usage:grant skipped',
	'target: missing_roles lists the missing owner and grantee');
ok( poll_until('the worker warned about c1 and ghost',
		sub {
			my $log = slurp_file($dst->logfile);
			$log =~ /WARNING:  pgpool_ext: pool "c1" not loaded: its owner role "creator" does not exist/
			  && $log =~ /WARNING:  pgpool_ext: usage of pool "p01" by role "ghost" skipped: the role does not exist/;
		}),
	'target: the server log names each skipped pool and grant with its role');

($out, $err) = psql_err($dst, 'SET ROLE reader; SELECT * FROM pgpool_ext.missing_roles');
is(sqlstate($err), '42501', 'target: missing_roles is not readable by everyone');
($out, $err) = psql_err($dst,
	"SET ROLE reader; SELECT * FROM pgpool_ext.run('p01', 'SELECT 7', timeout => '10s') AS t(x int)");
is($out, '7', 'target: reader uses p01 through its restored grant') or diag $err;
($out, $err) = psql_err($dst,
	"SET ROLE reader; SELECT pgpool_ext.acquire('p02', timeout => '1s')");
is(sqlstate($err), '42501', 'target: reader has no usage on p02');

# Creating the missing owner brings c1 back at the next load.
$dst->safe_psql('postgres', "CREATE ROLE creator;
	SELECT pgpool_ext.alter_pool('p02', max_size => 4);");
ok( $dst->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'c1'"),
	'target: c1 is loaded once its owner exists');
($out, $err) = psql_err($dst,
	"SET ROLE reader; SELECT * FROM pgpool_ext.run('c1', 'SELECT 8', timeout => '10s') AS t(x int)");
is($out, '8', 'target: reader uses c1 through its restored grant') or diag $err;

$src->stop;
$dst->stop;
$remote->stop;
done_testing();
