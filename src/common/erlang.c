/*-------------------------------------------------------------------------
 *
 * erlang.c
 *	  The Erlang C queueing model (M/M/c) that sizes a pool.
 *
 * A pool of c connections serving acquires that arrive at rate lambda
 * (Poisson) and hold a connection for an exponentially distributed time of
 * mean h is an M/M/c queue with offered load a = lambda * h Erlangs.  When
 * c > a the queue is stable and (Erlang C)
 *
 *		P(wait > 0) = C(c, a) = c B(c, a) / (c - a (1 - B(c, a)))
 *		P(wait > t) = C(c, a) exp(-(c - a) t / h)
 *
 * with B(c, a) the Erlang B blocking probability, computed by its
 * recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)): every term stays
 * in [0, 1], so no factorial or power of a overflows, whatever a and c
 * (the textbook sum of a^k / k! overflows a double past k of about 170).
 * Times are given in units of the mean hold (t / h), so the functions
 * need only a, and the caller converts.  When c <= a the queue grows
 * without bound: every acquire waits (C = 1) and no quantile is finite.
 *
 * Every loop runs at most ERLANG_MAX_SERVERS times.
 *
 * Locking: none; pure arithmetic on the arguments.
 *
 * src/common/erlang.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/erlang.h"

static double erlang_c_from_b(int servers, double load, double b);

/*
 * ErlangB
 *		The Erlang B blocking probability of servers servers (capped at
 *		ERLANG_MAX_SERVERS) offered load Erlangs: 1 for no server, 0 for no
 *		load.
 */
double
ErlangB(int servers, double load)
{
	double		b = 1.0;
	int			k;

	if (load <= 0.0)
		return servers > 0 ? 0.0 : 1.0;
	servers = Min(servers, ERLANG_MAX_SERVERS);
	for (k = 1; k <= servers; k++)
		b = load * b / (k + load * b);
	return b;
}

/*
 * erlang_c_from_b
 *		Erlang C from Erlang B of the same servers and load; 1 when the
 *		queue is unstable (servers <= load).
 */
static double
erlang_c_from_b(int servers, double load, double b)
{
	double		c;

	if (load <= 0.0)
		return 0.0;
	if ((double) servers <= load)
		return 1.0;
	c = servers * b / (servers - load * (1.0 - b));
	return Min(c, 1.0);
}

/*
 * ErlangC
 *		The probability that an arrival waits, with servers servers and load
 *		Erlangs offered (M/M/c); 1 when servers <= load.
 */
double
ErlangC(int servers, double load)
{
	return erlang_c_from_b(servers, load, ErlangB(servers, load));
}

/*
 * ErlangWaitExceeds
 *		P(wait > t), t given in mean holds (t_holds = t / h).
 */
double
ErlangWaitExceeds(int servers, double load, double t_holds)
{
	double		c = ErlangC(servers, load);

	if ((double) servers <= load)
		return 1.0;
	return c * exp(-((double) servers - load) * Max(t_holds, 0.0));
}

/*
 * ErlangWaitQuantile
 *		The q-quantile of the wait (0 < q < 1), in mean holds: the smallest
 *		t with P(wait > t) <= 1 - q.  0 when at most 1 - q of the arrivals
 *		wait at all; infinity when servers <= load.
 */
double
ErlangWaitQuantile(int servers, double load, double q)
{
	double		c = ErlangC(servers, load);

	if ((double) servers <= load)
		return HUGE_VAL;
	if (c <= 1.0 - q)
		return 0.0;
	return log(c / (1.0 - q)) / ((double) servers - load);
}

/*
 * ErlangServersFor
 *		The smallest number of servers (at least 1, more than load) whose
 *		wait q-quantile is at most target_holds mean holds:
 *		P(wait > target) <= 1 - q.  -1 when more than max_servers (or
 *		ERLANG_MAX_SERVERS) would be needed.  B is carried from one count of
 *		servers to the next, so the search costs one step per server.
 */
int
ErlangServersFor(double load, double target_holds, double q, int max_servers)
{
	double		b = 1.0;
	int			servers;

	if (load <= 0.0)
		return 1;
	max_servers = Min(max_servers, ERLANG_MAX_SERVERS);
	for (servers = 1; servers <= max_servers; servers++)
	{
		double		c;

		b = load * b / (servers + load * b);
		if ((double) servers <= load)
			continue;
		c = erlang_c_from_b(servers, load, b);
		if (c * exp(-((double) servers - load) * Max(target_holds, 0.0))
			<= 1.0 - q)
			return servers;
	}
	return -1;
}
