/*-------------------------------------------------------------------------
 *
 * dashboard.c
 *	  pgpool_ext.dashboard(): everything a monitoring UI shows of every
 *	  pool, as one jsonb document.
 *
 * One call returns, per pool: its definition (every option of the option
 * table, the conninfo's password masked), connections by state, waiters
 * and the oldest wait, the counters since the last reset, the recent
 * (5 minute) wait, hold and query percentiles, efficiency, its
 * partitions, the ten oldest waiters, its leaked handles and its usage
 * intervals of the last 60 minutes.  The document's keys are listed in
 * the README ("dashboard()"); "version" changes when a key changes
 * meaning or goes away (adding a key does not change it).
 *
 * The copy is snapshot.c's (shared with metrics() and the partitions
 * view) plus leaks.c's copy of the leaked handles; the document is written
 * as JSON text with escape_json after every lock is released and read
 * into jsonb once.  metrics('json') keeps its own 0.3 shape (a list of
 * metric families): this is the document for UIs.
 *
 * Privileges: EXECUTE is revoked from PUBLIC and granted to
 * pg_read_all_stats (the rule of the views).  Should a superuser grant it
 * to another role, that role's document holds only the waiters and leaked
 * handles of its own sessions (LeaksVisible, as the leaks view).
 *
 * Locking: none held while writing; PoolSnapshotTake and LeaksCopyHeld
 * take and release the global lock and the pool locks, shared.
 *
 * src/sql/dashboard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "common/conninfo.h"
#include "shm/options.h"
#include "shm/pool.h"
#include "shm/waitq.h"
#include "sql/leaks.h"
#include "sql/snapshot.h"

PG_FUNCTION_INFO_V1(pgpool_ext_dashboard);

/* The document's "version": bumped when a key changes or goes away. */
#define DASHBOARD_VERSION	1

/* Oldest waiters listed per pool. */
#define DASHBOARD_WAITERS	10

/* What the document is made of: the snapshot and the leaked handles. */
typedef struct DashData
{
	PoolSnapshot snap;
	LeakRow    *leaks;
	int			nleaks;
} DashData;

static void dash_write_pool(StringInfo buf, const DashData *d, int p);
static void dash_write_definition(StringInfo buf, const PoolDefinition *def);
static void dash_write_counts(StringInfo buf, const int *count);
static void dash_write_latency(StringInfo buf, const DashData *d, int p,
							   StatsKind kind);
static void dash_write_partitions(StringInfo buf, const DashData *d, int p);
static void dash_write_waiters(StringInfo buf, const DashData *d, int p);
static void dash_write_leaks(StringInfo buf, const DashData *d, int p);
static void dash_write_usage(StringInfo buf, const SnapPool *sp);
static void dash_write_efficiency(StringInfo buf, const SnapPool *sp);
static int	dash_waiter_cmp(const void *a, const void *b);

static const char *const dash_kind_names[PGPOOL_NKINDS] = {
	"wait", "hold", "query"
};

/*
 * dash_key
 *		Start the member "key" of the object being written (with the comma
 *		before it unless it is the first).
 */
static void
dash_key(StringInfo buf, const char *key)
{
	char		last = buf->len > 0 ? buf->data[buf->len - 1] : '{';

	if (last != '{' && last != '[')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
}

/* Start an element of the array being written. */
static void
dash_elem(StringInfo buf)
{
	if (buf->data[buf->len - 1] != '[')
		appendStringInfoString(buf, ", ");
}

/* Member key: a number. */
static void
dash_num(StringInfo buf, const char *key, double value)
{
	dash_key(buf, key);
	SnapAppendNumber(buf, value);
}

/* Member key: a string, or null for NULL (or "" when empty_null). */
static void
dash_text(StringInfo buf, const char *key, const char *value, bool empty_null)
{
	dash_key(buf, key);
	if (value == NULL || (empty_null && value[0] == '\0'))
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/* Member key: a time in ISO 8601 with its offset, or null for 0. */
static void
dash_time(StringInfo buf, const char *key, TimestampTz t)
{
	char		iso[MAXDATELEN + 1];

	dash_key(buf, key);
	if (t == 0)
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "\"%s\"",
						 JsonEncodeDateTime(iso, TimestampTzGetDatum(t),
											TIMESTAMPTZOID, NULL));
}

/* Member key: true or false. */
static void
dash_bool(StringInfo buf, const char *key, bool value)
{
	dash_key(buf, key);
	appendStringInfoString(buf, value ? "true" : "false");
}

/*
 * dashboard() -> jsonb
 */
Datum
pgpool_ext_dashboard(PG_FUNCTION_ARGS)
{
	DashData	d;
	StringInfoData buf;
	int			p;

	PoolSnapshotTake(&d.snap, SNAP_LATENCY_RECENT | SNAP_WAITERS |
					 SNAP_USAGE | SNAP_INTERVALS | SNAP_EFFICIENCY);
	d.leaks = LeaksCopyHeld(&d.nleaks, d.snap.now);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	dash_num(&buf, "version", DASHBOARD_VERSION);
	dash_time(&buf, "generated_at", d.snap.now);
	dash_bool(&buf, "worker_up", d.snap.worker_up);
	dash_key(&buf, "pools");
	appendStringInfoChar(&buf, '[');
	for (p = 0; p < d.snap.npools; p++)
	{
		dash_elem(&buf);
		dash_write_pool(&buf, &d, p);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * dash_write_pool
 *		The object of one pool.
 */
static void
dash_write_pool(StringInfo buf, const DashData *d, int p)
{
	const SnapPool *sp = &d->snap.pools[p];
	int			count[PGPOOL_NSTATES] = {0};
	TimestampTz oldest = 0;
	int			i;
	int			s;

	for (i = sp->first_part; i < sp->first_part + sp->nparts; i++)
	{
		const SnapPart *part = &d->snap.parts[i];

		for (s = 0; s < PGPOOL_NSTATES; s++)
			count[s] += part->count[s];
		if (part->oldest_wait != 0 &&
			(oldest == 0 || part->oldest_wait < oldest))
			oldest = part->oldest_wait;
	}
	appendStringInfoChar(buf, '{');
	dash_text(buf, "name", sp->name, false);
	dash_write_definition(buf, &sp->def);
	dash_key(buf, "connections");
	dash_write_counts(buf, count);
	dash_num(buf, "total", sp->nconns);
	dash_num(buf, "waiting", sp->nwaiting);
	dash_num(buf, "max_wait", SnapSeconds(oldest, d->snap.now));
	dash_key(buf, "counters");
	appendStringInfoChar(buf, '{');
	dash_num(buf, "acquires", (double) sp->counters[STAT_ACQUIRES]);
	dash_num(buf, "waits", (double) sp->counters[STAT_WAITS]);
	dash_num(buf, "timeouts", (double) sp->counters[STAT_TIMEOUTS]);
	dash_num(buf, "connects", (double) sp->counters[STAT_CONNECTS]);
	dash_num(buf, "connect_failures",
			 (double) sp->counters[STAT_CONNECT_FAILURES]);
	dash_num(buf, "closes", (double) sp->counters[STAT_CLOSES]);
	appendStringInfoChar(buf, '}');
	dash_time(buf, "stats_reset", sp->stats_reset);
	dash_text(buf, "last_connect_error", sp->last_error, true);
	for (i = 0; i < PGPOOL_NKINDS; i++)
		dash_write_latency(buf, d, p, (StatsKind) i);
	dash_write_efficiency(buf, sp);
	dash_write_partitions(buf, d, p);
	dash_write_waiters(buf, d, p);
	dash_write_leaks(buf, d, p);
	dash_write_usage(buf, sp);
	appendStringInfoChar(buf, '}');
}

/*
 * dash_write_definition
 *		"definition": every pool option of the option table, under its
 *		name, as create_pool takes it: numbers, booleans, text, durations
 *		in seconds (null: not set, a parameter applies); the conninfo with
 *		its passwords masked.
 */
static void
dash_write_definition(StringInfo buf, const PoolDefinition *def)
{
	int			i;

	dash_key(buf, "definition");
	appendStringInfoChar(buf, '{');
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		const PoolOption *opt = &OptionsTable[i];
		const char *field = (const char *) def + opt->offset;
		int			n;

		switch (opt->type)
		{
			case OPTION_TEXT:
				dash_text(buf, opt->name, i == OPTION_CONNINFO ?
						  ConninfoMask(field) : field, false);
				break;
			case OPTION_INT:
				dash_num(buf, opt->name, *(const int *) field);
				break;
			case OPTION_INTERVAL_MS:
				n = *(const int *) field;
				dash_key(buf, opt->name);
				if (n < 0 && opt->if_null == OPTION_NULL_UNSET)
					appendStringInfoString(buf, "null");
				else
					SnapAppendNumber(buf, n / 1000.0);
				break;
			case OPTION_BOOL:
				dash_bool(buf, opt->name, *(const bool *) field);
				break;
		}
	}
	appendStringInfoChar(buf, '}');
}

/*
 * dash_write_counts
 *		An object of slot counts: one member per state (the connections
 *		view's names) and "in_use" (acquired + busy + broken, as the pools
 *		view).
 */
static void
dash_write_counts(StringInfo buf, const int *count)
{
	int			s;

	appendStringInfoChar(buf, '{');
	for (s = SLOT_FREE + 1; s < PGPOOL_NSTATES; s++)
		dash_num(buf, PoolSlotStateName((PoolSlotState) s), count[s]);
	dash_num(buf, "in_use",
			 count[SLOT_ACQUIRED] + count[SLOT_BUSY] + count[SLOT_BROKEN]);
	appendStringInfoChar(buf, '}');
}

/*
 * dash_write_latency
 *		"wait", "hold" or "query": the pool's distribution over the last 5
 *		minutes (count, mean, p50, p95, p99, max in seconds; null without
 *		values), and the waits that timed out or were cancelled, or the
 *		requests that failed.
 */
static void
dash_write_latency(StringInfo buf, const DashData *d, int p, StatsKind kind)
{
	HistSnapshot *merged = palloc(sizeof(HistSnapshot));
	uint64		outcomes[PGPOOL_NOUTCOMES];
	StatsSummary sum;
	const char *names[] = {"mean", "p50", "p95", "p99", "max"};
	double		values[5];
	int			i;

	PoolSnapshotMergeLatency(&d->snap, p, kind, STATS_RECENT, merged,
							 outcomes);
	StatsSummarize(merged, &sum);
	values[0] = sum.mean;
	values[1] = sum.p50;
	values[2] = sum.p95;
	values[3] = sum.p99;
	values[4] = sum.max;
	dash_key(buf, dash_kind_names[kind]);
	appendStringInfoChar(buf, '{');
	dash_num(buf, "count", (double) sum.count);
	for (i = 0; i < lengthof(values); i++)
	{
		dash_key(buf, names[i]);
		if (sum.count == 0)
			appendStringInfoString(buf, "null");
		else
			SnapAppendNumber(buf, values[i]);
	}
	if (kind == STATS_WAIT)
	{
		dash_num(buf, "timeouts", (double) outcomes[STATS_TIMEOUT]);
		dash_num(buf, "cancels", (double) outcomes[STATS_CANCEL]);
	}
	else if (kind == STATS_QUERY)
		dash_num(buf, "errors", (double) outcomes[STATS_ERROR]);
	appendStringInfoChar(buf, '}');
	pfree(merged);
}

/*
 * dash_write_partitions
 *		"partitions": key ("" the default), slot counts, waiting, the
 *		oldest wait, and acquires, waits and timeouts since the last reset.
 */
static void
dash_write_partitions(StringInfo buf, const DashData *d, int p)
{
	const SnapPool *sp = &d->snap.pools[p];
	int			i;

	dash_key(buf, "partitions");
	appendStringInfoChar(buf, '[');
	for (i = sp->first_part; i < sp->first_part + sp->nparts; i++)
	{
		const SnapPart *part = &d->snap.parts[i];

		dash_elem(buf);
		appendStringInfoChar(buf, '{');
		dash_text(buf, "partition", part->key, false);
		dash_key(buf, "connections");
		dash_write_counts(buf, part->count);
		dash_num(buf, "waiting", part->nwaiting);
		dash_num(buf, "max_wait", SnapSeconds(part->oldest_wait, d->snap.now));
		dash_num(buf, "acquires",
				 (double) part->usage_total.events[USAGE_ACQUIRES]);
		dash_num(buf, "waits", (double) part->usage_total.events[USAGE_WAITS]);
		dash_num(buf, "timeouts",
				 (double) part->usage_total.events[USAGE_TIMEOUTS]);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/* Waiters by the start of their wait, oldest first. */
static int
dash_waiter_cmp(const void *a, const void *b)
{
	TimestampTz ta = ((const SnapWaiter *) a)->wait_start;
	TimestampTz tb = ((const SnapWaiter *) b)->wait_start;

	return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/*
 * dash_write_waiters
 *		"waiters": the DASHBOARD_WAITERS oldest waiters the current user
 *		may see: pid, role, partition, priority, position, waiting_for.
 */
static void
dash_write_waiters(StringInfo buf, const DashData *d, int p)
{
	const SnapPool *sp = &d->snap.pools[p];
	SnapWaiter *w = d->snap.waiters + sp->first_waiter;
	int			shown = 0;
	int			i;

	qsort(w, sp->nwaiters, sizeof(SnapWaiter), dash_waiter_cmp);
	dash_key(buf, "waiters");
	appendStringInfoChar(buf, '[');
	for (i = 0; i < sp->nwaiters && shown < DASHBOARD_WAITERS; i++)
	{
		if (!LeaksVisible(w[i].role))
			continue;
		dash_elem(buf);
		appendStringInfoChar(buf, '{');
		dash_num(buf, "pid", w[i].pid);
		dash_text(buf, "role", GetUserNameFromId(w[i].role, true), false);
		dash_text(buf, "partition", d->snap.parts[w[i].part].key, false);
		dash_text(buf, "priority", WaitqPriorityName(w[i].priority), false);
		dash_num(buf, "position", w[i].position);
		dash_num(buf, "waiting_for", SnapSeconds(w[i].wait_start,
												 d->snap.now));
		appendStringInfoChar(buf, '}');
		shown++;
	}
	appendStringInfoChar(buf, ']');
}

/*
 * dash_write_leaks
 *		"leaks": the pool's handles held past its leak threshold that the
 *		current user may see, as the leaks view shows them (acquire_query
 *		masked and cut when it was captured).
 */
static void
dash_write_leaks(StringInfo buf, const DashData *d, int p)
{
	const char *pool = d->snap.pools[p].name;
	TimestampTz now = d->snap.now;
	int			i;

	dash_key(buf, "leaks");
	appendStringInfoChar(buf, '[');
	for (i = 0; i < d->nleaks; i++)
	{
		const LeakRow *row = &d->leaks[i];
		const SlotEntry *slot = &row->slot;
		bool		site = LeakRowHasSite(row);

		if (strcmp(row->pool_name, pool) != 0 ||
			!LeaksVisible(LeakRowSessionUser(row)))
			continue;
		dash_elem(buf);
		appendStringInfoChar(buf, '{');
		dash_key(buf, "handle");	/* 63 bits: exact, not a double */
		appendStringInfo(buf, INT64_FORMAT, slot->handle);
		dash_text(buf, "partition", row->partition, false);
		dash_num(buf, "holder_pid", slot->holder_pid);
		dash_text(buf, "role", GetUserNameFromId(slot->holder_role, true),
				  false);
		dash_time(buf, "acquired_at", slot->acquired_at);
		dash_num(buf, "held_for", SnapSeconds(slot->acquired_at, now));
		dash_num(buf, "idle_for", slot->state == SLOT_BUSY ? 0.0 :
				 SnapSeconds(slot->last_used_at, now));
		dash_num(buf, "requests", row->leak.handle == slot->handle ?
				 (double) row->leak.requests : 0);
		dash_text(buf, "acquire_query", site ? row->leak.query : NULL, false);
		dash_text(buf, "acquire_context", site ? row->leak.context : NULL,
				  true);
		dash_key(buf, "remote_in_transaction");
		appendStringInfoString(buf, row->leak.reported != slot->handle ||
							   row->leak.remote_xact < 0 ? "null" :
							   row->leak.remote_xact > 0 ? "true" : "false");
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/* A gauge's time-weighted average over a tally (0 for no time). */
static double
dash_average(const UsageTally *t, UsageGauge g)
{
	return t->elapsed_us > 0 ? (double) t->area[g] / t->elapsed_us : 0.0;
}

/*
 * dash_write_usage
 *		"usage": the pool's usage intervals (pgpool_ext.usage_interval wide)
 *		that overlap the last 60 minutes, oldest first, as usage_hourly
 *		shows them: hour_start, interval_s, event counts, average and peak
 *		in use and waiting, wait_p95 (seconds, null without waits).
 */
static void
dash_write_usage(StringInfo buf, const SnapPool *sp)
{
	static const struct
	{
		const char *name;
		UsageEvent	event;
	}			events[] = {
		{"acquires", USAGE_ACQUIRES}, {"waits", USAGE_WAITS},
		{"timeouts", USAGE_TIMEOUTS}, {"errors", USAGE_ERRORS},
		{"connects", USAGE_CONNECTS}, {"closes", USAGE_CLOSES}
	};
	int			k;
	int			e;

	dash_key(buf, "usage");
	appendStringInfoChar(buf, '[');
	for (k = 0; k < sp->nintervals; k++)
	{
		const SnapInterval *iv = &sp->intervals[k];

		dash_elem(buf);
		appendStringInfoChar(buf, '{');
		dash_time(buf, "hour_start", iv->start);
		dash_num(buf, "interval_s", iv->width_s);
		for (e = 0; e < lengthof(events); e++)
			dash_num(buf, events[e].name,
					 (double) iv->tally.events[events[e].event]);
		dash_num(buf, "avg_in_use", dash_average(&iv->tally, USAGE_IN_USE));
		dash_num(buf, "peak_in_use", iv->tally.peak[USAGE_IN_USE]);
		dash_num(buf, "avg_waiting", dash_average(&iv->tally, USAGE_WAITING));
		dash_num(buf, "peak_waiting", iv->tally.peak[USAGE_WAITING]);
		dash_key(buf, "wait_p95");
		if (iv->wait_p95 < 0)
			appendStringInfoString(buf, "null");
		else
			SnapAppendNumber(buf, iv->wait_p95);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/* Member key: a number, or null for NaN (undefined). */
static void
dash_num_or_null(StringInfo buf, const char *key, double value)
{
	dash_key(buf, key);
	if (isnan(value))
		appendStringInfoString(buf, "null");
	else
		SnapAppendNumber(buf, value);
}

/*
 * dash_write_efficiency
 *		"efficiency": the efficiency view's row of the whole pool over the
 *		last 5 minutes (efficiency.c), its columns as keys; null when the
 *		snapshot has no input for it.
 */
static void
dash_write_efficiency(StringInfo buf, const SnapPool *sp)
{
	EfficiencyRow row;
	int			k;

	dash_key(buf, "efficiency");
	if (sp->efficiency == NULL)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	EfficiencyFromInput(sp->efficiency, &row);
	appendStringInfoChar(buf, '{');
	for (k = 0; k < EFF_NMEASURES; k++)
		dash_num_or_null(buf, EfficiencyMeasureNames[k], row.measure[k]);
	dash_num(buf, "max_size", row.max_size);
	dash_num(buf, "target_wait", row.target_wait);
	dash_num_or_null(buf, "wait_p95", row.wait_p95);
	dash_num_or_null(buf, "recommended_max_size",
					 row.recommended_max_size < 0 ? get_float8_nan() :
					 row.recommended_max_size);
	dash_text(buf, "advice", row.advice, true);
	appendStringInfoChar(buf, '}');
}
