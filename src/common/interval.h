/*-------------------------------------------------------------------------
 *
 * interval.h
 *	  The one conversion of interval arguments and options to milliseconds.
 *
 * src/interval.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_INTERVAL_H
#define PGPOOL_INTERVAL_H

#include "datatype/timestamp.h"

extern bool PoolIntervalToMs(const Interval *iv, int *ms);

#endif							/* PGPOOL_INTERVAL_H */
