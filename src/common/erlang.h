/*-------------------------------------------------------------------------
 *
 * erlang.h
 *	  The Erlang C queueing model (M/M/c) that sizes a pool: the chance an
 *	  acquire waits, its wait quantiles, the smallest pool that keeps a
 *	  wait quantile under a target.
 *
 * Pure arithmetic (erlang.c): no shared memory, no allocation, no error
 * raised; the unit test (test/unit/test_erlang.c) links erlang.c alone.
 *
 * src/common/erlang.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_ERLANG_H
#define PGPOOL_ERLANG_H

/* The largest pool the model is asked about: a bound on every loop. */
#define ERLANG_MAX_SERVERS		10000

extern double ErlangB(int servers, double load);
extern double ErlangC(int servers, double load);
extern double ErlangWaitExceeds(int servers, double load, double t_holds);
extern double ErlangWaitQuantile(int servers, double load, double q);
extern int	ErlangServersFor(double load, double target_holds, double q,
							 int max_servers);

#endif							/* PGPOOL_ERLANG_H */
