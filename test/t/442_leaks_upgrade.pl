# The leak options on an installation not yet updated to 0.3: the library
# of 0.3 with schema 0.2 loads and defines pools without the leak columns
# (pgpool_ext.leak_threshold applies), refuses a leak option with 55000
# until ALTER EXTENSION UPDATE, and takes it afterwards.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = remote_node('remote');
my $local = local_node('local', create_extension => 0,
	conf => "pgpool_ext.leak_threshold = '1s'\n");
my $ci = conninfo_of($remote);

$local->safe_psql('postgres', "CREATE EXTENSION pgpool_ext VERSION '0.2'");
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('old', '$ci', max_size => 2)");
ok( $local->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pgpool_ext.pools WHERE pool_name = 'old'"),
	'0.2 schema: create_pool works, the pool is loaded');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('old', max_size => 3, "
	  . "options => '{\"leak_action\": \"report\"}')");
is($local->safe_psql('postgres', "SELECT max_size FROM pgpool_ext.pools"),
	'3', '0.2 schema: alter_pool works, a leak option at its default is accepted');
my ($out, $err) = psql_err($local,
	"SELECT pgpool_ext.alter_pool('old', options => '{\"leak_threshold\": \"5s\"}')");
like($err, qr/ERROR:  55000: pool option "leak_threshold" needs version 0\.3 of extension pgpool_ext/,
	'0.2 schema: a leak option refused with 55000');
like($err, qr/HINT:  Run ALTER EXTENSION pgpool_ext UPDATE\./, 'with a hint');

# The worker applies the GUC to a pool without the columns: the handle is
# still reported (the views come with 0.3: the log shows it).
my $logstart = -s $local->logfile;
my $s = session($local);
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('old', timeout => '10s')");
ok( poll_until('the WARNING', sub {
		slurp_file($local->logfile, $logstart) =~ /possible leak: handle $h of pool "old"/ }),
	'0.2 schema: pgpool_ext.leak_threshold applies');
sq_ok($s, "SELECT pgpool_ext.release($h)");

$local->safe_psql('postgres', "ALTER EXTENSION pgpool_ext UPDATE TO '0.3'");
is($local->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pgpool_ext'"),
	'0.3', 'updated to 0.3');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.alter_pool('old', options => '{\"leak_threshold\": \"0\"}')");
is( $local->safe_psql('postgres',
		"SELECT leak_threshold, leak_action FROM pgpool_ext.pool_definition"),
	'00:00:00|report', '0.3: the leak options are stored');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.leak_history WHERE handle = $h AND released_at IS NOT NULL"),
	'1', '0.3: leak_history shows the event of before the update (kept in shared memory)');

$s->quit;
$local->stop;
$remote->stop;
done_testing();
