# The include check (test/check_layers.pl) refuses what it should, with a
# message naming the file, the line and the rule, and the real src/ passes.
#
# Each case builds a small src/ tree in a temporary directory and runs the
# check on it.  No server is started.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->rel2abs(dirname(dirname($FindBin::RealBin)));
my $script = "$root/test/check_layers.pl";
my $n = 0;

# Write the files of %tree (path under src/ => text) into a fresh directory
# and return the path of its src/.
sub tree
{
	my (%tree) = @_;
	my $src = PostgreSQL::Test::Utils::tempdir('layers') . "/src";

	for my $path (sort keys %tree)
	{
		make_path(dirname("$src/$path"));
		open(my $fh, '>', "$src/$path") or die "$src/$path: $!";
		print $fh $tree{$path};
		close($fh);
	}
	return $src;
}

# Run the check on $src: (exit status, stdout, stderr).
sub check
{
	my ($src) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run([ $^X, $script, $src ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# A header and its .c, each including what it is given.
sub module
{
	my ($rel, @inc) = @_;
	my $lines = join('', map { "#include \"$_\"\n" } @inc);
	return (
		"$rel.h" => "/* $rel.h */\n$lines",
		"$rel.c" => "#include \"postgres.h\"\n\n#include \"$rel.h\"\n");
}

# A base that passes: every layer used, every allowed direction taken,
# PostgreSQL and system includes that look like ours, comments.
my %base = (
	module('common/errs'),
	module('shm/slots', 'common/errs.h', 'utils/timestamp.h'),
	module('proto/codec', 'shm/slots.h', 'lib/stringinfo.h'),
	module('backend/handle', 'proto/codec.h', 'common/errs.h'),
	module('worker/loop', 'proto/codec.h', 'shm/slots.h'),
	module('sql/api', 'backend/handle.h', 'worker/loop.h'),
	'common/compat.h' => "#include \"pgstat.h\"\n#include <string.h>\n",
	'shm/stats.c' => "#include \"postgres.h\"\n#include \"common/pg_prng.h\"\n"
	  . "#include \"common/compat.h\"\n"
	  . "/* #include \"sql/api.h\" is only a comment */\n"
	  . "// #include \"backend/handle.h\" too\n",
	'pgpool_ext.c' => "#include \"postgres.h\"\n#include \"sql/api.h\"\n"
	  . "#include \"worker/loop.h\"\n#include \"backend/handle.h\"\n",);

my ($rc, $out, $err) = check(tree(%base));
is($rc, 0, 'a tree that follows the layers passes');
is($err, '', 'and prints nothing on stderr');
like($out, qr/ok: 15 files, \d+ project includes/, 'and says so');

# Each case: a name, changes to the base tree, and the messages expected.
my @cases = (
	[
		'upward include (shm/ includes proto/)',
		{ 'shm/slots.c' => "#include \"postgres.h\"\n\n#include \"shm/slots.h\"\n#include \"proto/codec.h\"\n" },
		qr{^src/shm/slots\.c:4: upward include: shm/ includes "proto/codec\.h", a higher layer}m,
	],
	[
		'upward include in a header (common/ includes sql/)',
		{ 'common/errs.h' => "/* x */\n#include \"sql/api.h\"\n" },
		qr{^src/common/errs\.h:2: upward include: common/ includes "sql/api\.h", a higher layer}m,
	],
	[
		'a layer including the top',
		{ 'pgpool_ext.h' => "/* top */\n", 'sql/api.c' => "#include \"pgpool_ext.h\"\n" },
		qr{^src/sql/api\.c:1: upward include: sql/ includes "pgpool_ext\.h", the top}m,
	],
	[
		'backend/ includes worker/',
		{ 'backend/handle.c' => "#include \"postgres.h\"\n#include \"worker/loop.h\"\n" },
		qr{^src/backend/handle\.c:2: backend/worker include: backend/ includes "worker/loop\.h"; backend/ and worker/ never include each other}m,
	],
	[
		'worker/ includes backend/',
		{ 'worker/loop.h' => "#include \"backend/handle.h\"\n" },
		qr{^src/worker/loop\.h:1: backend/worker include: worker/ includes "backend/handle\.h"}m,
	],
	[
		'a two-module circle',
		{ 'shm/slots.h' => "#include \"shm/stats.h\"\n", 'shm/stats.h' => "/* stats */\n#include \"shm/slots.h\"\n" },
		qr{^module cycle: shm/slots -> shm/stats -> shm/slots\n    src/shm/slots\.h:1: includes "shm/stats\.h"\n    src/shm/stats\.h:2: includes "shm/slots\.h"$}m,
	],
	[
		'a three-module circle through .c files',
		{
			module('proto/a', 'proto/b.h'),
			'proto/b.c' => "#include \"proto/c.h\"\n",
			'proto/b.h' => "\n",
			'proto/c.c' => "#include \"proto/a.h\"\n",
			'proto/c.h' => "\n",
		},
		qr{^module cycle: proto/a -> proto/b -> proto/c -> proto/a$}m,
	],
	[
		'an unqualified include of a header in the same folder',
		{ 'shm/slots.c' => "#include \"postgres.h\"\n#include \"slots.h\"\n" },
		qr{^src/shm/slots\.c:2: unqualified include: "slots\.h" must be written "shm/slots\.h"}m,
	],
	[
		'an unqualified include of a header in another folder',
		{ 'sql/api.c' => "#include \"postgres.h\"\n#include \"handle.h\"\n" },
		qr{^src/sql/api\.c:2: unqualified include: "handle\.h" must be written "backend/handle\.h"}m,
	],
	[
		'a relative include',
		{ 'sql/api.c' => "#include \"../backend/handle.h\"\n" },
		qr{^src/sql/api\.c:1: unqualified include: "\.\./backend/handle\.h" must be written "backend/handle\.h"}m,
	],
	[
		'an include from the project root',
		{ 'sql/api.c' => "#include \"src/backend/handle.h\"\n" },
		qr{^src/sql/api\.c:1: unqualified include: "src/backend/handle\.h" must be written "backend/handle\.h"}m,
	],
	[
		'a project header in angle brackets',
		{ 'sql/api.c' => "#include <backend/handle.h>\n" },
		qr{^src/sql/api\.c:1: unqualified include: <backend/handle\.h> must be written "backend/handle\.h"}m,
	],
	[
		'a folder that is not a layer',
		{ 'util/misc.c' => "#include \"common/errs.h\"\n" },
		qr{^src/util/misc\.c: unknown folder: util/ is not a layer}m,
	],);

for my $case (@cases)
{
	my ($name, $changes, @want) = @$case;
	my $src = tree(%base, %$changes);
	# messages name the tree as it was given: make them start with src/
	my $dir = dirname($src);
	($rc, $out, $err) = check($src);
	$err =~ s{\Q$dir\E/}{}g;
	is($rc, 1, "$name: refused");
	like($err, $_, "$name: the message names the file, the line and the rule")
	  for @want;
	like($err, qr/^check_layers: \d+ problems? in src\/$/m, "$name: a summary line");
}

# Every problem of a tree is reported, in file and line order, cycles last:
# here an unqualified include, and an upward include that also closes a
# circle with proto/codec.h, which includes shm/slots.h.
($rc, $out, $err) = check(
	tree(
		%base,
		'shm/slots.c' => "#include \"slots.h\"\n#include \"proto/codec.h\"\n"));
like(
	$err,
	qr{slots\.c:1: unqualified include.*\n.*slots\.c:2: upward include.*\nmodule cycle: proto/codec -> shm/slots -> proto/codec\n.*\n.*\ncheck_layers: 3 problems}s,
	'every problem is reported, in order');

# The real src/ follows the layers.
($rc, $out, $err) = check("$root/src");
is($rc, 0, 'src/ follows the layers') or diag($err);
like($out, qr/ok: \d+ files/, 'src/: the check says so');

done_testing();
