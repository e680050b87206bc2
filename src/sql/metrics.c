/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  pgpool_ext.metrics(format): every statistic of every pool in one
 *	  document, as Prometheus text, JSON or CSV.
 *
 * One table, metric_families[], names every metric with its type, scope
 * (the whole extension, a pool, a partition, a partition and a slot state)
 * and help text; the three formats are three writers over the same walk of
 * that table, so a new statistic is one row here plus its value.  Names
 * follow the Prometheus conventions and pgbouncer_exporter's habits: base
 * units (seconds), counters end in _total, labels "pool", "partition" (""
 * is the default partition) and "state".  Latency distributions are
 * Prometheus histograms over the bucket set of shm/histogram.h (its
 * HistPromBound): cumulative counts, exact because every bound is a bound
 * of the internal buckets, of the stats module's since-reset window (the
 * latency view's 'total'; reset_stats() is a counter reset to Prometheus).
 * Partition figures are not summed into pool figures here: sum by (pool)
 * in PromQL does that.
 *
 * Privileges: like the views, EXECUTE is revoked from PUBLIC and granted to
 * pg_read_all_stats.  Every series is an aggregate over a pool or a
 * partition: no pid, role, handle or conninfo appears, so there is nothing
 * per backend to filter; passwords never appear.
 *
 * Locking: the snapshot is the one of snapshot.c (PoolSnapshotTake: the
 * global lock shared, then each pool's lock shared, one pool at a time;
 * histograms through StatsCopy under that pool lock), shared with
 * dashboard() and the partitions view; the document is written after
 * every lock is released.
 *
 * src/sql/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "backend/lookup.h"
#include "common/pgpool_errors.h"
#include "shm/histogram.h"
#include "shm/pool.h"
#include "shm/shmem.h"
#include "shm/stats.h"
#include "sql/snapshot.h"

PG_FUNCTION_INFO_V1(pgpool_ext_metrics);

typedef enum MetricsFormat
{
	FORMAT_PROMETHEUS,
	FORMAT_JSON,
	FORMAT_CSV
} MetricsFormat;

typedef enum MetricType
{
	METRIC_GAUGE,
	METRIC_COUNTER,
	METRIC_HISTOGRAM
} MetricType;

/* Which labels a metric has: one sample per what. */
typedef enum MetricScope
{
	SCOPE_GLOBAL,				/* no label */
	SCOPE_POOL,					/* pool */
	SCOPE_PARTITION,			/* pool, partition */
	SCOPE_STATE					/* pool, partition, state */
} MetricScope;

/* What a metric shows (metrics_value picks it from the snapshot). */
typedef enum MetricId
{
	M_WORKER_UP,
	M_POOL_MIN_SIZE,
	M_POOL_MAX_SIZE,
	M_POOL_COUNTER,				/* arg: a PoolCounter */
	M_STATS_RESET,
	M_CONNECTIONS,
	M_WAITING,
	M_MAX_WAIT,
	M_OUTCOME,					/* arg: a StatsOutcome */
	M_LATENCY					/* arg: a StatsKind (a histogram) */
} MetricId;

typedef struct MetricFamily
{
	const char *name;
	MetricType	type;
	MetricScope scope;
	MetricId	id;
	int			arg;
	const char *help;
} MetricFamily;

/* Every metric, in the order they are written. */
static const MetricFamily metric_families[] = {
	{"pgpool_ext_worker_up", METRIC_GAUGE, SCOPE_GLOBAL, M_WORKER_UP, 0,
	"Whether the pool worker is running (1) or not (0)."},
	{"pgpool_ext_pool_min_size", METRIC_GAUGE, SCOPE_POOL, M_POOL_MIN_SIZE, 0,
	"Connections the pool keeps open (min_size)."},
	{"pgpool_ext_pool_max_size", METRIC_GAUGE, SCOPE_POOL, M_POOL_MAX_SIZE, 0,
	"Most connections the pool may open (max_size)."},
	{"pgpool_ext_acquires_total", METRIC_COUNTER, SCOPE_POOL, M_POOL_COUNTER,
		STAT_ACQUIRES, "Handles granted."},
	{"pgpool_ext_waits_total", METRIC_COUNTER, SCOPE_POOL, M_POOL_COUNTER,
		STAT_WAITS, "Acquires that had to queue."},
	{"pgpool_ext_timeouts_total", METRIC_COUNTER, SCOPE_POOL, M_POOL_COUNTER,
		STAT_TIMEOUTS, "Acquires that gave up waiting (acquire_timeout)."},
	{"pgpool_ext_connects_total", METRIC_COUNTER, SCOPE_POOL, M_POOL_COUNTER,
		STAT_CONNECTS, "Remote connections established."},
	{"pgpool_ext_connect_failures_total", METRIC_COUNTER, SCOPE_POOL,
		M_POOL_COUNTER, STAT_CONNECT_FAILURES,
	"Remote connection attempts that failed."},
	{"pgpool_ext_closes_total", METRIC_COUNTER, SCOPE_POOL, M_POOL_COUNTER,
		STAT_CLOSES, "Remote connections closed, for any reason."},
	{"pgpool_ext_stats_reset_timestamp_seconds", METRIC_GAUGE, SCOPE_POOL,
		M_STATS_RESET, 0,
	"When the pool's statistics last started from zero (Unix time)."},
	{"pgpool_ext_connections", METRIC_GAUGE, SCOPE_STATE, M_CONNECTIONS, 0,
	"Remote connections of the partition by state (as the connections view)."},
	{"pgpool_ext_waiting_clients", METRIC_GAUGE, SCOPE_PARTITION, M_WAITING, 0,
	"Backends waiting in acquire for a connection of the partition."},
	{"pgpool_ext_max_wait_seconds", METRIC_GAUGE, SCOPE_PARTITION, M_MAX_WAIT,
		0, "How long the oldest waiter of the partition has waited (0: none)."},
	{"pgpool_ext_wait_cancels_total", METRIC_COUNTER, SCOPE_PARTITION,
		M_OUTCOME, STATS_CANCEL,
	"Waits that ended without a grant otherwise than by a timeout (cancel, error, exit)."},
	{"pgpool_ext_query_errors_total", METRIC_COUNTER, SCOPE_PARTITION,
		M_OUTCOME, STATS_ERROR, "Remote requests that ended in an error."},
	{"pgpool_ext_wait_seconds", METRIC_HISTOGRAM, SCOPE_PARTITION, M_LATENCY,
		STATS_WAIT, "Time from acquire to the grant or the end of the wait."},
	{"pgpool_ext_hold_seconds", METRIC_HISTOGRAM, SCOPE_PARTITION, M_LATENCY,
		STATS_HOLD, "Time from the grant of a handle to its release."},
	{"pgpool_ext_query_seconds", METRIC_HISTOGRAM, SCOPE_PARTITION, M_LATENCY,
		STATS_QUERY,
	"Time from a request sent to the pool worker to its last message back."},
};

#define METRICS_NFAMILIES lengthof(metric_families)

/* The labels of one sample; NULL: the sample has no such label. */
typedef struct MetricLabels
{
	const char *pool;
	const char *partition;
	const char *state;
	const char *le;				/* a histogram's bucket bound */
} MetricLabels;

#define METRICS_NLABELS 4

/* The document being written. */
typedef struct MetricsOut
{
	MetricsFormat format;
	StringInfoData buf;
	bool		first_family;	/* JSON: no comma before the next family */
	bool		first_sample;	/* JSON: no comma before the next sample */
} MetricsOut;

static MetricsFormat metrics_parse_format(const char *name);
static double metrics_value(const MetricFamily *f, const PoolSnapshot *snap,
							int pool, int part, int state);
static void metrics_write_family(MetricsOut *out, const MetricFamily *f,
								 const PoolSnapshot *snap);
static void metrics_write_partitions(MetricsOut *out, const MetricFamily *f,
									 const PoolSnapshot *snap);
static void metrics_write_sample(MetricsOut *out, const MetricFamily *f,
								 const MetricLabels *labels, double value);
static void metrics_write_histogram(MetricsOut *out, const MetricFamily *f,
									const MetricLabels *labels,
									const HistSnapshot *hist);
static void metrics_write_line(MetricsOut *out, const char *name,
							   const char *suffix, const MetricLabels *labels,
							   double value);
static void metrics_family_begin(MetricsOut *out, const MetricFamily *f);
static void metrics_family_end(MetricsOut *out);
static void metrics_json_sample_begin(MetricsOut *out,
									  const MetricLabels *labels);
static void metrics_prom_labels(StringInfo buf, const MetricLabels *labels);
static void metrics_prom_escape(StringInfo buf, const char *s);
static void metrics_csv_field(StringInfo buf, const char *s);
static void metrics_json_labels(StringInfo buf, const MetricLabels *labels);

/* Label names, in the order of MetricLabels' fields. */
static const char *const metric_label_names[METRICS_NLABELS] = {
	"pool", "partition", "state", "le"
};

/*
 * metrics_parse_format
 *		The format named by metrics()' argument; 22023 for any other.
 */
static MetricsFormat
metrics_parse_format(const char *name)
{
	if (strcmp(name, "prometheus") == 0)
		return FORMAT_PROMETHEUS;
	if (strcmp(name, "json") == 0)
		return FORMAT_JSON;
	if (strcmp(name, "csv") == 0)
		return FORMAT_CSV;
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("unknown metrics format \"%s\"", name),
			 errhint("The formats are \"prometheus\", \"json\" and \"csv\".")));
	pg_unreachable();
}

/*
 * metrics_value
 *		The value of metric f for one pool, partition or state (-1 where the
 *		metric's scope has no such thing).  Not for histograms.
 */
static double
metrics_value(const MetricFamily *f, const PoolSnapshot *snap,
			  int pool, int part, int state)
{
	const SnapPart *mpart = part >= 0 ? &snap->parts[part] : NULL;

	switch (f->id)
	{
		case M_WORKER_UP:
			return snap->worker_up ? 1 : 0;
		case M_POOL_MIN_SIZE:
			return snap->pools[pool].def.min_size;
		case M_POOL_MAX_SIZE:
			return snap->pools[pool].def.max_size;
		case M_POOL_COUNTER:
			return (double) snap->pools[pool].counters[f->arg];
		case M_STATS_RESET:
			return (double) snap->pools[pool].stats_reset / USECS_PER_SEC +
				(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
		case M_CONNECTIONS:
			return mpart->count[state];
		case M_WAITING:
			return mpart->nwaiting;
		case M_MAX_WAIT:
			if (mpart->oldest_wait == 0 || mpart->oldest_wait > snap->now)
				return 0;
			return (double) (snap->now - mpart->oldest_wait) / USECS_PER_SEC;
		case M_OUTCOME:
			/* a partition's outcomes, the same in the copy of every kind */
			return (double) mpart->outcomes[STATS_WAIT][STATS_TOTAL][f->arg];
		case M_LATENCY:
			break;
	}
	elog(ERROR, "metric %s has no single value", f->name);
	pg_unreachable();
}

/*
 * metrics_write_family
 *		Write one metric and all its samples: one per pool, partition or
 *		partition and slot state, as its scope says.
 */
static void
metrics_write_family(MetricsOut *out, const MetricFamily *f,
					 const PoolSnapshot *snap)
{
	MetricLabels labels = {0};
	int			i;

	metrics_family_begin(out, f);
	if (f->scope == SCOPE_GLOBAL)
		metrics_write_sample(out, f, &labels, metrics_value(f, snap, -1, -1, -1));
	else if (f->scope == SCOPE_POOL)
	{
		for (i = 0; i < snap->npools; i++)
		{
			labels.pool = snap->pools[i].name;
			metrics_write_sample(out, f, &labels,
								 metrics_value(f, snap, i, -1, -1));
		}
	}
	else
		metrics_write_partitions(out, f, snap);
	metrics_family_end(out);
}

/*
 * metrics_write_partitions
 *		The samples of a metric of partition or state scope.
 */
static void
metrics_write_partitions(MetricsOut *out, const MetricFamily *f,
						 const PoolSnapshot *snap)
{
	MetricLabels labels = {0};
	int			i;
	int			s;

	for (i = 0; i < snap->nparts; i++)
	{
		const SnapPart *mpart = &snap->parts[i];

		labels.pool = snap->pools[mpart->pool].name;
		labels.partition = mpart->key;
		if (f->type == METRIC_HISTOGRAM)
			metrics_write_histogram(out, f, &labels, &mpart->latency[f->arg][STATS_TOTAL]);
		else if (f->scope == SCOPE_PARTITION)
			metrics_write_sample(out, f, &labels,
								 metrics_value(f, snap, mpart->pool, i, -1));
		else
		{
			for (s = SLOT_FREE + 1; s < PGPOOL_NSTATES; s++)
			{
				labels.state = PoolSlotStateName((PoolSlotState) s);
				metrics_write_sample(out, f, &labels,
									 metrics_value(f, snap, mpart->pool, i, s));
			}
		}
	}
}

/*
 * metrics_family_begin
 *		Prometheus: the HELP and TYPE lines; JSON: open the family's object.
 */
static void
metrics_family_begin(MetricsOut *out, const MetricFamily *f)
{
	const char *type = f->type == METRIC_COUNTER ? "counter" :
		f->type == METRIC_HISTOGRAM ? "histogram" : "gauge";

	if (out->format == FORMAT_PROMETHEUS)
		appendStringInfo(&out->buf, "# HELP %s %s\n# TYPE %s %s\n",
						 f->name, f->help, f->name, type);
	else if (out->format == FORMAT_JSON)
	{
		appendStringInfoString(&out->buf, out->first_family ? "\n" : ",\n");
		appendStringInfo(&out->buf, "{\"name\": \"%s\", \"type\": \"%s\", \"help\": ",
						 f->name, type);
		escape_json(&out->buf, f->help);
		appendStringInfoString(&out->buf, ", \"samples\": [");
		out->first_family = false;
		out->first_sample = true;
	}
}

/* JSON: close the family's object (the other formats have nothing to do). */
static void
metrics_family_end(MetricsOut *out)
{
	if (out->format == FORMAT_JSON)
		appendStringInfoString(&out->buf, "]}");
}

/*
 * metrics_write_sample
 *		One value: a line (Prometheus, CSV) or {"labels": {...}, "value": v}
 *		(JSON).
 */
static void
metrics_write_sample(MetricsOut *out, const MetricFamily *f,
					 const MetricLabels *labels, double value)
{
	if (out->format != FORMAT_JSON)
	{
		metrics_write_line(out, f->name, "", labels, value);
		return;
	}
	metrics_json_sample_begin(out, labels);
	appendStringInfoString(&out->buf, ", \"value\": ");
	SnapAppendNumber(&out->buf, value);
	appendStringInfoChar(&out->buf, '}');
}

/*
 * metrics_write_histogram
 *		One histogram: the cumulative count at each bound of the Prometheus
 *		bucket set (histogram.h), +Inf, the sum in seconds and the count.
 *		JSON: {"labels": {...}, "buckets": [{"le": b, "count": n}, ...],
 *		"sum": s, "count": n}, the +Inf bucket being the count.
 */
static void
metrics_write_histogram(MetricsOut *out, const MetricFamily *f,
						const MetricLabels *labels, const HistSnapshot *hist)
{
	uint64		counts[HIST_PROM_NBOUNDS];
	char		le[HIST_PROM_LABEL_LEN];
	MetricLabels bucket = *labels;
	double		sum = (double) hist->sum / USECS_PER_SEC;
	int			k;

	HistSnapPromCounts(hist, counts);
	if (out->format == FORMAT_JSON)
	{
		metrics_json_sample_begin(out, labels);
		appendStringInfoString(&out->buf, ", \"buckets\": [");
	}
	for (k = 0; k < HIST_PROM_NBOUNDS; k++)
	{
		HistPromLabel(k, le);
		bucket.le = le;
		if (out->format == FORMAT_JSON)
			appendStringInfo(&out->buf, "%s{\"le\": %s, \"count\": " UINT64_FORMAT "}",
							 k > 0 ? ", " : "", le, counts[k]);
		else
			metrics_write_line(out, f->name, "_bucket", &bucket, (double) counts[k]);
	}
	if (out->format == FORMAT_JSON)
	{
		appendStringInfoString(&out->buf, "], \"sum\": ");
		SnapAppendNumber(&out->buf, sum);
		appendStringInfo(&out->buf, ", \"count\": " UINT64_FORMAT "}", hist->count);
		return;
	}
	bucket.le = "+Inf";
	metrics_write_line(out, f->name, "_bucket", &bucket, (double) hist->count);
	metrics_write_line(out, f->name, "_sum", labels, sum);
	metrics_write_line(out, f->name, "_count", labels, (double) hist->count);
}

/*
 * metrics_write_line
 *		One sample of the text formats: "name{labels} value" (Prometheus) or
 *		name,"labels",value (CSV; the labels written as in Prometheus).
 */
static void
metrics_write_line(MetricsOut *out, const char *name, const char *suffix,
				   const MetricLabels *labels, double value)
{
	StringInfo	buf = &out->buf;

	appendStringInfo(buf, "%s%s", name, suffix);
	if (out->format == FORMAT_CSV)
	{
		StringInfoData l;

		initStringInfo(&l);
		metrics_prom_labels(&l, labels);
		appendStringInfoChar(buf, ',');
		metrics_csv_field(buf, l.data);
		appendStringInfoChar(buf, ',');
		pfree(l.data);
	}
	else
	{
		if (labels->pool)
		{
			appendStringInfoChar(buf, '{');
			metrics_prom_labels(buf, labels);
			appendStringInfoChar(buf, '}');
		}
		appendStringInfoChar(buf, ' ');
	}
	SnapAppendNumber(buf, value);
	appendStringInfoChar(buf, '\n');
}

/* JSON: open a sample's object with its labels. */
static void
metrics_json_sample_begin(MetricsOut *out, const MetricLabels *labels)
{
	appendStringInfoString(&out->buf, out->first_sample ? "\n  " : ",\n  ");
	out->first_sample = false;
	appendStringInfoString(&out->buf, "{\"labels\": ");
	metrics_json_labels(&out->buf, labels);
}

/* pool="...",partition="...",state="...",le="..." for the labels present. */
static void
metrics_prom_labels(StringInfo buf, const MetricLabels *labels)
{
	const char *values[METRICS_NLABELS] = {
		labels->pool, labels->partition, labels->state, labels->le
	};
	bool		first = true;
	int			i;

	for (i = 0; i < METRICS_NLABELS; i++)
	{
		if (values[i] == NULL)
			continue;
		appendStringInfo(buf, "%s%s=\"", first ? "" : ",",
						 metric_label_names[i]);
		metrics_prom_escape(buf, values[i]);
		appendStringInfoChar(buf, '"');
		first = false;
	}
}

/* A label value of the text format: \, " and newline escaped. */
static void
metrics_prom_escape(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\\')
			appendStringInfoString(buf, "\\\\");
		else if (*s == '"')
			appendStringInfoString(buf, "\\\"");
		else if (*s == '\n')
			appendStringInfoString(buf, "\\n");
		else
			appendStringInfoChar(buf, *s);
	}
}

/* A CSV field, always quoted, quotes doubled (RFC 4180). */
static void
metrics_csv_field(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoChar(buf, '"');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

/* {"pool": "...", ...} for the labels present (le is never one in JSON). */
static void
metrics_json_labels(StringInfo buf, const MetricLabels *labels)
{
	const char *values[METRICS_NLABELS] = {
		labels->pool, labels->partition, labels->state, labels->le
	};
	bool		first = true;
	int			i;

	appendStringInfoChar(buf, '{');
	for (i = 0; i < METRICS_NLABELS; i++)
	{
		if (values[i] == NULL)
			continue;
		appendStringInfo(buf, "%s\"%s\": ", first ? "" : ", ",
						 metric_label_names[i]);
		escape_json(buf, values[i]);
		first = false;
	}
	appendStringInfoChar(buf, '}');
}

/*
 * metrics(format text) -> text
 */
Datum
pgpool_ext_metrics(PG_FUNCTION_ARGS)
{
	MetricsOut	out;
	PoolSnapshot snap;
	int			i;

	out.format = metrics_parse_format(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PoolSnapshotTake(&snap, SNAP_LATENCY_TOTAL);
	initStringInfo(&out.buf);
	out.first_family = true;
	out.first_sample = true;
	if (out.format == FORMAT_JSON)
		appendStringInfoString(&out.buf, "{\"metrics\": [");
	else if (out.format == FORMAT_CSV)
		appendStringInfoString(&out.buf, "metric,labels,value\n");
	for (i = 0; i < METRICS_NFAMILIES; i++)
		metrics_write_family(&out, &metric_families[i], &snap);
	if (out.format == FORMAT_JSON)
		appendStringInfoString(&out.buf, "\n]}\n");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.buf.data, out.buf.len));
}
