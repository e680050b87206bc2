/*-------------------------------------------------------------------------
 *
 * efficiency.h
 *	  How well a pool's connections are used, and the max_size its load
 *	  needs (efficiency.c): the rows of pgpool_ext.efficiency, for the view
 *	  and the dashboard.
 *
 * Two steps, so that the arithmetic runs with no lock held: EfficiencyCopy
 * copies what one row needs out of shared memory (the usage tally and the
 * wait, hold and query histograms of one window), EfficiencyFromInput
 * computes the row from the copy.  EfficiencyCompute does both.
 *
 * Locking: EfficiencyCopy and EfficiencyCompute: caller holds the global
 * lock and the pool's lock, both at least shared (the pool's row walks the
 * partition entries).  EfficiencyFromInput: none.
 *
 * src/sql/efficiency.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_SQL_EFFICIENCY_H
#define PGPOOL_SQL_EFFICIENCY_H

#include "shm/histogram.h"
#include "shm/stats.h"
#include "shm/usage.h"

/* target_wait of a pool whose schema predates the option (0.3) */
#define EFFICIENCY_DEFAULT_TARGET_WAIT_MS	10

/* What "enough data" for a recommendation is */
#define EFFICIENCY_MIN_ACQUIRES		100 /* acquires (and timeouts) */
#define EFFICIENCY_MIN_ELAPSED_S	10	/* seconds of the window */

/* The wait quantile the recommendation keeps under target_wait */
#define EFFICIENCY_QUANTILE			0.95

#define EFFICIENCY_ADVICE_LEN		256

/* The double precision measures of a row, in the view's column order */
typedef enum EfficiencyMeasure
{
	EFF_ELAPSED = 0,			/* seconds the window covers */
	EFF_UTILIZATION,			/* time in use / time open */
	EFF_SATURATION,				/* share of the time someone waited */
	EFF_IMMEDIATE_RATIO,		/* grants without a wait / grants */
	EFF_REUSE,					/* grants per connection opened */
	EFF_CHURN_PER_HOUR,			/* connections opened per hour */
	EFF_IDLE_CONNECTION_SECONDS,	/* integral of the idle connections */
	EFF_RESET_SHARE,			/* time resetting / time held */
	EFF_BUSY_SHARE,				/* time a request was in flight / held */
	EFF_MEAN_HOLD,				/* seconds, from the hold histogram */
	EFF_MEAN_QUERY,				/* seconds, from the query histogram */
	EFF_ARRIVAL_RATE,			/* acquires (granted or timed out) / s */
	EFF_OFFERED_LOAD			/* Erlangs: arrival_rate x mean_hold */
} EfficiencyMeasure;

#define EFF_NMEASURES	(EFF_OFFERED_LOAD + 1)

/* The view's column names of the measures (also the dashboard's keys) */
extern const char *const EfficiencyMeasureNames[EFF_NMEASURES];

/* What one row is computed from: copied under the locks */
typedef struct EfficiencyInput
{
	UsageTally	tally;
	HistSnapshot wait;
	HistSnapshot hold;
	HistSnapshot query;
	uint64		wait_cancels;	/* waits given up other than by timeout */
	bool		partition;		/* a partition's row, not the pool's */
	int			max_size;		/* the pool's */
	int			min_size;		/* the pool's: advice never goes under */
	int			target_wait_ms; /* the pool's (default filled in) */
} EfficiencyInput;

/* One row of the view, less its keys */
typedef struct EfficiencyRow
{
	double		measure[EFF_NMEASURES]; /* NaN: undefined (NULL) */
	int			max_size;
	double		target_wait;	/* seconds */
	double		wait_p95;		/* seconds, observed; NaN: no wait */
	int			recommended_max_size;	/* -1: not enough data (NULL) */
	char		advice[EFFICIENCY_ADVICE_LEN];
} EfficiencyRow;

extern void EfficiencyCopy(int pool_idx, int part_idx, StatsWindow window,
						   TimestampTz now, EfficiencyInput *in);
extern void EfficiencyFromInput(const EfficiencyInput *in,
								EfficiencyRow *out);
extern void EfficiencyCompute(int pool_idx, int part_idx, StatsWindow window,
							  TimestampTz now, EfficiencyRow *out);

#endif							/* PGPOOL_SQL_EFFICIENCY_H */
