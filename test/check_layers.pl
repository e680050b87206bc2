#!/usr/bin/perl
#
# test/check_layers.pl
#		The include check: src/ is layered and its includes point downward
#		only.
#
# Usage: perl test/check_layers.pl [SRCDIR]     (default: the src/ beside test/)
#        make check-layers
#
# Layers, lowest first (DESIGN.md, "Layout"):
#
#     common < shm < proto < backend, worker < sql
#
# and the files directly in SRCDIR (src/pgpool_ext.c, _PG_init) on top.
# Every .c and .h under SRCDIR is read; an #include names a project file when
# it resolves, as the compiler would resolve it with -Isrc (the including
# file's own directory first for "..."), to a file under SRCDIR.  Refused,
# each with the file, the line and the rule:
#
#   unqualified include  a project file not written "folder/file.h", its path
#                        from SRCDIR in double quotes ("waitq.h",
#                        "../shm/pool.h", <shm/pool.h>)
#   upward include       a file including one of a higher layer (the top
#                        may include anything; nothing includes the top)
#   backend/worker       backend/ and worker/ including each other
#   unknown folder       a file in a folder that is not a layer
#   module cycle         a circle between modules: a module is a .c with its
#                        .h (shm/pool.c and shm/pool.h are module shm/pool);
#                        A -> B when A.c or A.h includes B.h.  The cycle is
#                        printed as a path, with the include of each step.
#
# Includes that name no project file (PostgreSQL's, the system's) are not
# checked.  Comments are skipped; #if is not evaluated.  Only Perl's core
# (perl-base) is used: the check runs before any package is installed.
#
# Exit status: 0 when nothing is refused, 1 when something is (every problem
# is printed on stderr), 2 on a usage error.

use strict;
use warnings;
use File::Basename qw(basename dirname);
use File::Spec;

# Layer of each folder; backend and worker share a rank but may not include
# each other.  "" is the top: the files directly in SRCDIR.
my %RANK = (
	common => 0,
	shm => 1,
	proto => 2,
	backend => 3,
	worker => 3,
	sql => 4,
	"" => 5,
);
my @LAYERS = qw(common shm proto backend worker sql);
my $ORDER = 'common < shm < proto < backend, worker < sql';

die "usage: $0 [SRCDIR]\n" if @ARGV > 1;
my $srcdir;
if (@ARGV)
{
	$srcdir = $ARGV[0];
}
else
{
	# the src/ of this project, printed as "src/..."
	chdir(dirname(dirname(File::Spec->rel2abs(__FILE__))))
	  or die "check_layers: cannot find the project root: $!\n";
	$srcdir = 'src';
}
$srcdir =~ s{/+$}{} unless $srcdir eq '/';
if (!-d $srcdir)
{
	print STDERR "check_layers: $srcdir is not a directory\n";
	exit 2;
}
# The name of SRCDIR in its parent, the project root, for includes written
# from the root ("src/shm/pool.h").
my $srcbase = basename(File::Spec->rel2abs($srcdir));

my @problems;    # [sort key, message]
my %files;       # relative path => 1, every .c and .h under SRCDIR
my %edge;        # module => { module => "file:line: the include" }
my $n_includes = 0;

collect('');
for my $rel (sort keys %files)
{
	check_file($rel);
}
report_cycles();

if (@problems)
{
	print STDERR "$_->[1]\n" for sort { $a->[0] cmp $b->[0] } @problems;
	printf STDERR "check_layers: %d problem%s in %s/\n",
	  scalar(@problems), @problems == 1 ? '' : 's', $srcdir;
	exit 1;
}
printf "check_layers: %s/ ok: %d files, %d project includes, "
  . "layers %s, no module cycle\n",
  $srcdir, scalar(keys %files), $n_includes, $ORDER;
exit 0;

# Record every .c and .h below SRCDIR/$sub (relative paths, "/"-separated).
sub collect
{
	my ($sub) = @_;
	my $dir = $sub eq '' ? $srcdir : "$srcdir/$sub";

	opendir(my $dh, $dir) or die "check_layers: cannot read $dir: $!\n";
	my @names = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	for my $name (@names)
	{
		my $rel = $sub eq '' ? $name : "$sub/$name";
		if (-d "$srcdir/$rel")
		{
			collect($rel);
		}
		elsif ($name =~ /\.[ch]$/)
		{
			$files{$rel} = 1;
		}
	}
	return;
}

sub problem
{
	my ($key, $msg) = @_;
	push @problems, [ $key, $msg ];
	return;
}

# The layer of a relative path: its first folder, or "" for the top.
sub layer_of
{
	my ($rel) = @_;
	return $rel =~ m{^([^/]+)/} ? $1 : '';
}

# The module of a relative path: the path without .c / .h.
sub module_of
{
	my ($rel) = @_;
	(my $m = $rel) =~ s/\.[ch]$//;
	return $m;
}

# Normalize a "/"-separated path (".", ".."); undef if it climbs out.
sub normalize
{
	my ($path) = @_;
	my @out;

	for my $part (split m{/+}, $path)
	{
		next if $part eq '' || $part eq '.';
		if ($part eq '..')
		{
			return undef unless @out;
			pop @out;
		}
		else
		{
			push @out, $part;
		}
	}
	return join('/', @out);
}

# The project file an include names, as a path relative to SRCDIR, or undef
# when it names none.  $rel is the including file.  "..." looks in the
# including file's directory first; then come -Isrc and -I. (PGXS passes the
# project root), in that order.
sub resolve
{
	my ($rel, $delim, $name) = @_;
	my $dir = dirname($rel);
	my @tries;

	push @tries, normalize($dir eq '.' ? $name : "$dir/$name")
	  if $delim eq '"';
	push @tries, normalize($name);
	my $fromroot = normalize($name);
	push @tries, $1 if defined $fromroot && $fromroot =~ m{^\Q$srcbase\E/(.+)$};
	for my $n (@tries)
	{
		return $n if defined $n && $files{$n};
	}

	# Not found, but written without a folder and named like exactly one
	# project file: an unqualified include (that would not even compile).
	if ($name !~ m{/})
	{
		my @same = grep { m{(?:^|/)\Q$name\E$} } sort keys %files;
		return $same[0] if @same == 1;
	}
	return undef;
}

# Read one file and check each of its project includes.
sub check_file
{
	my ($rel) = @_;
	my $path = "$srcdir/$rel";
	my $from = layer_of($rel);

	open(my $fh, '<', $path) or die "check_layers: cannot read $path: $!\n";
	my $text = do { local $/; <$fh> };
	close($fh);

	if (!exists $RANK{$from})
	{
		problem("$path:0",
			"$path: unknown folder: $from/ is not a layer (the layers are "
			  . join(', ', map { "$_/" } @LAYERS) . ")");
	}

	my $lineno = 0;
	for my $line (split /\n/, strip_comments($text), -1)
	{
		$lineno++;
		next unless $line =~ /^\s*#\s*include\s*(["<])([^">]+)[">]/;
		my ($delim, $name) = ($1, $2);
		my $target = resolve($rel, $delim, $name);
		next unless defined $target;
		$n_includes++;
		check_include($rel, $lineno, $delim, $name, $target);
	}
	return;
}

# The rules for one project include of $rel, at line $lineno.
sub check_include
{
	my ($rel, $lineno, $delim, $name, $target) = @_;
	my $where = "$srcdir/$rel:$lineno";
	my $key = sprintf('%s:%06d', "$srcdir/$rel", $lineno);
	my $written = $delim eq '"' ? "\"$name\"" : "<$name>";
	my $from = layer_of($rel);
	my $to = layer_of($target);

	if ($to ne '' && ($delim ne '"' || $name ne $target))
	{
		problem($key,
			"$where: unqualified include: $written must be written "
			  . "\"$target\" (project includes name their folder)");
	}

	my $mf = module_of($rel);
	my $mt = module_of($target);
	$edge{$mf}{$mt} //= "$where: includes $written" if $mf ne $mt;

	return unless exists $RANK{$from} && exists $RANK{$to};
	return if $from eq '' || $from eq $to;
	if ($RANK{$from} == 3 && $RANK{$to} == 3)
	{
		problem($key,
			"$where: backend/worker include: $from/ includes $written; "
			  . "backend/ and worker/ never include each other");
	}
	elsif ($RANK{$to} > $RANK{$from})
	{
		my $what = $to eq '' ? 'the top' : 'a higher layer';
		problem($key,
			"$where: upward include: $from/ includes $written, $what "
			  . "(layers: $ORDER, then src/*.c)");
	}
	return;
}

# The text with comments blanked (newlines kept, so line numbers hold);
# string and character literals are kept as they are.
sub strip_comments
{
	my ($text) = @_;

	$text =~ s{("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(/\*.*?\*/)|(//[^\n]*)}
			  {defined $1 ? $1 : defined $2 ? ($2 =~ tr/\n//cdr) : ''}gse;
	return $text;
}

# Find the strongly connected components of the module graph (Tarjan) and
# report one cycle through each component of more than one module.
sub report_cycles
{
	my (%index, %low, %on, @stack);
	my $next = 0;
	my @sccs;
	my $strong;

	$strong = sub {
		my ($v) = @_;
		$index{$v} = $low{$v} = $next++;
		push @stack, $v;
		$on{$v} = 1;
		for my $w (sort keys %{ $edge{$v} || {} })
		{
			if (!exists $index{$w})
			{
				$strong->($w);
				$low{$v} = $low{$w} if $low{$w} < $low{$v};
			}
			elsif ($on{$w})
			{
				$low{$v} = $index{$w} if $index{$w} < $low{$v};
			}
		}
		if ($low{$v} == $index{$v})
		{
			my @scc;
			my $w;
			do
			{
				$w = pop @stack;
				$on{$w} = 0;
				push @scc, $w;
			} while ($w ne $v);
			push @sccs, [ sort @scc ] if @scc > 1;
		}
	};
	for my $v (sort keys %edge)
	{
		$strong->($v) unless exists $index{$v};
	}
	undef $strong;

	for my $scc (@sccs)
	{
		my @path = shortest_cycle($scc);
		my @steps = map { "    $edge{$path[$_]}{$path[$_ + 1]}" } 0 .. $#path - 1;
		problem("~cycle " . join(' ', @path),
			"module cycle: " . join(' -> ', @path) . "\n" . join("\n", @steps));
	}
	return;
}

# The shortest cycle through the first module of a component (breadth-first
# within the component), as a list of modules that starts and ends with it.
sub shortest_cycle
{
	my ($scc) = @_;
	my %in = map { $_ => 1 } @$scc;
	my $start = $scc->[0];
	my %prev;
	my @queue = ($start);

	while (@queue)
	{
		my $v = shift @queue;
		for my $w (sort keys %{ $edge{$v} })
		{
			next unless $in{$w};
			if ($w eq $start)
			{
				my @path = ($start);
				for (my $u = $v; $u ne $start; $u = $prev{$u})
				{
					unshift @path, $u;
				}
				return ($start, @path);
			}
			next if exists $prev{$w};
			$prev{$w} = $v;
			push @queue, $w;
		}
	}
	die "check_layers: internal error: no cycle through $start\n";
}
