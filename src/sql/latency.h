/*-------------------------------------------------------------------------
 *
 * latency.h
 *	  Latency statistics as SQL shows them (latency.c).
 *
 * src/sql/latency.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_SQL_LATENCY_H
#define PGPOOL_SQL_LATENCY_H

#include "shm/stats.h"

extern void LatencyPoolSummary(int pool, StatsKind kind, StatsWindow window,
							   StatsSummary *sum);

#endif							/* PGPOOL_SQL_LATENCY_H */
