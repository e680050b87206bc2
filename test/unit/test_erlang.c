/*-------------------------------------------------------------------------
 *
 * test_erlang.c
 *	  Unit test of src/common/erlang.c: textbook Erlang B and C values,
 *	  large loads without overflow, the sizing search, and the wait
 *	  distribution against a simulated M/M/c queue.
 *
 * A standalone program built against the server headers and linked with
 * erlang.c alone ("make unit-check"); no server runs.  Every check prints
 * what failed; the exit status is 1 if any did.
 *
 * Locking: none; one thread.
 *
 * test/unit/test_erlang.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/erlang.h"
#include "unit.h"

#define CLOSE(x, y, tol)	(fabs((x) - (y)) <= (tol))

/* Erlang B and C of textbook tables (and the closed form, to 12 digits) */
typedef struct Known
{
	int			servers;
	double		load;
	double		b;
	double		c;
} Known;

static const Known known[] = {
	{3, 2.0, 0.210526315789, 0.444444444444},
	{2, 1.0, 0.200000000000, 0.333333333333},
	{11, 10.0, 0.163232333244, 0.682118204689},
	{12, 10.0, 0.119739188445, 0.449388224298},
	{15, 10.0, 0.036496945472, 0.102042367008},
	{10, 10.0, 0.214582343107, 1.0},	/* unstable: everyone waits */
};

/* The table above. */
static void
test_known_values(void)
{
	int			i;

	for (i = 0; i < lengthof(known); i++)
	{
		const Known *k = &known[i];
		double		b = ErlangB(k->servers, k->load);
		double		c = ErlangC(k->servers, k->load);

		CHECK(CLOSE(b, k->b, 1e-9), "B(%d, %g) = %.12f, want %.12f",
			  k->servers, k->load, b, k->b);
		CHECK(CLOSE(c, k->c, 1e-9), "C(%d, %g) = %.12f, want %.12f",
			  k->servers, k->load, c, k->c);
	}
	CHECK(ErlangC(5, 0.0) == 0.0, "no load: nobody waits");
	CHECK(ErlangB(0, 3.0) == 1.0, "no server: everything is blocked");
	CHECK(ErlangWaitQuantile(3, 3.5, 0.95) == HUGE_VAL,
		  "an unstable queue has no finite quantile");
}

/*
 * Loads far past where a^c / c! overflows: C stays in [0, 1], falls as
 * servers are added, and the sizing search finds a size a little above
 * the load (square-root staffing: a + O(sqrt(a))).
 */
static void
test_large_loads(void)
{
	double		loads[] = {170.0, 1000.0, 5000.0};
	int			i;

	for (i = 0; i < lengthof(loads); i++)
	{
		double		a = loads[i];
		int			base = (int) a + 1;
		double		prev = 1.0;
		int			n;
		int			k;

		for (k = 0; k < 200; k += 10)
		{
			double		c = ErlangC(base + k, a);

			CHECK(isfinite(c) && c >= 0.0 && c <= 1.0,
				  "C(%d, %g) = %g", base + k, a, c);
			CHECK(c <= prev, "C(%d, %g) = %g rises", base + k, a, c);
			prev = c;
		}
		n = ErlangServersFor(a, 0.0, 0.95, ERLANG_MAX_SERVERS);
		CHECK(n > a && n < a + 4.0 * sqrt(a) + 10.0,
			  "servers for %g Erlangs: %d", a, n);
		CHECK(ErlangC(n, a) <= 0.05 && ErlangC(n - 1, a) > 0.05,
			  "servers for %g Erlangs: %d is not the smallest", a, n);
	}
	CHECK(ErlangServersFor(20000.0, 0.0, 0.95, ERLANG_MAX_SERVERS) == -1,
		  "a load past ERLANG_MAX_SERVERS finds no size");
	CHECK(ErlangServersFor(50.0, 0.0, 0.95, 40) == -1,
		  "max_servers bounds the search");
}

/*
 * The sizing search, by hand: a = 2 Erlangs.  Target 0: C(c, 2) <= 5 %:
 * C(5) = 0.0597, C(6) = 0.0189, so 6.  Target one mean hold: C(3) e^-1 =
 * 0.163, C(4) e^-2 = 0.0235, so 4.
 */
static void
test_sizing(void)
{
	int			n;

	n = ErlangServersFor(2.0, 0.0, 0.95, 100);
	CHECK(n == 6, "a=2, target 0: %d servers, want 6", n);
	n = ErlangServersFor(2.0, 1.0, 0.95, 100);
	CHECK(n == 4, "a=2, target 1 hold: %d servers, want 4", n);
	n = ErlangServersFor(0.0, 0.0, 0.95, 100);
	CHECK(n == 1, "no load: %d servers, want 1", n);
	n = ErlangServersFor(0.01, 100.0, 0.95, 100);
	CHECK(n == 1, "a tiny load: %d servers, want 1", n);
	/* the quantile at the size found is within the target */
	CHECK(ErlangWaitQuantile(4, 2.0, 0.95) <= 1.0 &&
		  ErlangWaitQuantile(3, 2.0, 0.95) > 1.0,
		  "quantiles around the size found: %g, %g",
		  ErlangWaitQuantile(4, 2.0, 0.95), ErlangWaitQuantile(3, 2.0, 0.95));
	CHECK(CLOSE(ErlangWaitExceeds(3, 2.0, 1.0), 0.444444444444 * exp(-1.0),
				1e-9), "P(wait > 1 hold) at c=3, a=2");
}

/* An exponential deviate of mean 1. */
static double
rng_exponential(uint64 *state)
{
	return -log(1.0 - rng_unit(state));
}

/*
 * A first-come first-served queue with 3 servers, Poisson arrivals and
 * exponential holds of mean 1, load 2: each arrival takes the server that
 * frees first.  With 400,000 arrivals the share that waits and the share
 * that waits over half a hold are within 0.01 of the model's (the
 * standard error of a share near 0.4 over this many correlated arrivals
 * is a few thousandths).
 */
static void
test_simulation(void)
{
	double		free_at[3] = {0.0, 0.0, 0.0};
	double		now = 0.0;
	double		load = 2.0;
	uint64		state = UINT64CONST(0x9E3779B97F4A7C15);
	long		n = 400000;
	long		waited = 0;
	long		waited_long = 0;
	long		i;

	for (i = 0; i < n; i++)
	{
		int			first = 0;
		int			s;
		double		start;

		now += rng_exponential(&state) / load;	/* arrival rate 2, mu 1 */
		for (s = 1; s < 3; s++)
			if (free_at[s] < free_at[first])
				first = s;
		start = Max(now, free_at[first]);
		if (start > now)
			waited++;
		if (start - now > 0.5)
			waited_long++;
		free_at[first] = start + rng_exponential(&state);
	}
	CHECK(CLOSE((double) waited / n, ErlangC(3, load), 0.01),
		  "simulated P(wait > 0) %.4f, model %.4f",
		  (double) waited / n, ErlangC(3, load));
	CHECK(CLOSE((double) waited_long / n, ErlangWaitExceeds(3, load, 0.5),
				0.01),
		  "simulated P(wait > 0.5) %.4f, model %.4f",
		  (double) waited_long / n, ErlangWaitExceeds(3, load, 0.5));
}

int
main(void)
{
	test_known_values();
	test_large_loads();
	test_sizing();
	test_simulation();
	if (failures > 0)
	{
		printf("test_erlang: %d check(s) FAILED\n", failures);
		return 1;
	}
	printf("test_erlang: all checks passed\n");
	return 0;
}
