/*-------------------------------------------------------------------------
 *
 * interval.h
 *	  The one conversion of interval arguments and options to milliseconds.
 *
 * src/common/interval.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_INTERVAL_H
#define PGPOOL_INTERVAL_H

#include "datatype/timestamp.h"

extern bool IntervalToMs(const Interval *iv, int *ms);
extern char *IntervalFormatMs(int64 ms);
extern int	IntervalArgToTimeout(const Interval *iv);

#endif							/* PGPOOL_INTERVAL_H */
