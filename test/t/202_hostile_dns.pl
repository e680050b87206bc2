# Host names in a pool's conninfo are resolved without blocking the pool
# worker.  libpq resolves them inside PQconnectPoll() with getaddrinfo(),
# which blocks for as long as DNS takes; the worker looks them up with
# getaddrinfo_a() first and gives libpq the addresses (hostaddr).
#
# A blocking lookup is made visible with an LD_PRELOAD shim in the local
# server that makes getaddrinfo() for one name wait for 2 minutes: the
# worker must never make that call.  (getaddrinfo_a() does not go through
# the shim: for it that name does not exist.)  Also: names still work,
# alone and in a host list with an unresolvable one, and an unresolvable
# name fails the connect with libpq's message while other pools serve.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $slow_name = 'slow-dns.pgpool.test';
my $shim_dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$shim_dir/slowdns.c" or die $!;
print $fh <<"EOC";
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

typedef int (*gai_fn) (const char *, const char *, const struct addrinfo *,
					   struct addrinfo **);

/* getaddrinfo() that takes 2 minutes for one name */
int
getaddrinfo(const char *node, const char *service,
			const struct addrinfo *hints, struct addrinfo **res)
{
	gai_fn		next = (gai_fn) dlsym(RTLD_NEXT, "getaddrinfo");

	if (node != NULL && strcmp(node, "$slow_name") == 0)
	{
		sleep(120);
		node = "127.0.0.1";
	}
	return next(node, service, hints, res);
}
EOC
close $fh;
system('cc', '-shared', '-fPIC', '-o', "$shim_dir/slowdns.so", "$shim_dir/slowdns.c", '-ldl') == 0
  or BAIL_OUT('cannot build the getaddrinfo shim');

my $ra = remote_node('ra', conf => "listen_addresses = '127.0.0.1'\n");
my $rb = remote_node('rb');
my $local;
{
	local $ENV{LD_PRELOAD} = "$shim_dir/slowdns.so";
	$local = local_node('local');
}
my $port = $ra->port;

$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('pb', '" . conninfo_of($rb) . "', min_size => 1, max_size => 2)");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('named', 'host=localhost port=$port dbname=postgres', "
	  . "max_size => 2, connect_timeout => '5s')");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('list', 'host=nonexistent-pgpool.invalid,localhost "
	  . "port=$port,$port dbname=postgres', max_size => 2, connect_timeout => '5s')");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('bad', 'host=nonexistent-pgpool.invalid port=$port "
	  . "dbname=postgres', max_size => 1, connect_timeout => '2s')");

# 1. A host name still works, over TCP to the address it resolves to.
is( $local->safe_psql('postgres',
		"SELECT * FROM pgpool_ext.run('named', 'SELECT host(inet_client_addr())') AS t(a text)"),
	'127.0.0.1', 'host=localhost connects (to 127.0.0.1)');
is( $local->safe_psql('postgres',
		"SELECT * FROM pgpool_ext.run('named', 'SELECT 1') AS t(x int)"),
	'1', 'and serves');

# 2. In a host list, an unresolvable name is skipped for the next one.
is( $local->safe_psql('postgres',
		"SELECT * FROM pgpool_ext.run('list', 'SELECT 2') AS t(x int)"),
	'2', 'a host list with an unresolvable name connects to the next host');

# 3. An unresolvable name: the connect fails with libpq's message.
my ($out, $err) = psql_err($local,
	"SELECT pgpool_ext.acquire('bad', timeout => '3s')");
is(sqlstate($err), '53300', 'acquire on a pool whose host does not resolve times out');
like($err, qr/could not translate host name "nonexistent-pgpool\.invalid" to address/,
	'its detail says the host name did not resolve');

# 4. A pool whose host name would take minutes with a blocking lookup:
# the worker keeps serving the other pools.
my $s = session($local);
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('slow', 'host=$slow_name port=$port dbname=postgres', "
	  . "min_size => 1, max_size => 1, connect_timeout => '2s')");
ok( poll_until(
		'the slow pool tried to connect',
		sub {
			$local->safe_psql('postgres',
				"SELECT coalesce(last_connect_error, '') FROM pgpool_ext.pools "
				  . "WHERE pool_name = 'slow'") ne ''
			  || $local->safe_psql('postgres',
				"SELECT count(*) FROM pgpool_ext.connections WHERE pool_name = 'slow'") ne
			  '0';
		},
		30),
	'the pool with the slow name starts connecting');
start_query($s, "SELECT * FROM pgpool_ext.run('pb', 'SELECT 3') AS t(x int)");
my $done;
($done, $out, $err) = finish_query_within($s, 30);
ok($done, 'another pool serves while the slow name is being connected');
is($out, '3', 'with the right row');
ok( poll_until(
		'the slow pool reports its connect error',
		sub {
			$local->safe_psql('postgres',
				"SELECT coalesce(last_connect_error, '') FROM pgpool_ext.pools "
				  . "WHERE pool_name = 'slow'") =~ /host name/;
		},
		30),
	'the pool with the slow name reports a host name error');
is($local->safe_psql('postgres', "SELECT * FROM pgpool_ext.run('named', 'SELECT 4') AS t(x int)"),
	'4', 'the named pool still serves');

$s->quit;
$local->stop;
$ra->stop;
$rb->stop;
done_testing();
