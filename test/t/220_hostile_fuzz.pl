# Hostile users: a seeded fuzz of the whole SQL surface.
#
# Several sessions (superusers and a role with only usage, in a database
# other than pgpool_ext.database, plus one superuser in pgpool_ext.database
# that also defines, alters and drops pools) each run a random batch of
# calls per round, all at once: acquire / release / query / query_json /
# execute / run with random and hostile arguments (NULLs, empty and huge
# strings, odd Unicode, negative and huge intervals, bogus priorities,
# scopes and partitions, forged handles: random bigints, 0, -1, 2^63-1,
# other sessions' handles, released ones, a generation or slot bit
# flipped), params arrays with NULLs, 2-D arrays, odd bounds, 70,000
# elements; remote SQL that errors, COPY, multi-statements, empty
# statements, remote transactions and savepoints, notice floods, a remote
# connection that kills itself; local transactions with transaction-scoped
# handles, savepoints, aborts, PREPARE TRANSACTION, PL/pgSQL exception
# blocks; cancels (statement_timeout, pg_cancel_backend from another
# session, of the pool worker) in the middle of waits and remote queries;
# domains whose CHECK makes requests, releases or acquires in query()'s
# column list; remote session settings (encodings, DateStyle...); local
# role, search_path and client_encoding changes; pools created, altered,
# re-pointed and dropped (with force) while in use.  In some rounds one
# session's backend is terminated in the middle of its batch.
#
# Checked as the statements run: a value sent as a parameter comes back as
# sent (never another query's), no password in any output.  After each
# round every session ends its transaction (its transaction handles must
# be gone), releases what it still holds (it must then hold nothing), and
# the invariants are checked: handles and waiters views empty; per pool
# in_use 0, waiting 0, total = idle + connecting = rows of the connections
# view, total <= max_size; per pool, remote backends in its database <=
# max_size and eventually equal to its connections; the server log has no
# crash, PANIC or worker exit, and no password.
#
# Every error must carry an expected SQLSTATE: the README's error table,
# the standard ones a statement can cause by itself (22xxx type input, 57014
# cancel, 25P02 aborted transaction, ...), or, for an error with the
# context "remote SQL command", whatever the remote server said (except
# XX and 58 classes).  Anything else (XX000 from elog, 08P01, an error
# without SQLSTATE, a lost session) is collected with the statement that
# caused it, and the test fails listing them all.
#
# Environment: FUZZ_SEED (default: random, printed) replays the same
# statements; FUZZ_ROUNDS (default 8) and FUZZ_STMTS (statements per
# session and round, default 18) make it longer.  Through test/check.sh
# they are make arguments (test/t/README.hostile).  The default size runs
# in about a minute on a busy 2-core machine.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use PgpoolTAP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seed = $ENV{FUZZ_SEED} // (int(rand(2**31)) ^ $$);
my $rounds = $ENV{FUZZ_ROUNDS} // 8;
my $nstmts = $ENV{FUZZ_STMTS} // 18;
diag "FUZZ_SEED=$seed FUZZ_ROUNDS=$rounds FUZZ_STMTS=$nstmts";
srand($seed);

my $secret = 'FzSecret4242';
my $wrong_secret = 'FzWrong7777';
my $token = 0;    # numbers the values sent to be checked

# ---------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------
my $remote = remote_node('remote',
	conf => "password_encryption = 'scram-sha-256'\nmax_connections = 60\n");
$remote->safe_psql('postgres', "CREATE ROLE app LOGIN PASSWORD '$secret'");
open my $hba, '>', $remote->data_dir . '/pg_hba.conf' or die $!;
print $hba "local all postgres trust\nlocal all all scram-sha-256\n";
close $hba;
$remote->reload;
foreach my $db (qw(fz1 fz2db fz3))
{
	$remote->safe_psql('postgres',
		"CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
	$remote->safe_psql($db,
		'CREATE TABLE fz_t (x int); GRANT ALL ON fz_t TO PUBLIC; '
		  . 'GRANT CREATE ON SCHEMA public TO PUBLIC');
}

my $local = local_node('local',
	conf => "pgpool_ext.max_partitions = 12\n"
	  . "pgpool_ext.max_connections = 16\n"
	  . "pgpool_ext.acquire_timeout = '200ms'\n"
	  . "max_prepared_transactions = 4\n"
	  . "log_min_error_statement = panic\n"
	  . "log_statement = none\n"
	  # a crash is reported, and the fuzz goes on after it
	  . "restart_after_crash = on\n");
my $ci_fz = conninfo_of($remote) =~ s/dbname=postgres/dbname=fz1/r;
my $ci_fz2 = conninfo_of($remote) =~ s/dbname=postgres/dbname=fz2db/r;
my $ci_fzp = conninfo_of($remote, user => 'app', password => $secret)
  =~ s/dbname=postgres/dbname=fz3/r;
my $ci_tmp = conninfo_of($remote);

# The pools the sessions use.  Only fz2 is changed (or dropped) by the
# fuzz; it is put back after each round.
my %base = (
	fz => "'$ci_fz', min_size => 1, max_size => 6, password_required => false",
	fz2 => "'$ci_fz2', min_size => 0, max_size => 4, password_required => false",
	fzp => "'$ci_fzp', min_size => 0, max_size => 2");
my %remote_db = (fz => 'fz1', fz2 => 'fz2db', fzp => 'fz3');
$local->safe_psql('postgres',
	"SELECT pgpool_ext.create_pool('$_', $base{$_})") for sort keys %base;

$local->safe_psql('postgres', q{
	CREATE ROLE fz_user LOGIN;
	GRANT pg_read_all_stats TO fz_user;
	SELECT pgpool_ext.grant_usage('fz', 'fz_user');
	SELECT pgpool_ext.grant_usage('fzp', 'fz_user');
	CREATE DATABASE fzdb TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C';
});

# Objects the fuzz uses, in both local databases.
my $objects = q{
	CREATE EXTENSION IF NOT EXISTS pgpool_ext;
	-- a domain whose CHECK makes a request of its own (through run)
	CREATE FUNCTION fz_reenter(int) RETURNS bool LANGUAGE plpgsql AS $f$
	BEGIN
		PERFORM * FROM pgpool_ext.run('fz', 'SELECT 1', NULL, '50ms') AS t(x int);
		RETURN true;
	END $f$;
	CREATE DOMAIN fz_dom AS int CHECK (fz_reenter(VALUE));
	-- a domain whose CHECK uses the session's own handle
	CREATE FUNCTION fz_reenter_h(int) RETURNS bool LANGUAGE plpgsql AS $f$
	BEGIN
		PERFORM pgpool_ext.execute(h, 'SELECT 1')
		   FROM (SELECT handle AS h FROM pgpool_ext.handles
				  WHERE holder_pid = pg_backend_pid() LIMIT 1) s;
		RETURN true;
	END $f$;
	CREATE DOMAIN fz_domh AS int CHECK (fz_reenter_h(VALUE));
	-- domains whose CHECK releases every handle of the session, or
	-- acquires one, in the middle of a result
	CREATE FUNCTION fz_release_all(text) RETURNS bool LANGUAGE plpgsql AS $f$
	BEGIN
		PERFORM pgpool_ext.release(handle) FROM pgpool_ext.handles
		  WHERE holder_pid = pg_backend_pid();
		RETURN true;
	END $f$;
	CREATE DOMAIN fz_domr AS text CHECK (fz_release_all(VALUE));
	CREATE FUNCTION fz_acquire_one(text) RETURNS bool LANGUAGE plpgsql AS $f$
	BEGIN
		PERFORM pgpool_ext.acquire('fz', '50ms');
		RETURN true;
	END $f$;
	CREATE DOMAIN fz_doma AS text CHECK (fz_acquire_one(VALUE));
	CREATE DOMAIN fz_pos AS int CHECK (VALUE > 0);
	CREATE TYPE fz_comp AS (a int, b text);
};
$local->safe_psql($_, $objects) for qw(postgres fzdb);

# ---------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------
# Every session starts with statement_timeout 5s (RESET returns to it), so
# that no random statement waits long; a statement that outlives it is a
# cancel that did not work.
my @sess_def = (
	{ name => 'admin', db => 'postgres', user => undef,     admin => 1 },
	{ name => 's1',    db => 'fzdb',     user => undef },
	{ name => 's2',    db => 'fzdb',     user => undef },
	{ name => 'user',  db => 'fzdb',     user => 'fz_user', nonsuper => 1 });

# Start (or restart) session $i.
sub open_session
{
	my ($i) = @_;
	my $d = $sess_def[$i];
	local $ENV{PGOPTIONS} = '-c statement_timeout=5s';
	my $s = session_as($local, $d->{db}, $d->{user});
	sq_ok($s, 'CREATE TEMP TABLE fz_seen (h bigint)');
	$d->{pid} = sq_ok($s, 'SELECT pg_backend_pid()');
	$d->{s} = $s;
	return;
}
open_session($_) for 0 .. $#sess_def;

# ---------------------------------------------------------------------
# Random SQL
# ---------------------------------------------------------------------
sub pick { return $_[ int(rand(@_)) ] }

# Weighted pick: (weight, value, weight, value...).  A code value is called.
sub wpick
{
	my @l = @_;
	my $total = 0;
	for (my $i = 0; $i < @l; $i += 2) { $total += $l[$i] }
	my $r = rand($total);
	for (my $i = 0; $i < @l; $i += 2)
	{
		if ($r < $l[$i])
		{
			my $v = $l[ $i + 1 ];
			return ref($v) eq 'CODE' ? $v->() : $v;
		}
		$r -= $l[$i];
	}
	die 'unreachable';
}

# A SQL string literal.
sub lit
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/'/''/g;
	return "'$s'";
}

my @odd_text = (
	"''", "' '", 'NULL', "repeat('z', 200000)", "chr(8203)",
	"'fz' || chr(8203)", "chr(128512) || chr(917505)", "repeat(chr(233), 70)",
	"'FZ'", "' fz'", "'fz' || chr(10)", "'\"fz\"'", "'fz;drop'",
	"'%s%n%x'", "'public'", "repeat('k', 63)", "repeat('k', 64)",
	"repeat('k', 1000)");

sub pool_expr
{
	my ($nonsuper) = @_;
	return wpick(
		40 => "'fz'",
		12 => "'fz2'",
		$nonsuper ? 6 : 3 => "'fzp'",
		4 => sub { lit('fzt' . (1 + int(rand(3)))) },
		2 => "'nosuch'",
		5 => sub { pick(@odd_text) });
}

sub interval_expr
{
	return wpick(
		10 => 'NULL',
		20 => sub { lit(pick('1ms', '10ms', '50ms', '100ms', '150ms', '0.5ms')) . '::interval' },
		6 => sub {
			lit(pick('-1s', '-100 years', '-178000000 years', '0.000001s',
				'-0.5ms', '-2147483648 days', '-9223372036854775807 us'))
			  . '::interval';
		},
		1 => "'abc'::interval");
}

# Timeouts that may wait long: only used under a small statement_timeout.
sub long_interval_expr
{
	return lit(pick('0', '1h', '178000000 years', '2147483647 days',
			'9223372036854775807 us', '1 month', '24 days 20:31:24'))
	  . '::interval';
}

sub priority_expr
{
	return wpick(
		20 => sub { lit(pick('low', 'normal', 'high', 'critical')) },
		4 => sub { pick('NULL', "''", "'NORMAL'", "'urgent'", "repeat('h', 100000)",
				"'normal' || chr(0x301)", "'high '") });
}

sub partition_expr
{
	return wpick(
		20 => 'NULL',
		12 => sub { lit(pick('a', 'b', 'c')) },
		2 => sub { lit('k' . int(rand(40))) },
		4 => sub { pick(@odd_text) });
}

sub scope_expr
{
	return wpick(
		12 => "'session'",
		10 => "'transaction'",
		3 => sub { pick('NULL', "''", "'SESSION'", "'global'", "'transaction '",
				"repeat('s', 5000)") });
}

# A handle: mostly one this session holds; sometimes someone else's, a
# released one, one with a bit flipped, or a constant.
sub handle_expr
{
	my $mine = 'FROM pgpool_ext.handles WHERE holder_pid = pg_backend_pid()';
	my $k = int(rand(3));
	return wpick(
		50 => "(SELECT handle $mine ORDER BY handle LIMIT 1 "
		  . "OFFSET $k % greatest(1, (SELECT count(*) $mine)))",
		6 => "(SELECT handle FROM pgpool_ext.handles "
		  . "WHERE holder_pid <> pg_backend_pid() ORDER BY handle LIMIT 1 OFFSET $k)",
		8 => "(SELECT h FROM fz_seen ORDER BY h DESC LIMIT 1 OFFSET $k)",
		4 => sub {
			my $op = pick('# 1', '# 32768', '# 65536', '+ 65536', '- 65536',
				'# (1::bigint << 62)', '* -1', '# 2');
			return "(SELECT handle $op $mine ORDER BY handle LIMIT 1)";
		},
		5 => sub {
			pick('0', '-1', '1', '65535', '65536', '9223372036854775807',
				'(-9223372036854775807 - 1)', 'NULL',
				sprintf('%d', int(rand(2**31)) * 65536 + int(rand(64))),
				sprintf('%d', -int(rand(2**31)) * 65536));
		});
}

# Remote SQL, as a SQL expression.
sub remote_sql_expr
{
	return wpick(
		30 => sub {
			lit(pick(
				'SELECT 1', 'SELECT 1, 2', "SELECT 'a'::text, NULL", 'SELECT NULL',
				'SELECT generate_series(1, 3000)', "SELECT repeat('x', 100000)",
				'SELECT pg_backend_pid()', 'SELECT chr(128512)',
				"SELECT '{1,2}'::int[]", "SELECT row(1, 'x')", 'SELECT 1 AS a, 2 AS a',
				'SELECT * FROM generate_series(1, 0)', "SELECT '\\x00ff'::bytea",
				"SELECT 'nan'::float8, 1e300::float8 * 10", 'SELECT now()',
				"SELECT '{\"a\": [1, 2]}'::jsonb, true", 'SELECT pg_sleep(0.01)',
				'INSERT INTO fz_t VALUES (1)', 'DELETE FROM fz_t',
				'SELECT count(*) FROM fz_t', "SELECT repeat('x', 3000000)",
				'SELECT ' . join(', ', 1 .. 1500)));
		},
		10 => sub {
			lit(pick(
				'SELECT 1/0', 'SELEC 1', 'SELECT * FROM nosuch', 'SELECT nosuch()',
				"DO \$\$BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = '22023', "
				  . "DETAIL = 'd', HINT = 'h'; END\$\$",
				"SELECT 'x'::int", "SELECT repeat('x', 2000000000)"));
		},
		10 => sub {
			lit(pick(
				'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT s', 'ROLLBACK TO SAVEPOINT s',
				'RELEASE SAVEPOINT s', 'BEGIN ISOLATION LEVEL SERIALIZABLE',
				'SET statement_timeout = 30', "SET search_path = nowhere", 'RESET ALL',
				'CREATE TEMP TABLE IF NOT EXISTS tt (x int)', 'LISTEN fz', 'NOTIFY fz',
				'PREPARE fzp AS SELECT 1', 'EXECUTE fzp', 'DEALLOCATE ALL',
				"SELECT set_config('application_name', 'fz', false)",
				'DISCARD ALL', 'PREPARE TRANSACTION \'fzr\''));
		},
		# remote session settings that change how values come back
		6 => sub {
			lit(pick(
				"SET client_encoding = 'LATIN1'", "SET client_encoding = 'SQL_ASCII'",
				"SET client_encoding = 'EUC_JP'", "SET client_encoding = 'UTF8'",
				"SET datestyle = 'German, DMY'", "SET intervalstyle = 'sql_standard'",
				'SET extra_float_digits = -15', "SET bytea_output = 'escape'",
				"SET TimeZone = 'Asia/Kathmandu'", 'SET standard_conforming_strings = off',
				"SELECT now()::text, '1 day 2 hours'::interval, 1.5::float8, '\\x01'::bytea",
				"SELECT 'é' || chr(128512)"));
		},
		10 => sub {
			lit(pick(
				'', ';', '   ', '-- nothing', 'SELECT 1; SELECT 2', 'SELECT 1; SELECT 1/0',
				'BEGIN; SELECT 1/0', 'SELECT 1;;SELECT 2', 'COPY (SELECT 1) TO STDOUT',
				'COPY fz_t FROM STDIN', 'COPY fz_t TO STDOUT', 'SELECT 1; COPY fz_t TO STDOUT',
				"DO \$\$BEGIN RAISE NOTICE 'n'; END\$\$",
				"DO \$\$BEGIN FOR i IN 1..2000 LOOP RAISE NOTICE 'n %', i; END LOOP; END\$\$",
				"DO \$\$BEGIN RAISE WARNING 'w'; END\$\$", 'SELECT $1', 'SELECT $1::int',
				'SELECT $1, $2', 'SELECT $2', 'SELECT $1; SELECT 2'));
		},
		1 => sub { lit('SELECT pg_terminate_backend(pg_backend_pid())') },
		1 => sub { "'SELECT 1 --' || repeat('x', 67108864)" },
		1 => sub { "'SELECT ''' || repeat(chr(233), 1000000) || ''''" },
		1 => 'NULL');
}

sub params_expr
{
	return wpick(
		20 => '',
		6 => ', NULL',
		8 => sub {
			', '
			  . pick("'{}'::text[]", "ARRAY['1']", "ARRAY[NULL]::text[]",
				"ARRAY['1', NULL]", "'{{1,2},{3,4}}'::text[]", "'[2:3]={a,b}'::text[]",
				"ARRAY['a', 'b', 'c']", "ARRAY[chr(128512)]", "'{{}}'::text[]",
				"array_fill('1'::text, ARRAY[0])", "ARRAY[repeat('y', 1000000)]");
		},
		1 => ", (SELECT array_agg(i::text) FROM generate_series(1, 70000) i)");
}

sub coldef
{
	return wpick(
		20 => sub { pick('t(a int)', 't(a text)', 't(a int, b int)', 't(a text, b text)') },
		6 => sub {
			pick('t(a text, b text, c text)', 't(a fz_pos)', 't(a int[])', 't(a jsonb)',
				't(a bytea)', 't(a varchar(2))', 't(a numeric(2,0))', 't(a timestamptz)',
				't(a fz_comp)', 't(a char(1), b text)', 't(a bool)', 't(a int2)');
		},
		2 => sub { pick('t(a fz_dom)', 't(a fz_domh)') });
}

# One random statement (or a few that belong together) for session $d.
# Returns a list of statements.
sub random_statements
{
	my ($d) = @_;
	my $ns = $d->{nonsuper};
	my $h = handle_expr();
	my $sql = remote_sql_expr();
	my $par = params_expr();
	my @ops = (
		10 => sub {
			('INSERT INTO fz_seen SELECT pgpool_ext.acquire('
				  . wpick(6 => "'fz'", 2 => "'fz2'", ($ns ? 2 : 0) => "'fzp'")
				  . ", '300ms'"
				  . wpick(3 => '', 1 => ", scope => 'transaction'", 1 => ", partition => 'a'")
				  . ')');
		},
		16 => sub {
			my $call = 'pgpool_ext.acquire(' . pool_expr($ns);
			my $n = int(rand(5));
			$call .= ', ' . interval_expr() if $n >= 1;
			$call .= ', ' . priority_expr() if $n >= 2;
			$call .= ', ' . partition_expr() if $n >= 3;
			$call .= ', ' . scope_expr() if $n >= 4;
			if (rand() < 0.3)
			{
				my @named = ("timeout => " . interval_expr(), "priority => " . priority_expr(),
					"partition => " . partition_expr(), "scope => " . scope_expr());
				$call = 'pgpool_ext.acquire(' . pool_expr($ns) . ', ' . pick(@named);
			}
			return ("INSERT INTO fz_seen SELECT $call)");
		},
		6 => sub { ("SELECT pgpool_ext.release($h)") },
		# a result that must come back as sent: never another query's
		10 => sub {
			my $tok = 'tok' . ++$token;
			my $type = wpick(10 => 'text', 1 => 'fz_domr', 1 => 'fz_doma');
			my $mine = 'FROM pgpool_ext.handles WHERE holder_pid = pg_backend_pid()';
			my $src = wpick(
				7 => "pgpool_ext.query((SELECT min(handle) $mine), 'SELECT \$1', ARRAY['$tok'])",
				3 => 'pgpool_ext.run(' . wpick(3 => "'fz'", 1 => "'fz2'", 1 => "'fzp'")
				  . ", 'SELECT \$1', ARRAY['$tok'], '300ms')");
			return ("SELECT CASE WHEN a = '$tok' THEN 'match' ELSE 'MISMATCH ' || "
				  . "coalesce(a, 'NULL') || ' for $tok' END FROM $src AS t(a $type)");
		},
		# well-formed remote work on a handle held, with the right columns
		12 => sub {
			my ($rsql, $cols, $p) = @{ pick(
				[ 'SELECT 1', 't(a int)' ],
				[ "SELECT 'a'::text, NULL", 't(a text, b text)' ],
				[ 'SELECT generate_series(1, 3000)', 't(a int)' ],
				[ 'SELECT $1::int + 1', 't(a int)', "ARRAY['41']" ],
				[ 'SELECT $1, $2', 't(a text, b text)', "ARRAY[NULL, chr(128512)]" ],
				[ "SELECT repeat('x', 100000)", 't(a text)' ],
				[ 'SELECT chr(128512) || chr(233)', 't(a text)' ],
				[ 'SELECT 1 AS a, 2 AS a', 't(a int, b int)' ],
				[ 'SELECT count(*) FROM fz_t', 't(a bigint)' ],
				[ 'SELECT 1', 't(a fz_dom)' ],
				[ 'SELECT 2', 't(a fz_domh)' ],
				[ 'SELECT -1', 't(a fz_pos)' ],
				[ "SELECT '(1,x)'", 't(a fz_comp)' ]) };
			my $par2 = defined $p ? ", $p" : '';
			my $mine = 'FROM pgpool_ext.handles WHERE holder_pid = pg_backend_pid()';
			return ("SELECT * FROM pgpool_ext.query((SELECT min(handle) $mine), "
				  . lit($rsql) . "$par2) AS $cols")
			  if rand() < 0.7;
			return ('SELECT * FROM pgpool_ext.run(' . pool_expr($ns) . ', '
				  . lit($rsql) . ($par2 eq '' ? '' : $par2) . ") AS $cols");
		},
		14 => sub {
			my $form = rand();
			return ("SELECT * FROM pgpool_ext.query($h, $sql$par) AS " . coldef())
			  if $form < 0.85;
			return ("SELECT pgpool_ext.query($h, $sql$par)") if $form < 0.92;
			return ("SELECT * FROM pgpool_ext.query($h, $sql$par)");
		},
		6 => sub { ("SELECT count(*), max(length(j::text)) FROM pgpool_ext.query_json($h, $sql$par) j") },
		8 => sub { ("SELECT pgpool_ext.execute($h, $sql$par)") },
		6 => sub {
			my $to = rand() < 0.5 ? '' : ', timeout => ' . interval_expr();
			my $p = $par eq '' && $to ne '' ? ', NULL' : $par;
			return ('SELECT * FROM pgpool_ext.run(' . pool_expr($ns)
				  . ", $sql$p$to) AS " . coldef());
		},
		9 => sub {
			(pick('BEGIN', 'BEGIN', 'COMMIT', 'COMMIT', 'ROLLBACK', 'SAVEPOINT fz',
				'ROLLBACK TO SAVEPOINT fz', 'RELEASE SAVEPOINT fz', 'SELECT 1/0', 'END', 'ABORT'));
		},
		# a cancel in the middle of a wait or a remote query
		6 => sub {
			my $ms = pick(1, 10, 30, 60, 100);
			my $stmt = wpick(
				3 => sub {
					"SELECT * FROM pgpool_ext.query($h, 'SELECT pg_sleep(0.3)') AS t(a text)";
				},
				2 => sub { "SELECT pgpool_ext.execute($h, 'SELECT pg_sleep(0.3)')" },
				3 => sub {
					'INSERT INTO fz_seen SELECT pgpool_ext.acquire(' . pool_expr($ns)
					  . ', ' . long_interval_expr() . ')';
				},
				2 => sub {
					'SELECT * FROM pgpool_ext.run(' . pool_expr($ns)
					  . ", 'SELECT pg_sleep(0.3)', NULL, "
					  . long_interval_expr() . ') AS t(a text)';
				},
				1 => sub {
					"SELECT * FROM pgpool_ext.query($h, 'SELECT generate_series(1, 200000)') AS t(a int)";
				});
			return ("SET statement_timeout = '${ms}ms'", $stmt, 'RESET statement_timeout');
		},
		2 => sub {
			('SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity '
				  . "WHERE wait_event_type = 'Extension' AND pid <> pg_backend_pid()");
		},
		($ns ? 0 : 0.3) => sub {
			('SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity '
				  . "WHERE backend_type = 'pgpool_ext worker'");
		},
		($ns ? 0 : 1) => sub {
			(pick('SET ROLE fz_user', 'SET SESSION AUTHORIZATION fz_user', 'RESET ROLE',
				'RESET SESSION AUTHORIZATION', "SET client_encoding = 'LATIN1'",
				'RESET client_encoding'));
		},
		2 => sub {
			(pick("SET search_path = ''", 'SET search_path = pg_temp', 'SET search_path = nosuch',
				'SET search_path = public, pg_catalog', 'RESET search_path',
				"SET pgpool_ext.max_pools = 1", "SET pgpool_ext.database = 'fzdb'",
				"SET pgpool_ext.nosuch = 'x'"));
		},
		2 => sub {
			("SET pgpool_ext.acquire_timeout = "
				  . lit(pick('-1', '-1s', '1ms', '100ms', '2147483647', '1e100', 'abc', '')),
				'RESET pgpool_ext.acquire_timeout');
		},
		3 => sub {
			my $p = pool_expr($ns);
			my $body = pick(
				"h := pgpool_ext.acquire($p, scope => 'transaction'); "
				  . "PERFORM pgpool_ext.execute(h, 'SELECT 1/0');",
				"h := pgpool_ext.acquire($p); PERFORM 1/0;",
				"h := pgpool_ext.acquire($p, scope => 'transaction'); "
				  . "PERFORM pgpool_ext.release(h); PERFORM pgpool_ext.release(h);",
				"h := pgpool_ext.acquire($p); PERFORM pgpool_ext.execute(h, 'BEGIN'); "
				  . 'PERFORM pgpool_ext.release(h); PERFORM pgpool_ext.execute(h, $q$SELECT 1$q$);',
				"FOR i IN 1..3 LOOP h := pgpool_ext.acquire($p, scope => 'transaction'); END LOOP;");
			my $handler = pick('WHEN others THEN NULL;',
				"WHEN others THEN RAISE NOTICE '%', SQLSTATE;",
				'WHEN division_by_zero THEN PERFORM pgpool_ext.release(h);');
			return ("DO \$d\$DECLARE h bigint; BEGIN BEGIN $body EXCEPTION $handler END; END\$d\$");
		},
		2 => sub {
			("SELECT count(*) FROM generate_series(1, 3) g, "
				  . "LATERAL pgpool_ext.query_json($h, 'SELECT \$1::int * 2', ARRAY[g::text]) j");
		},
		2 => sub {
			(pick('SELECT count(*) FROM pgpool_ext.pools', 'SELECT count(*) FROM pgpool_ext.connections',
				'SELECT count(*) FROM pgpool_ext.handles', 'SELECT count(*) FROM pgpool_ext.waiters',
				'SELECT pool_name, conninfo, last_connect_error FROM pgpool_ext.pools',
				'SELECT count(*) FROM pgpool_ext.pool_definition'));
		},
		# a transaction holding a transaction-scoped handle, ended in
		# every way (or left open: the round's cleanup rolls it back)
		3 => sub {
			my $p = wpick(4 => "'fz'", 1 => "'fz2'", ($ns ? 2 : 0) => "'fzp'");
			my @end = wpick(3 => 'COMMIT', 3 => 'ROLLBACK', 2 => sub { ('SELECT 1/0', 'ROLLBACK') },
				1 => sub { ('SAVEPOINT t', 'SELECT 1/0', 'ROLLBACK TO SAVEPOINT t', 'COMMIT') },
				1 => sub { () });
			# read before anything else commits: a transaction-scoped handle
			# whose transaction ended is a leak
			push @end, "SELECT 'txnleft=' || count(*) FROM pgpool_ext.handles "
			  . "WHERE holder_pid = pg_backend_pid() AND scope = 'transaction'"
			  if @end;
			return ('BEGIN',
				"INSERT INTO fz_seen SELECT pgpool_ext.acquire($p, '300ms', scope => 'transaction')",
				"SELECT count(*) FROM pgpool_ext.query_json((SELECT max(handle) FROM pgpool_ext.handles "
				  . "WHERE holder_pid = pg_backend_pid() AND scope = 'transaction'), 'SELECT 1')",
				@end);
		},
		1 => sub {
			my $gid = 'fz' . int(rand(1000));
			('BEGIN', "INSERT INTO fz_seen SELECT pgpool_ext.acquire('fz', scope => 'transaction')",
				"PREPARE TRANSACTION '$gid'");
		},
		($d->{admin} || $ns ? 8 : 0) => sub { (admin_statement($ns)) },
		1 => sub { ('SELECT pg_sleep(0.02)') });
	return wpick(@ops);
}

# A call of a defining function (in pgpool_ext.database, or elsewhere for
# the non-superuser: every one must fail cleanly).
sub admin_statement
{
	my ($ns) = @_;
	my $name = wpick(
		10 => sub { lit('fzt' . (1 + int(rand(3)))) },
		1 => "'fz2'",
		2 => sub { pick(@odd_text) });
	my $size = sub { pick('NULL', '-1', '0', '1', '2', '3', '2147483647', '(-2147483647 - 1)') };
	my $ci = wpick(
		8 => lit($ci_tmp),
		2 => lit("$ci_tmp password=$wrong_secret user=app"),
		2 => lit("host=127.0.0.1 port=1 password=$wrong_secret"),
		3 => sub {
			lit(pick('host=', 'bad = = x', '', 'host=/nonexistent', 'service=nosuch',
				"$ci_tmp sslmode=bogus", "$ci_tmp connect_timeout=-5",
				"$ci_tmp options='-c statement_timeout=1'", "dbname='unterminated",
				'postgresql://[::1', "$ci_tmp port=99999", 'host=fz.invalid',
				"$ci_tmp target_session_attrs=read-only"));
		},
		1 => 'NULL',
		1 => "repeat('host=x ', 20000)");
	my $iv = sub {
		pick('NULL', "'0'", "'1s'", "'-1s'", "'10 min'", "'178000000 years'",
			"'0.0001 ms'", "'2147483647 days'");
	};
	my $reset = sub {
		pick('NULL', "''", "'DISCARD ALL'", "'SELECT 1/0'", "'SELECT pg_sleep(0.2)'",
			"'COPY fz_t TO STDOUT'", "'BEGIN'", "'SELECT 1; SELECT 2'",
			"repeat('x', 100000)");
	};
	my $opts = sub {
		pick('NULL', "'{}'", "'[]'", "'\"x\"'", "'{\"max_size\": 2}'",
			"'{\"max_size\": \"x\"}'", "'{\"bogus\": 1}'", "'{\"max_size\": 1e100}'",
			"'{\"idle_timeout\": \"-1s\"}'", "'{\"min_size\": null}'",
			"'{\"max_size\": {\"a\": 1}}'", "'{\"conninfo\": \"host=\"}'", "'null'");
	};
	return wpick(
		5 => sub {
			"SELECT pgpool_ext.create_pool($name, $ci, " . join(', ',
				$size->(), $size->(), $size->(), $iv->(), $iv->(), $reset->(),
				pick('NULL', 'true', 'false'), $opts->()) . ')';
		},
		3 => sub { "SELECT pgpool_ext.create_pool($name, $ci, max_size => " . pick(1, 2) . ')' },
		4 => sub {
			"SELECT pgpool_ext.alter_pool($name, "
			  . pick("min_size => " . $size->(), "max_size => " . $size->(),
				"conninfo => $ci", "reset_query => " . $reset->(),
				"idle_timeout => " . $iv->(), "options => " . $opts->(),
				"connect_timeout => " . $iv->())
			  . ')';
		},
		3 => sub { "SELECT pgpool_ext.drop_pool($name, " . pick('true', 'false', 'NULL') . ')' },
		1 => sub { "SELECT pgpool_ext.drop_pool('fz2', true)" },
		1 => sub {
			"SELECT pgpool_ext.alter_pool('fz2', conninfo => "
			  . lit(pick($ci_fz2, $ci_fz2 . ' application_name=x', 'host=127.0.0.1 port=1'))
			  . ')';
		},
		2 => sub {
			'SELECT pgpool_ext.' . pick('grant_usage', 'revoke_usage') . "($name, "
			  . pick("'fz_user'", "'public'", "'PUBLIC'", "'nosuchrole'", "''", 'NULL',
				"'\"fz_user\"'", "'pg_read_all_stats'")
			  . ')';
		},
		2 => sub {
			'INSERT INTO fz_seen SELECT pgpool_ext.acquire('
			  . wpick(3 => sub { lit('fzt' . (1 + int(rand(3)))) }, 1 => "'fz2'")
			  . ", '100ms', partition => " . partition_expr() . ')';
		},
		1 => sub {
			# (a superuser may read the passwords there: only columns
			# without them)
			pick($ns ? 'SELECT * FROM pgpool_ext.pool_definition'
				  : 'SELECT pool_name, max_size, owner FROM pgpool_ext.pool_definition',
				"UPDATE pgpool_ext.pool_definition SET max_size = 1000 WHERE pool_name = 'fz2'",
				'SELECT pgpool_ext.config_trigger()');
		});
}

# ---------------------------------------------------------------------
# Running a round and checking what came back
# ---------------------------------------------------------------------

# What any statement may cause by itself: documented by the README, or the
# standard result of the statement (type input, cancel, transaction state).
my %ok_local = map { $_ => 1 } qw(
  55000 42704 42710 08003 53300 08006 22023 0A000 54000 42501 55006 53400
  42804 40P01 39P01
  57014 25P02 25P01 25001 3B001 23514 42601 42P18 42846 42883 2BP01 55P02 42602);
my %ok_remote_cls = ();

my %state_count; # SQLSTATE => errors seen, for the log
my %kind_count;  # statement kind => { ok => N, error => N }
my @died;        # sessions lost in this round
my @failures;    # { what, round, session, stmt, detail }
my %seen_fail;   # key => count

sub fail_case
{
	my (%f) = @_;
	my $key = "$f{what}";
	$seen_fail{$key}++;
	push @failures, \%f if $seen_fail{$key} <= 3;
	return;
}

# Check one error block (the lines psql printed for one error).
sub check_error
{
	my ($round, $who, $stmt, $block) = @_;
	my ($level, $state, $msg) =
	  $block =~ /(ERROR|FATAL|PANIC):\s+(?:([0-9A-Z]{5}):\s+)?(.*)/;
	return unless defined $level;
	my $remote = $block =~ /remote SQL command/;
	$state_count{ ($state // 'none') . ($remote ? ' (remote)' : '') }++;
	my $ok;
	if ($level ne 'ERROR' || !defined $state)
	{
		$ok = 0;
	}
	elsif ($remote)
	{
		# what a remote server says; not what libpq or the worker make up
		# (08000 and the like: the remote server never sends those)
		$ok = $state !~ /^(XX|58)/ && ($state !~ /^08/ || $state =~ /^08(P01|006)$/);
	}
	else
	{
		$ok = $ok_local{$state} || $state =~ /^22/;
	}
	return if $ok;
	(my $m = $msg) =~ s/\d+/N/g;
	fail_case(
		what => "$level " . ($state // 'no SQLSTATE') . ($remote ? ' (remote)' : '') . ": $m",
		round => $round,
		session => $who,
		stmt => $stmt,
		detail => $block);
	return;
}

# What psql prints when it lost its server connection.
my $psql_lost = join('|',
	'server closed the connection', 'error: connection to server',
	'no connection to the server');
$psql_lost = qr/^psql:<stdin>:\d+: (?:$psql_lost)/m;

# Split a batch's stderr by statement marker and check every error in it.
sub check_batch
{
	my ($round, $d, $stmts, $err) = @_;
	my @seg = split /^fzs:(\d+)(?:\r?\n|\z)/m, $err;
	# @seg: text, idx, text, idx, ..., trailing text
	my %failed;
	my $i = 0;
	while ($i < @seg)
	{
		my $text = $seg[$i];
		my $idx = $i + 1 < @seg ? $seg[ $i + 1 ] : undef;
		my $stmt = defined $idx ? $stmts->[$idx] : '(end of batch)';
		$failed{$idx} = 1 if defined $idx && $text =~ /ERROR:/;
		foreach my $block (split /(?=^psql:<stdin>:\d+: )/m, $text)
		{
			check_error($round, $d->{name}, $stmt, $block)
			  if $block =~ /(ERROR|FATAL|PANIC):/;
			fail_case(
				what => 'resource leak warning: ' . ($block =~ /WARNING:\s+(.*)/)[0],
				round => $round, session => $d->{name}, stmt => $stmt,
				detail => $block)
			  if $block =~ /WARNING:.*(leak|not closed)/i;
			fail_case(
				what => 'lost connection to the server',
				round => $round, session => $d->{name}, stmt => $stmt,
				detail => $block)
			  if $block =~ $psql_lost;
		}
		$i += 2;
	}
	return \%failed;
}

# The kind of a statement, for the coverage summary.
sub stmt_kind
{
	my ($t) = @_;
	return 'reentrant domain' if $t =~ /AS t\(a fz_dom[ahr]?\)/;
	return 'checked result' if $t =~ /MISMATCH/;
	return 'cancel worker' if $t =~ /backend_type = 'pgpool_ext worker'/;
	return 'cancel others' if $t =~ /pg_cancel_backend/;
	return 'DO block' if $t =~ /^DO /;
	foreach my $f (qw(create_pool alter_pool drop_pool grant_usage revoke_usage
		acquire release query_json execute run query))
	{
		return $f if $t =~ /pgpool_ext\.$f\(/;
	}
	return 'transaction control'
	  if $t =~ /^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END|ABORT|PREPARE)/;
	return 'SET' if $t =~ /^(SET|RESET)/;
	return 'other';
}

# safe_psql on the local node, waiting for it to be back if it is
# restarting after a crash.
sub ctl
{
	my ($db, $sql) = @_;
	for my $try (1 .. 5)
	{
		my $out = eval { $local->safe_psql($db, $sql) };
		return $out unless $@;
		die $@ if $try == 5 || $@ !~ /connection|recovery|shut ?down|starting up|terminat/i;
		$local->poll_query_until('postgres', 'SELECT 1', '1');
	}
	return;
}

# Something the views or the remote say about the pools; '' when all is
# well.
sub invariant_problems
{
	my @p;
	my $q = ctl('postgres', q{
		SELECT (SELECT count(*) FROM pgpool_ext.handles) || ' ' ||
			   (SELECT count(*) FROM pgpool_ext.waiters)});
	push @p, "handles/waiters left: $q" if $q ne '0 0';
	# A fuzzed pool name may hold a newline or '|': shown as '?' so that
	# each row stays one line of fields (and never reads as a real pool).
	my $pools = ctl('postgres', q{
		SELECT translate(p.pool_name, E'\n\r|', '???'), p.in_use, p.waiting, p.total, p.idle, p.connecting,
			   p.max_size,
			   (SELECT count(*) FROM pgpool_ext.connections c
				 WHERE c.pool_name = p.pool_name),
			   (SELECT string_agg(DISTINCT c.state, ',') FROM pgpool_ext.connections c
				 WHERE c.pool_name = p.pool_name)
		  FROM pgpool_ext.pools p ORDER BY 1});
	foreach my $row (split /\n/, $pools)
	{
		my ($name, $in_use, $waiting, $total, $idle, $connecting, $max, $rows, $states) =
		  split /\|/, $row;
		$states //= '';
		push @p, "$name: in_use $in_use" if $in_use != 0;
		push @p, "$name: waiting $waiting" if $waiting != 0;
		push @p, "$name: total $total > max_size $max" if $total > $max;
		push @p, "$name: total $total <> idle $idle + connecting $connecting"
		  if $total != $idle + $connecting;
		push @p, "$name: total $total <> $rows rows in connections ($states)"
		  if $total != $rows;
		next unless $remote_db{$name};
		my $rc = $remote->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE datname = '$remote_db{$name}'");
		push @p, "$name: $rc remote backends > max_size $max" if $rc > $max;
		push @p, "$name: $rc remote backends <> $rows connections" if $rc != $rows;
	}
	return join('; ', @p);
}

my $log_offset = 0;

# New lines of the local server log that show a crash or a worker restart,
# or a password.  Returns the pids of the processes that crashed.
sub check_log
{
	my ($round) = @_;
	my $log = slurp_file($local->logfile, $log_offset);
	$log_offset += length($log);
	my @lines = split /\n/, $log;
	my %crashed;
	foreach my $n (0 .. $#lines)
	{
		my $line = $lines[$n];
		my ($what, $stmt) = (undef, '');
		my ($pid) = $line =~ /\(PID (\d+)\)/;
		# what the process that went away said last
		my @said = defined $pid ? grep { /\[$pid\]/ } @lines[ 0 .. $n ] : ();
		splice(@said, 0, @said - 4) if @said > 4;
		if ($line =~ /(?:process|worker) .*(was terminated by signal \d+)/)
		{
			my $sig = $1;
			$crashed{$pid} = 1;
			($stmt) = ($lines[ $n + 1 ] // '') =~ /Failed process was running: (.*)/;
			$stmt //= '';
			$what = "crash: " . ($line =~ /background worker/ ? 'pool worker ' : 'backend ')
			  . $sig . ($stmt ne '' ? ' in ' . stmt_kind($stmt) : '');
		}
		elsif ($line =~ /PANIC:|TRAP:/)
		{
			$what = 'PANIC or assertion failure: ' . ($line =~ /(?:PANIC|TRAP):\s+(.*)/)[0] =~ s/\d+/N/gr;
		}
		elsif ($line =~ /background worker "pgpool_ext worker".*exited with exit code/)
		{
			my ($last) = grep { /ERROR|FATAL/ } reverse @said;
			$what = 'pool worker exited'
			  . (defined $last ? ' after ' . ($last =~ /((?:ERROR|FATAL):.*)/)[0] : '');
			$what =~ s/\d+/N/g;
		}
		if ($line =~ /\Q$secret\E|\Q$wrong_secret\E/)
		{
			$what = 'password in the server log';
		}
		next unless $what;
		fail_case(what => $what, round => $round, session => 'server',
			stmt => $stmt, detail => join("\n", @said, $line));
	}
	return \%crashed;
}

# Wait until the server accepts connections again; restart dead sessions.
sub revive
{
	my ($round) = @_;
	$local->poll_query_until('postgres', 'SELECT 1', '1')
	  or BAIL_OUT('the local server does not come back');
	foreach my $i (0 .. $#sess_def)
	{
		my $d = $sess_def[$i];
		my $alive = $d->{s}{run} && $d->{s}{run}->pumpable
		  && ctl('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE pid = $d->{pid}") eq '1';
		next if $alive;
		note "round $round: session $d->{name} is gone, opening it again";
		eval { $d->{s}{run}->kill_kill if $d->{s}{run}; };
		open_session($i);
	}
	return;
}

# End of a round for one session: end the transaction (its transaction
# handles must be gone), release what is still held (then it must hold
# nothing).
sub session_cleanup
{
	my ($round, $d) = @_;
	my $s = $d->{s};
	my ($out, $err) = sq($s,
		"ROLLBACK;\n"
		  . "SELECT 'txn=' || count(*) FROM pgpool_ext.handles "
		  . "WHERE holder_pid = pg_backend_pid() AND scope = 'transaction';\n"
		  . "RESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\n");
	fail_case(what => 'transaction-scoped handle survived the end of its transaction',
		round => $round, session => $d->{name}, stmt => 'ROLLBACK', detail => $out)
	  if $out !~ /^txn=0$/m;
	($out, $err) = sq($s, q{
		DO $c$DECLARE r record; BEGIN
		  FOR r IN SELECT handle FROM pgpool_ext.handles
		            WHERE holder_pid = pg_backend_pid() LOOP
		    PERFORM pgpool_ext.release(r.handle);
		  END LOOP; END$c$;
		SELECT 'held=' || count(*) FROM pgpool_ext.handles
		 WHERE holder_pid = pg_backend_pid()});
	check_batch($round, $d, ['release of the handles still held'], $err);
	fail_case(what => 'handles still held after releasing them all',
		round => $round, session => $d->{name}, stmt => 'release', detail => "$out $err")
	  if $out !~ /^held=0$/m;
	sq($s, 'TRUNCATE fz_seen') if rand() < 0.2;
	return;
}

# ---------------------------------------------------------------------
# The rounds
# ---------------------------------------------------------------------
foreach my $round (1 .. $rounds)
{
	# Generate every batch first: the statements depend on the seed only.
	my @batches;
	foreach my $d (@sess_def)
	{
		# every batch starts with a handle held
		my @stmts = ('INSERT INTO fz_seen SELECT pgpool_ext.acquire('
			  . ($d->{nonsuper} && rand() < 0.5 ? "'fzp'" : "'fz'") . ", '2s')");
		push @stmts, random_statements($d) while @stmts < $nstmts;
		push @batches, \@stmts;
	}
	my $drop_tmp = rand() < 0.5 ? "true" : "false";
	# sometimes one session's backend is terminated in the middle of its
	# batch (after statement $kill_at): what it held must be released
	my $victim = rand() < 0.25 ? 1 + int(rand($#sess_def)) : undef;
	my $kill_at = 2 + int(rand($nstmts - 4));

	foreach my $i (0 .. $#sess_def)
	{
		my $stmts = $batches[$i];
		my $text = '';
		$text .= "$stmts->[$_];\n\\warn 'fzs:$_'\n\\echo 'fzs:$_'\n" for 0 .. $#$stmts;
		start_query($sess_def[$i]{s}, $text);
	}
	if (defined $victim)
	{
		my $d = $sess_def[$victim];
		poll_until("session $d->{name} reaches statement $kill_at",
			sub {
				my $alive = eval { $d->{s}{run}->pump_nb; $d->{s}{run}->pumpable };
				!$alive || $d->{s}{stderr} =~ /^fzs:$kill_at$/m;
			},
			30);
		ctl('postgres', "SELECT pg_terminate_backend($d->{pid})");
		note "round $round: terminated session $d->{name} after statement $kill_at";
	}
	foreach my $i (0 .. $#sess_def)
	{
		my $d = $sess_def[$i];
		my ($out, $err) = eval { finish_query_or_lost($d->{s}, 60) };
		if ($@ && defined $victim && $i == $victim && $@ =~ /session lost/)
		{
			# expected: psql ends when its backend is terminated
			eval { $d->{s}{run}->kill_kill };
			$d->{s}{run} = undef;
			next;
		}
		if ($@)
		{
			my $e = $@;
			# The batch hangs or the session died: name the last statement
			# that ended.
			my @done = ($d->{s}{stderr} =~ /^fzs:(\d+)/mg);
			my $next = @done ? $done[-1] + 1 : 0;
			my %f = (
				what => ($e =~ /statement hangs/ ? 'statement hangs' : 'session died'),
				round => $round, session => $d->{name},
				stmt => $batches[$i][$next] // '(end)',
				detail => substr($d->{s}{stderr}, -1500));
			# a death is reported after the log is read: when the server
			# crashed, only the process that crashed is the cause
			if ($e =~ /statement hangs/) { fail_case(%f) }
			else { push @died, { %f, pid => $d->{pid} } }
			eval { ctl('postgres',
				"SELECT pg_terminate_backend($d->{pid})") };
			eval { $d->{s}{run}->kill_kill };
			$d->{s}{run} = undef;
			$d->{pid} = 0;
			next;
		}
		my $failed = check_batch($round, $d, $batches[$i], $err);
		# each statement's output
		my %output;
		{
			my @seg = split /^fzs:(\d+)(?:\r?\n|\z)/m, $out;
			for (my $k = 0; $k + 1 < @seg; $k += 2) { $output{ $seg[ $k + 1 ] } = $seg[$k] }
		}
		foreach my $n (0 .. $#{ $batches[$i] })
		{
			my $stmt = $batches[$i][$n];
			$kind_count{ stmt_kind($stmt) }{ $failed->{$n} ? 'error' : 'ok' }++;
			# a handle held by another session is never usable
			fail_case(what => "another session's handle was usable", round => $round,
				session => $d->{name}, stmt => $stmt,
				detail => "statement $n of the batch; its output: <" . ($output{$n} // '') . '>')
			  if !$failed->{$n} && $stmt =~ /holder_pid <> pg_backend_pid\(\)/;
		}
		fail_case(what => 'transaction-scoped handle survived the end of its transaction',
			round => $round, session => $d->{name}, stmt => '', detail => $1)
		  if $out =~ /^(txnleft=[1-9]\d*)$/m;
		fail_case(what => 'wrong result: another value than the one sent', round => $round,
			session => $d->{name}, stmt => '', detail => $1)
		  if $out =~ /^(MISMATCH.*)$/m;
		my $all = "$out\n$err";
		fail_case(what => 'password in a session output', round => $round,
			session => $d->{name}, stmt => '', detail => $all)
		  if $all =~ /\Q$secret\E|\Q$wrong_secret\E/;
	}

	revive($round);
	foreach my $i (0 .. $#sess_def)
	{
		next if eval { session_cleanup($round, $sess_def[$i]); 1 };
		# the server crashed in the meantime (reported from the log)
		note "round $round: cleanup of $sess_def[$i]{name} failed: $@";
		revive($round);
		session_cleanup($round, $sess_def[$i]);
	}

	# Prepared transactions made by the fuzz are rolled back.
	foreach my $db (qw(postgres fzdb))
	{
		my $gids = ctl($db,
			'SELECT gid FROM pg_prepared_xacts WHERE database = current_database()');
		ctl($db, "ROLLBACK PREPARED '$_'") for split /\n/, $gids;
	}
	# The pools the sessions use come back to their settings; temporary pools
	# are dropped every other round (or when there are many).
	ctl('postgres', "
		SELECT pgpool_ext.drop_pool(pool_name, true) FROM pgpool_ext.pool_definition
		 WHERE pool_name NOT IN ('fz', 'fz2', 'fzp')
		   AND ($drop_tmp OR (SELECT count(*) FROM pgpool_ext.pool_definition) > 10)");
	if (ctl('postgres', "SELECT count(*) FROM pgpool_ext.pool_definition WHERE pool_name = 'fz2'"))
	{
		ctl('postgres', "
			SELECT pgpool_ext.alter_pool('fz2', min_size => 0, max_size => 4,
				reset_query => 'DISCARD ALL', conninfo => '$ci_fz2', password_required => false,
				idle_timeout => '10 min', connect_timeout => '10s', initial_size => 0)");
	}
	else
	{
		ctl('postgres', "SELECT pgpool_ext.create_pool('fz2', $base{fz2})");
	}

	my $problems = '';
	poll_until("invariants after round $round",
		sub { $problems = invariant_problems(); $problems eq '' }, 20);
	fail_case(what => "invariant: " . ($problems =~ s/\d+/N/gr), round => $round,
		session => 'views', stmt => '', detail => $problems)
	  if $problems ne '';
	my $crashed = check_log($round);
	foreach my $f (@died)
	{
		# the session that crashed the server is named in check_log (with
		# the statement); the others were collateral
		next if %$crashed;
		fail_case(%$f);
	}
	@died = ();
	note "round $round done: " . scalar(@failures) . ' failures so far';
}

# Afterwards every pool still works.
foreach my $p (sort keys %base)
{
	my ($out, $err) = psql_err($local,
		"SELECT * FROM pgpool_ext.run('$p', 'SELECT 42', NULL, '10s') AS t(x int)");
	is($out, '42', "pool $p still works after the fuzz") or diag $err;
}

note 'statements by kind (ok/error): '
  . join(', ',
	map { "$_ " . ($kind_count{$_}{ok} // 0) . '/' . ($kind_count{$_}{error} // 0) }
	  sort keys %kind_count);
note 'errors seen by SQLSTATE: '
  . join(', ', map { "$_ x $state_count{$_}" } sort keys %state_count);

# The report: every distinct failure, with the statement that caused it.
foreach my $f (@failures)
{
	diag "FAILURE [$f->{what}] round $f->{round} session $f->{session}\n"
	  . "  statement: $f->{stmt}\n  detail: " . substr($f->{detail}, 0, 1500);
}
is(scalar(keys %seen_fail), 0,
	"no unexpected SQLSTATE, crash, hang, leak or broken invariant (FUZZ_SEED=$seed)")
  or diag "distinct failures:\n" . join("\n", map { "  $seen_fail{$_} x $_" } sort keys %seen_fail);

$_->{s}->quit for grep { $_->{s}{run} } @sess_def;
$local->stop;
$remote->stop;
done_testing();
