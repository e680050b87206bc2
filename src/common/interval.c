/*-------------------------------------------------------------------------
 *
 * interval.c
 *	  The one conversion of interval arguments and options to milliseconds.
 *
 * Timeouts are given as intervals (acquire's timeout, a pool's
 * idle_timeout and connect_timeout) and used as milliseconds in an int.
 * The SQL functions that accept them and the pool worker that loads the
 * stored definitions both convert through IntervalToMs(), so a value
 * accepted on one side means the same on the other: a month counts 30
 * days and a year 12 months (as interval comparison does), and anything
 * negative, overflowing or beyond PG_INT32_MAX milliseconds is refused.
 * IntervalArgToTimeout() is the argument check of the functions that take
 * an acquire timeout (acquire, run).
 *
 * Locking: none.
 *
 * src/common/interval.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "common/interval.h"
#include "common/pgpool_errors.h"

/*
 * IntervalToMs
 *		*ms = the interval in milliseconds (microseconds truncated); false if
 *		it is negative or does not fit in [0, PG_INT32_MAX].
 */
bool
IntervalToMs(const Interval *iv, int *ms)
{
	int64		days;
	int64		total;

	/* months and days are int32: these products cannot overflow int64 */
	days = (int64) iv->month * DAYS_PER_MONTH + iv->day;
	if (pg_mul_s64_overflow(days, (int64) SECS_PER_DAY * 1000, &total) ||
		pg_add_s64_overflow(total, iv->time / 1000, &total))
		return false;
	if (total < 0 || total > PG_INT32_MAX)
		return false;
	*ms = (int) total;
	return true;
}

/*
 * IntervalArgToTimeout
 *		An acquire timeout argument in milliseconds (0: wait forever),
 *		checked: 22023 when IntervalToMs refuses it.
 */
int
IntervalArgToTimeout(const Interval *iv)
{
	int			ms;

	if (!IntervalToMs(iv, &ms))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid acquire timeout"),
				 errdetail("The timeout must be between 0 (wait forever) and %d milliseconds.",
						   PG_INT32_MAX)));
	return ms;
}

/*
 * IntervalFormatMs
 *		A duration in milliseconds as interval text ("00:00:05.012" in the
 *		default IntervalStyle), for messages.
 */
char *
IntervalFormatMs(int64 ms)
{
	Interval	iv;

	memset(&iv, 0, sizeof(iv));
	iv.time = ms * 1000;
	return DatumGetCString(DirectFunctionCall1(interval_out,
											   IntervalPGetDatum(&iv)));
}
