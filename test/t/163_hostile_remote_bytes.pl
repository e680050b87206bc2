# A misbehaving remote sends bytes that are not valid UTF8 in its error
# messages: at startup (they land in libpq's connection error), and in
# answer to a query.  Every text pgpool_ext keeps or shows stays valid:
# last_connect_error, the 53300 detail and the server log show \xNN for
# the bad bytes, and the re-raised remote error keeps its SQLSTATE with
# its message and detail shown the same way.
#
# The remote is a small fake server (a forked Perl process speaking just
# enough of the protocol): database "fail" gets an ErrorResponse to its
# startup packet; database "ok" is accepted, and each query gets an
# ErrorResponse.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Read exactly $n bytes; undef at end of file.
sub read_n
{
	my ($c, $n) = @_;
	my $buf = '';
	while (length($buf) < $n)
	{
		my $r = sysread($c, $buf, $n - length($buf), length($buf));
		return undef unless $r;
	}
	return $buf;
}

# An ErrorResponse message with the given fields.
sub error_response
{
	my (@fields) = @_;
	my $body = '';
	while (my ($k, $v) = splice(@fields, 0, 2))
	{
		$body .= $k . $v . "\0";
	}
	$body .= "\0";
	return 'E' . pack('N', 4 + length($body)) . $body;
}

# One client connection of the fake server.
sub serve
{
	my ($c) = @_;
	my $params;
	while (1)
	{
		my $hdr = read_n($c, 8) // return;
		my ($len, $code) = unpack('NN', $hdr);
		my $rest = $len > 8 ? read_n($c, $len - 8) // return : '';
		if ($code == 80877103 || $code == 80877104)
		{
			syswrite($c, 'N');    # no SSL, no GSS encryption
			next;
		}
		$params = $rest;
		last;
	}
	my %p = split(/\0/, $params);
	if (($p{database} // '') ne 'ok')
	{
		syswrite($c,
			error_response(S => 'FATAL', V => 'FATAL', C => '28000',
				M => "no entry for role \xff\xfe here"));
		return;
	}
	syswrite($c, 'R' . pack('NN', 8, 0) . 'K' . pack('NNN', 12, 4242, 1)
		  . 'Z' . pack('N', 5) . 'I');
	while (1)
	{
		my $hdr = read_n($c, 5) // return;
		my ($type, $len) = unpack('aN', $hdr);
		read_n($c, $len - 4) // return if $len > 4;
		return if $type eq 'X';
		next unless $type eq 'Q';
		syswrite($c,
			error_response(S => 'ERROR', V => 'ERROR', C => '42P01',
				M => "relation \xff\xfe does not exist",
				D => "bad \xc3\x28 here",
				H => "caf\xc3\xa9 is fine, \xe2\x82\xac is not LATIN1")
			  . 'Z' . pack('N', 5) . 'I');
	}
}

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $listen = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => $port,
	Listen => 16,
	ReuseAddr => 1,
	Proto => 'tcp') or die "cannot listen on $port: $!";
my $server = fork() // die "fork: $!";
if ($server == 0)
{
	$SIG{CHLD} = 'IGNORE';
	while (my $c = $listen->accept)
	{
		my $child = fork();
		if (defined $child && $child == 0)
		{
			serve($c);
			exit 0;
		}
		close $c;
	}
	exit 0;
}
close $listen;
# the server must not outlive the test, even one that dies
END { kill 'KILL', $server if $server; }

my $local = local_node('local');
my $ci = "host=127.0.0.1 port=$port sslmode=disable gssencmode=disable user=x";
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('fail', '$ci dbname=fail', min_size => 1, max_size => 1);
	SELECT pgpool_ext.create_pool('ok', '$ci dbname=ok', max_size => 1);");

# (a) the startup error.
ok( $local->poll_query_until('postgres',
		"SELECT connect_failures > 0 FROM pgpool_ext.pools WHERE pool_name = 'fail'"),
	'the connection attempts fail');
my $last = $local->safe_psql('postgres',
	"SELECT last_connect_error FROM pgpool_ext.pools WHERE pool_name = 'fail'");
like($last, qr/no entry for role \\xff\\xfe here/,
	'last_connect_error shows the bad bytes as \xNN');
my ($out, $err) = psql_err($local,
	"SELECT convert_from(convert_to(last_connect_error, 'UTF8'), 'UTF8') = last_connect_error "
	  . "FROM pgpool_ext.pools WHERE pool_name = 'fail'");
is($out, 't', 'last_connect_error is valid UTF8');
($out, $err) = psql_err($local, "SELECT pgpool_ext.acquire('fail', timeout => '1s')");
is(sqlstate($err), '53300', 'acquire times out (53300)');
like($err, qr/DETAIL:.*no entry for role \\xff\\xfe here/s,
	'the 53300 detail shows the bad bytes as \xNN');

# (b) an error in answer to a query.
($out, $err) = psql_err($local,
	"SELECT * FROM pgpool_ext.run('ok', 'SELECT 1') AS t(x int)");
is(sqlstate($err), '42P01', 'the remote error keeps its SQLSTATE');
like($err, qr/relation \\xff\\xfe does not exist/, 'its message shows the bad bytes as \xNN');
like($err, qr/DETAIL:\s+bad \\xc3\( here/, 'its detail too');
like($err, qr/HINT:\s+caf\x{c3}\x{a9} is fine/, 'valid UTF8 is kept as it is');

# the same from a LATIN1 database: converted, or shown as \xNN
$local->safe_psql('postgres',
	"CREATE DATABASE llat ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
$local->safe_psql('llat', 'CREATE EXTENSION pgpool_ext');
($out, $err) = psql_err($local,
	"SET client_encoding = 'UTF8'; SELECT * FROM pgpool_ext.run('ok', 'SELECT 1') AS t(x int)",
	'llat');
is(sqlstate($err), '42P01', 'LATIN1 database: the remote error keeps its SQLSTATE');
like($err, qr/relation \\xff\\xfe does not exist/, 'LATIN1 database: bad bytes as \xNN');
like($err, qr/HINT:\s+caf\x{c3}\x{a9} is fine, \\xe2\\x82\\xac is not LATIN1/,
	'LATIN1 database: a character LATIN1 has is converted, one it lacks is shown as \xNN');

my $log = slurp_file($local->logfile);
like($log, qr/no entry for role \\xff\\xfe here/, 'the log shows the bad bytes as \xNN');
unlike($log, qr/[\xfe\xff]/, 'the log has none of the bad bytes');

$local->stop;
kill 'KILL', $server;
waitpid($server, 0);
$server = 0;
done_testing();
