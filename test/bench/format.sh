# shellcheck shell=bash
#
# test/bench/format.sh
#		Number helpers of the benchmark, shared by its driver (run.sh, for
#		its progress lines) and its report (report.sh).
#
# Sourced, never run.  Values are passed as text; one that is not a number
# ("", ERR) is carried through (printed as it is, "" as "-"), never PASS.

# stats V...: "median min max" of numbers
stats()
{
	printf '%s\n' "$@" | sort -g | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "ERR ERR ERR"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			print m, a[1], a[NR]
		}'
}

# num V: a number with 3 or 4 significant digits
num()
{
	awk -v v="$1" 'BEGIN {
		if (v !~ /^-?[0-9]/) { printf "%s", (v == "" ? "-" : v); exit }
		a = (v < 0) ? -v : v
		if (a < 1) printf "%.3f", v
		else if (a < 10) printf "%.2f", v
		else if (a < 1000) printf "%.1f", v
		else printf "%.0f", v }'
}

# ratio VALUE SUFFIX: "VALUE SUFFIX" with VALUE formatted, or - without a
# number
ratio()
{
	case $1 in
	[0-9]* | -[0-9]*) printf '%s %s' "$(num "$1")" "$2" ;;
	*) printf -- - ;;
	esac
}

# range MIN MAX: "MIN-MAX", or - without numbers
range()
{
	case $1 in
	[0-9]*) printf '%s-%s' "$(num "$1")" "$(num "$2")" ;;
	*) printf -- - ;;
	esac
}

# calc A B OP: A OP B (OP one of + - * /); ERR if an operand is missing or
# not a number, or on a division by zero
calc()
{
	awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN {
		n = "^-?[0-9]+([.][0-9]*)?([eE][-+]?[0-9]+)?$"
		if (a !~ n || b !~ n) { print "ERR"; exit }
		if (op == "/") { if (b + 0 == 0) print "ERR"; else print a / b }
		else if (op == "*") print a * b
		else if (op == "-") print a - b
		else print a + b }'
}

# verdict VALUE LIMIT [ge]: PASS if VALUE <= LIMIT (>= with ge)
verdict()
{
	awk -v a="$1" -v b="$2" -v op="${3:-le}" 'BEGIN {
		n = "^-?[0-9]+([.][0-9]*)?([eE][-+]?[0-9]+)?$"
		if (a !~ n || b !~ n) { print "MISS"; exit }
		ok = (op == "ge") ? (a >= b) : (a <= b)
		print ok ? "PASS" : "MISS" }'
}
