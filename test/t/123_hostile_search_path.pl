# The pool worker loads definitions as a superuser, so nothing in its load
# may resolve to an object another role created.  A role with CREATE on
# public defines public.*(numeric, integer) (the old load query multiplied
# extract()'s numeric by an integer, which pg_catalog has no exact operator
# for): the next load must not run it.  Interval options are read in binary
# form and converted as the SQL functions validate them: a row holding a
# timeout beyond what the worker can hold is refused with a WARNING (a new
# pool is not loaded, an existing one keeps its previous definition), never
# loaded as a negative or wrapped value.
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

$local->safe_psql('postgres', q{
	CREATE ROLE mallory;
	GRANT CREATE ON SCHEMA public TO mallory;
	SET ROLE mallory;
	CREATE TABLE public.pwned (who text, at timestamptz DEFAULT now());
	GRANT INSERT ON public.pwned TO PUBLIC;
	CREATE FUNCTION public.evil_mul(numeric, integer) RETURNS numeric
		LANGUAGE sql AS $$
			INSERT INTO public.pwned (who) SELECT current_user;
			SELECT $1 OPERATOR(pg_catalog.*) $2::numeric;
		$$;
	CREATE OPERATOR public.* (LEFTARG = numeric, RIGHTARG = integer,
		FUNCTION = public.evil_mul);
	RESET ROLE;
});
# The trap works for a session that does not pin its search_path.
is($local->safe_psql('postgres',
		"SELECT (extract(epoch FROM interval '1 s') * 1000)::int8; "
		  . "SELECT count(*) FROM public.pwned"),
	"1000\n1", 'the operator in public is picked for numeric * integer');
$local->safe_psql('postgres', 'TRUNCATE public.pwned');

$local->safe_psql('postgres',
	"CREATE ROLE r; SELECT pgpool_ext.create_pool('x', '$ci', idle_timeout => '24 days',
		password_required => false); SELECT pgpool_ext.grant_usage('x', 'r')");
ok($local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'x'"),
	'pool x is loaded');
is($local->safe_psql('postgres', 'SELECT count(*) FROM public.pwned'),
	'0', 'loading definitions did not run the operator in public');
is( $local->safe_psql('postgres',
		"SELECT idle_timeout = interval '24 days' FROM pgpool_ext.pools WHERE pool_name = 'x'"),
	't', 'an idle_timeout of 24 days is loaded as 24 days');

# Rows the SQL functions would refuse, written directly as a superuser.
$local->safe_psql('postgres', "
	INSERT INTO pgpool_ext.pool_definition (pool_name, conninfo, min_size,
		max_size, idle_timeout, connect_timeout, reset_query,
		password_required, owner)
	VALUES ('long_idle', '$ci', 0, 2, '30 days', '10 s', '', true,
		current_user::text::regrole)");
ok( poll_until('the worker refused long_idle',
		sub {
			slurp_file($local->logfile) =~
			  /WARNING:  pgpool_ext: definition of pool "long_idle" ignored: idle_timeout is 30 days/;
		}),
	'a 30-day idle_timeout (beyond 2^31 ms) is refused with a WARNING');
is( $local->safe_psql('postgres',
		"SELECT string_agg(pool_name, ',' ORDER BY pool_name) FROM pgpool_ext.pools"),
	'x', 'and that pool is not loaded');

$local->safe_psql('postgres',
	"UPDATE pgpool_ext.pool_definition SET connect_timeout = '1 mon', max_size = 5 "
	  . "WHERE pool_name = 'x'");
ok( poll_until('the worker refused the new x',
		sub {
			slurp_file($local->logfile) =~
			  /WARNING:  pgpool_ext: definition of pool "x" ignored: connect_timeout is 1 mon/;
		}),
	'a 1-month connect_timeout is refused with a WARNING');
is( $local->safe_psql('postgres',
		"SELECT max_size || ' ' || (idle_timeout = interval '24 days') || ' ' || connect_timeout "
		  . "FROM pgpool_ext.pools WHERE pool_name = 'x'"),
	'10 true 00:00:10', 'pool x keeps its previous definition');
my ($out, $err) = psql_err($local,
	"SET ROLE r; SELECT * FROM pgpool_ext.run('x', 'SELECT 5', timeout => '10s') AS t(y int)");
is($out, '5', 'and still works, for r too') or diag $err;

# A revocation applies even while the pool keeps its previous definition.
$local->safe_psql('postgres', "SELECT pgpool_ext.revoke_usage('x', 'r')");
($out, $err) = psql_err($local, "SET ROLE r; SELECT pgpool_ext.acquire('x', timeout => '1s')");
is(sqlstate($err), '42501', 'revoked: r may no longer use x');
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('x', 'SELECT 6', timeout => '10s') AS t(y int)");
is($out, '6', 'x still works for its owner') or diag $err;
is($local->safe_psql('postgres', 'SELECT count(*) FROM public.pwned'),
	'0', 'no load ran the operator in public');

$local->stop;
$remote->stop;
done_testing();
