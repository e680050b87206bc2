# Handles are capabilities of a role, not only of a backend.
#
# Pool 'su' connects as the remote superuser without a password; pool 'pw'
# as the remote role app with a password (reader has usage on it).  Checks:
# (a) handle numbers are not guessable (a random part per acquire);
# (b) a SECURITY DEFINER function that acquires and fails before release
#     leaves a handle its caller can neither find nor use, even knowing the
#     number;
# (c) a SECURITY DEFINER function owned by an untrusted role cannot use or
#     release the handles of its (superuser) caller;
# (d) SET ROLE: a handle is usable by its acquiring role and by roles that
#     have its privileges (superusers, members), by no one else;
# (e) usage and the password rule are checked again after revoke_usage and
#     for another role, and release still works;
# (f) one 08003 error, word for word, for a released handle, a number that
#     never existed, another session's handle and another role's handle;
# (g) transaction-scoped handles acquired by a SECURITY DEFINER function or
#     before SET LOCAL ROLE are released at the end of the transaction.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pw = 'HandlePass42';
my $remote = remote_node('remote', conf => "password_encryption = 'scram-sha-256'\n");
$remote->safe_psql('postgres', "CREATE ROLE app LOGIN PASSWORD '$pw'");
open my $hba, '>', $remote->data_dir . '/pg_hba.conf' or die $!;
print $hba "local all app scram-sha-256\nlocal all all trust\n";
close $hba;
$remote->reload;

my $local = local_node('local');
my $ci_su = conninfo_of($remote);
my $ci_pw = conninfo_of($remote, user => 'app', password => $pw);
$local->safe_psql('postgres', "
	SELECT pgpool_ext.create_pool('su', '$ci_su', min_size => 0, max_size => 4);
	SELECT pgpool_ext.create_pool('pw', '$ci_pw', min_size => 0, max_size => 4);
	CREATE ROLE reader LOGIN;
	CREATE ROLE reader_member LOGIN IN ROLE reader;
	CREATE ROLE other LOGIN;
	CREATE ROLE mallory LOGIN;
	CREATE ROLE admin SUPERUSER;
	CREATE ROLE admin_member LOGIN IN ROLE admin;
	SELECT pgpool_ext.grant_usage('pw', 'reader');
	SELECT pgpool_ext.grant_usage('pw', 'other');
	SELECT pgpool_ext.grant_usage('su', 'admin_member');");

# Error lines a caller sees for a bad handle (VERBOSITY verbose: the
# SQLSTATE, the message, any DETAIL/HINT and the LOCATION), the handle
# number replaced by N.
sub handle_error
{
	my ($err) = @_;
	my @lines = map { s/^psql:[^:]*:\d+: //r } split /\r?\n/, $err;
	@lines = grep { /^(ERROR|DETAIL|HINT|LOCATION):/ } @lines;
	my $text = join("\n", @lines);
	$text =~ s/handle -?\d+/handle N/g;
	return $text;
}

# (a) a random part per acquire.
my $s = session($local);
my @handles;
for my $i (1 .. 20)
{
	my $h = sq_ok($s, "SELECT pgpool_ext.acquire('pw', timeout => '20s')");
	push @handles, $h;
	if ($i == 1)
	{
		is( sq_ok($s,
				"SELECT c.slot = ($h & 65535) FROM pgpool_ext.connections c "
				  . "WHERE c.holder_pid = pg_backend_pid()"),
			't', 'the slot is in the low 16 bits of the handle');
	}
	sq_ok($s, "SELECT pgpool_ext.release($h)");
}
my %seen = map { $_ => 1 } @handles;
is(scalar(keys %seen), 20, '20 acquires: 20 different handle numbers');
is(scalar(grep { $_ <= 0 } @handles), 0, 'every handle is a positive bigint');
is(scalar(grep { ($_ >> 16) < 1_000_000 } @handles), 0,
	'no handle has a small counter above the slot bits (a random part instead)');
note "handles: @handles";

# (b) a SECURITY DEFINER function acquires on 'su' and fails before
# release: its caller cannot find or use the handle left behind.
$local->safe_psql('postgres', q{
	CREATE FUNCTION leaky() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog AS $$
	BEGIN
		PERFORM pgpool_ext.acquire('su', timeout => '20s');
		RAISE EXCEPTION 'leaky failed';
	END $$;
	GRANT EXECUTE ON FUNCTION leaky() TO reader;
	CREATE FUNCTION guess(maxgen int) RETURNS text LANGUAGE plpgsql AS $$
	DECLARE
		r text;
	BEGIN
		FOR slot IN 0..7 LOOP
			FOR gen IN 1..maxgen LOOP
				BEGIN
					SELECT x INTO r FROM pgpool_ext.query((gen::bigint << 16) | slot,
						'SELECT current_user::text') AS t(x text);
					RETURN r;
				EXCEPTION WHEN SQLSTATE '08003' THEN
					NULL;
				END;
			END LOOP;
		END LOOP;
		RETURN 'not found';
	END $$;
	GRANT EXECUTE ON FUNCTION guess(int) TO reader;});
my $r = session($local);
sq_ok($r, 'SET ROLE reader');
my ($out, $err) = sq($r, 'SELECT leaky()');
like($err, qr/leaky failed/, 'leaky() failed after acquiring');
my $leaked = $local->safe_psql('postgres',
	"SELECT handle FROM pgpool_ext.handles WHERE pool_name = 'su'");
like($leaked, qr/^\d+$/, 'leaky() left a handle of pool su in the session');
is(sq_ok($r, 'SELECT guess(200)'), 'not found',
	'caller: guessing handle numbers finds nothing');
($out, $err) = sq($r,
	"SELECT * FROM pgpool_ext.query($leaked, 'SELECT current_user::text') AS t(x text)");
is(sqlstate($err), '08003', 'caller: the leaked handle, number known, is refused (08003)');
isnt($out, 'postgres', 'caller: no SQL ran as the remote superuser');
my $err_other_role = handle_error($err);
($out, $err) = sq($r, "SELECT pgpool_ext.release($leaked)");
is(sqlstate($err), '08003', 'caller: cannot release it either (08003)');
is(handle_error($err), $err_other_role, 'release: the same error as query');

# (c) an untrusted role's SECURITY DEFINER function, called by a superuser.
$local->safe_psql('postgres', q{
	CREATE FUNCTION evil(h bigint) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
	DECLARE
		r text;
	BEGIN
		SELECT x INTO r FROM pgpool_ext.query(h, 'SELECT current_user::text') AS t(x text);
		RETURN r;
	END $$;
	CREATE FUNCTION evil_release(h bigint) RETURNS void LANGUAGE sql SECURITY DEFINER
	AS $$ SELECT pgpool_ext.release(h) $$;
	ALTER FUNCTION evil(bigint) OWNER TO mallory;
	ALTER FUNCTION evil_release(bigint) OWNER TO mallory;});
my $h = sq_ok($s, "SELECT pgpool_ext.acquire('su', timeout => '20s')");
($out, $err) = sq($s, "SELECT evil($h)");
is(sqlstate($err), '08003', 'mallory\'s SECURITY DEFINER function cannot use the caller\'s handle');
isnt($out, 'postgres', 'no SQL ran as the remote superuser for mallory');
is(handle_error($err), $err_other_role, 'the same error as any other bad handle');
($out, $err) = sq($s, "SELECT evil_release($h)");
is(sqlstate($err), '08003', 'nor release it');
is(sq_ok($s, "SELECT * FROM pgpool_ext.query($h, 'SELECT current_user::text') AS t(x text)"),
	'postgres', 'the caller\'s handle still works for the caller');

# (d) SET ROLE.
sq_ok($s, 'SET ROLE reader');
($out, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
is(sqlstate($err), '08003', 'SET ROLE reader: the superuser\'s handle is refused');
($out, $err) = sq($s, "SELECT pgpool_ext.release($h)");
is(sqlstate($err), '08003', 'SET ROLE reader: and cannot be released');
my $hr = sq_ok($s, "SELECT pgpool_ext.acquire('pw', timeout => '20s')");
is(sq_ok($s, "SELECT pgpool_ext.execute($hr, 'SELECT 1')"), 'SELECT 1',
	'reader uses its own handle');
sq_ok($s, 'RESET ROLE');
is(sq_ok($s, "SELECT pgpool_ext.execute($h, 'SELECT 1')"), 'SELECT 1',
	'RESET ROLE: the superuser\'s handle works again');
is(sq_ok($s, "SELECT pgpool_ext.execute($hr, 'SELECT 1')"), 'SELECT 1',
	'a superuser may use reader\'s handle');
sq_ok($s, 'SET ROLE reader_member');
is(sq_ok($s, "SELECT pgpool_ext.execute($hr, 'SELECT 1')"), 'SELECT 1',
	'a member of reader may use reader\'s handle');
sq_ok($s, 'SET ROLE other');
($out, $err) = sq($s, "SELECT pgpool_ext.execute($hr, 'SELECT 1')");
is(sqlstate($err), '08003', 'another role with usage on the pool may not use reader\'s handle');
is(handle_error($err), $err_other_role, 'the same error');
sq_ok($s, 'RESET ROLE');
sq_ok($s, "SELECT pgpool_ext.release($hr)");

# (e) the password rule for another role: admin (superuser) acquires on
# 'su' (no password); admin_member has admin's privileges and usage on
# 'su', but is no superuser.
sq_ok($s, 'SET ROLE admin');
my $ha = sq_ok($s, "SELECT pgpool_ext.acquire('su', timeout => '20s')");
sq_ok($s, 'SET ROLE admin_member');
($out, $err) = sq($s, "SELECT * FROM pgpool_ext.query($ha, 'SELECT current_user::text') AS t(x text)");
is(sqlstate($err), '42501',
	'a non-superuser member of a superuser role: password rule applies (42501)');
like($err, qr/password is required/, 'the error says a password is required');
isnt($out, 'postgres', 'no SQL ran as the remote superuser for admin_member');
sq_ok($s, 'SET ROLE admin');
sq_ok($s, "SELECT pgpool_ext.release($ha)");
sq_ok($s, 'RESET ROLE');

# (e) revoke_usage while a handle is held.
sq_ok($r, 'RESET ROLE');
sq_ok($r, 'SET ROLE reader');
$hr = sq_ok($r, "SELECT pgpool_ext.acquire('pw', timeout => '20s')");
is(sq_ok($r, "SELECT pgpool_ext.execute($hr, 'SELECT 1')"), 'SELECT 1',
	'reader uses pw before the revoke');
$local->safe_psql('postgres', "SELECT pgpool_ext.revoke_usage('pw', 'reader')");
($out, $err) = sq($r, "SELECT pgpool_ext.execute($hr, 'SELECT 1')");
is(sqlstate($err), '42501', 'after revoke_usage: the held handle is refused (42501)');
like($err, qr/permission denied for pool "pw"/, 'the error names the pool');
($out, $err) = sq($r, "SELECT pgpool_ext.release($hr)");
is($err, '', 'after revoke_usage: release still works');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE pool_name = 'pw'"),
	'0', 'no handle of pw left');

# (f) one error for every kind of bad handle.
$h = sq_ok($s, "SELECT pgpool_ext.acquire('pw', timeout => '20s')");
sq_ok($s, "SELECT pgpool_ext.release($h)");
($out, $err) = sq($s, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
my $err_released = handle_error($err);
($out, $err) = sq($s, "SELECT pgpool_ext.execute(123456789, 'SELECT 1')");
my $err_never = handle_error($err);
$h = sq_ok($s, "SELECT pgpool_ext.acquire('pw', timeout => '20s')");
my $s2 = session($local);
($out, $err) = sq($s2, "SELECT pgpool_ext.execute($h, 'SELECT 1')");
my $err_session = handle_error($err);
like($err_released, qr/^ERROR:  08003: invalid pgpool_ext handle N$/m,
	'released handle: 08003 "invalid pgpool_ext handle"');
unlike($err_released, qr/DETAIL|HINT/, 'no detail or hint');
is($err_never, $err_released, 'a number that never existed: the same error');
is($err_session, $err_released, 'another session\'s handle: the same error');
is($err_other_role, $err_released, 'another role\'s handle: the same error');
sq_ok($s, "SELECT pgpool_ext.release($h)");

# (g) transaction-scoped handles: one acquired by a SECURITY DEFINER
# function is bound to the function owner and released at the end of the
# caller's transaction, commit or abort, whatever the current role then.
$local->safe_psql('postgres', q{
	CREATE FUNCTION xact_acquire(fail boolean) RETURNS bigint LANGUAGE plpgsql
	SECURITY DEFINER SET search_path = pg_catalog AS $$
	DECLARE
		h bigint;
	BEGIN
		h := pgpool_ext.acquire('su', timeout => '20s', scope => 'transaction');
		IF fail THEN
			RAISE EXCEPTION 'xact_acquire failed';
		END IF;
		RETURN h;
	END $$;
	GRANT EXECUTE ON FUNCTION xact_acquire(boolean) TO reader;});
sq_ok($r, 'BEGIN');
my $hx = sq_ok($r, 'SELECT xact_acquire(false)');
is( $local->safe_psql('postgres',
		"SELECT role || ' ' || scope FROM pgpool_ext.handles WHERE handle = $hx"),
	'postgres transaction', 'the handle is bound to the function owner, scope transaction');
($out, $err) = sq($r, "SELECT pgpool_ext.execute($hx, 'SELECT 1')");
is(sqlstate($err), '08003', 'the caller (reader) cannot use it');
sq($r, 'COMMIT');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE pool_name = 'su' AND scope = 'transaction'"),
	'0', 'released at the caller\'s commit');
($out, $err) = sq($r, 'SELECT xact_acquire(true)');
like($err, qr/xact_acquire failed/, 'xact_acquire(true) fails after acquiring');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE pool_name = 'su' AND scope = 'transaction'"),
	'0', 'released at the abort');
sq_ok($s, 'BEGIN');
$hx = sq_ok($s, "SELECT pgpool_ext.acquire('su', timeout => '20s', scope => 'transaction')");
sq_ok($s, 'SET LOCAL ROLE reader');
($out, $err) = sq($s, "SELECT pgpool_ext.execute($hx, 'SELECT 1')");
is(sqlstate($err), '08003', 'SET LOCAL ROLE reader: the superuser\'s transaction handle is refused');
sq($s, 'COMMIT');
is( $local->safe_psql('postgres',
		"SELECT count(*) FROM pgpool_ext.handles WHERE pool_name = 'su' AND scope = 'transaction'"),
	'0', 'released at commit (the transaction had failed: rolled back)');

$s->quit;
$s2->quit;
$r->quit;
$local->stop;
$remote->stop;
done_testing();
