# A role granted EXECUTE on the defining functions (the README's way to
# delegate them) tries to make its own code run with the rights those
# functions use on the definition tables:
#  - pg_temp domains named regrole and text, whose CHECK calls a function;
#  - an operator = (text, text) in a schema put before pg_catalog on its
#    search_path;
# each "spy" reports current_user and tries ALTER ROLE ... SUPERUSER.  Every
# defining function must work for the delegate's own pool with these
# objects in place, and no spy may run as a superuser (nor at all, inside
# the functions).  After a defining function fails inside a caught error,
# the caller's user and search_path are its own again.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = local_node('local', conf => "log_min_messages = notice\n");
$node->safe_psql('postgres', q{
	CREATE ROLE delegate LOGIN;
	CREATE ROLE other_role;
	GRANT CREATE ON DATABASE postgres TO delegate;
	GRANT EXECUTE ON FUNCTION
	  pgpool_ext.create_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
	  pgpool_ext.alter_pool(text, text, integer, integer, integer, interval, interval, text, boolean, jsonb),
	  pgpool_ext.drop_pool(text, boolean),
	  pgpool_ext.grant_usage(text, text),
	  pgpool_ext.revoke_usage(text, text)
	  TO delegate;
});

# The delegate's session, connected as delegate.
my $s;
{
	local $ENV{PGUSER} = 'delegate';
	$s = session($node);
}
is(sq_ok($s, 'SELECT current_user'), 'delegate', 'session runs as delegate');

# The spies.  spy() reports who runs it and tries to make delegate a
# superuser; it returns true so that the statement carries on.
sq_ok($s, q{
CREATE SCHEMA evil;
CREATE FUNCTION evil.spy(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'spy % ran as % (superuser: %)', what, current_user,
    (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
  BEGIN
    EXECUTE 'ALTER ROLE delegate SUPERUSER';
    RAISE NOTICE 'spy % made delegate a superuser', what;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'spy % could not: %', what, SQLERRM;
  END;
  RETURN true;
END $$;
CREATE FUNCTION evil.eq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM evil.spy('operator =');
  RETURN a OPERATOR(pg_catalog.=) b;
END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq);
CREATE DOMAIN pg_temp.regrole AS pg_catalog.oid CHECK (evil.spy('domain regrole'));
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (evil.spy('domain text'));
CREATE DOMAIN pg_temp.oid AS pg_catalog.oid CHECK (evil.spy('domain oid'));
SET search_path = evil, pg_catalog, public;
});
# the spies are live in this session: the operator runs as delegate here
my ($out, $err) = sq($s, q{SELECT 'a' = 'a'});
like($err, qr/spy operator = ran as delegate/, 'the operator spy is reachable');
($out, $err) = sq($s, q{SELECT '1'::pg_temp.regrole});
like($err, qr/spy domain regrole ran as delegate/, 'the domain spy is reachable');

my $ci = "host=/nonexistent dbname=postgres password=x";
my @calls = (
	"SELECT pgpool_ext.create_pool('mine', '$ci', max_size => 1)",
	"SELECT pgpool_ext.alter_pool('mine', max_size => 2, reset_query => 'DISCARD ALL')",
	"SELECT pgpool_ext.alter_pool('mine', options => '{\"idle_timeout\": \"1 min\"}')",
	"SELECT pgpool_ext.grant_usage('mine', 'other_role')",
	"SELECT pgpool_ext.grant_usage('mine', 'public')",
	"SELECT pgpool_ext.revoke_usage('mine', 'other_role')",
	"SELECT pgpool_ext.revoke_usage('mine', 'public')",
	"SELECT pgpool_ext.drop_pool('mine')",
	"SELECT pgpool_ext.create_pool('mine', '$ci', max_size => 1)");
foreach my $sql (@calls)
{
	($out, $err) = sq($s, $sql);
	(my $what = $sql) =~ s/^SELECT pgpool_ext\.(\w+).*/$1/s;
	is(sqlstate($err), '', "$what: works for the delegate's own pool");
	unlike($err, qr/spy/, "$what: no spy ran");
	is( $node->safe_psql('postgres',
			"SELECT rolsuper FROM pg_roles WHERE rolname = 'delegate'"),
		'f', "$what: delegate is still not a superuser");
}
is( $node->safe_psql('postgres',
		"SELECT pool_name || ' ' || owner FROM pgpool_ext.pool_definition"),
	'mine delegate', 'the pool is stored with the delegate as owner');

# Errors raised inside the raised-rights section, caught by the caller:
# user, security context and search_path are the caller's again.
sq_ok($s, q{
CREATE FUNCTION evil.try(sql pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
});
$node->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('su_pool', '$ci', max_size => 1)");
is( sq_ok($s,
		"SELECT evil.try(\$\$SELECT pgpool_ext.alter_pool('su_pool', max_size => 1)\$\$) "
		  . "|| ' ' || current_user || ' ' || current_setting('search_path')"),
	'42501 delegate evil, pg_catalog, public',
	'refused inside the section: user and search_path restored');
is( sq_ok($s,
		"SELECT evil.try(\$\$SELECT pgpool_ext.grant_usage('nosuch', 'public')\$\$) "
		  . "|| ' ' || current_user || ' ' || current_setting('search_path')"),
	'42704 delegate evil, pg_catalog, public',
	'unknown pool inside the section: user and search_path restored');
($out, $err) = sq($s, 'CREATE TEMP TABLE after_section (x int)');
is(sqlstate($err), '', 'not left in a security-restricted operation');

# the server log: no spy ran with raised rights
my $log = slurp_file($node->logfile);
like($log, qr/NOTICE:\s+spy operator = ran as delegate/,
	"server log: the spies' notices are logged (the log was checked)");
unlike($log, qr/NOTICE:\s+spy [^\n]* ran as (?!delegate)/, 'server log: no spy ran as another role');
unlike($log, qr/NOTICE:\s+spy [^\n]* made delegate a superuser/, 'server log: no spy made delegate a superuser');

$s->quit;
$node->stop;
done_testing();
