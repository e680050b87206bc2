/*-------------------------------------------------------------------------
 *
 * query.c
 *	  SQL functions that run remote work through a handle: query,
 *	  query_json, execute and run.
 *
 * Each call sends one request to the pool worker over the backend's
 * channel (backend/request.c) and reads the response messages as they
 * stream in, decoded by the codec (proto/message.c): a row description,
 * rows, and a final command status or error.  Rows go into
 * the function's tuplestore, which spills to disk past work_mem, so a
 * result of any size keeps the backend's memory bounded (as dblink does).
 * Any error while a request is open -- cancel, statement_timeout, a bad
 * value -- abandons the request; the worker then cancels the remote query
 * and the handle stays usable.  The latency of each request, from its
 * sending to its final message, is recorded in the partition of its
 * handle (shm/stats.c); an abandoned request is not.
 *
 * src/sql/query.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "backend/handle.h"
#include "backend/request.h"
#include "common/guc.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "common/text.h"
#include "proto/message.h"
#include "proto/remote_error.h"
#include "shm/channel.h"
#include "shm/shmem.h"
#include "shm/usage.h"

PG_FUNCTION_INFO_V1(pgpool_ext_query);
PG_FUNCTION_INFO_V1(pgpool_ext_query_json);
PG_FUNCTION_INFO_V1(pgpool_ext_execute);
PG_FUNCTION_INFO_V1(pgpool_ext_run);

typedef enum SinkKind
{
	SINK_RECORDS,				/* query(), run(): column definition list */
	SINK_JSON,					/* query_json(): one jsonb per row */
	SINK_NONE					/* execute(): status only */
} SinkKind;

/* Where the rows of one request go. */
typedef struct QuerySink
{
	SinkKind	kind;
	Tuplestorestate *store;
	TupleDesc	desc;			/* of the tuplestore */
	AttInMetadata *attinmeta;
	int			natts;			/* of the remote result */
	Oid		   *types;
	char	  **names;
	char	  **values;			/* of a row, in the database encoding */
	const char **raw;			/* of a row, as received */
	int		   *rawlen;
	MemoryContext cxt;			/* of the call: descriptions live here */
	MemoryContext rowcxt;
	char	   *status;
	const char *sql;			/* the remote command, for error context */
	ErrorContextCallback errcb; /* while a received message is unpacked */
} QuerySink;

static void run_request(int64 handle, RequestKind kind, int flags,
						const char *sql, ArrayType *params, QuerySink *sink);
static void sink_describe(QuerySink *sink, MsgReader *r);
static void sink_row(QuerySink *sink, MsgReader *r);
static void sink_status(QuerySink *sink, MsgReader *r);
static bool sink_message(QuerySink *sink, char type, MsgReader *r);
static void sink_json_row(QuerySink *sink);
/* Most parameters one remote query may have (the protocol's limit). */
#define PGPOOL_MAX_PARAMS	65535

static void params_from_array(ArrayType *arr, int *n, const char ***values);
static void query_record(int64 handle, TimestampTz started, bool error);
static void sink_init(FunctionCallInfo fcinfo, QuerySink *sink, SinkKind kind);

/* text[] -> UTF8 C strings (NULL elements stay NULL). */
static void
params_from_array(ArrayType *arr, int *n, const char ***values)
{
	Datum	   *elems;
	bool	   *nulls;
	int			i;

	*n = 0;
	*values = NULL;
	if (arr == NULL)
		return;
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("query parameters must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	/* the protocol's Bind message counts parameters in an int16 */
	if (*n > PGPOOL_MAX_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many query parameters"),
				 errdetail("%d parameters were given; a remote query takes at most %d.",
						   *n, PGPOOL_MAX_PARAMS)));
	*values = palloc(sizeof(char *) * (*n + 1));
	/* remote connections talk UTF8 */
	for (i = 0; i < *n; i++)
		(*values)[i] = nulls[i] ? NULL :
			TextToRemote(TextDatumGetCString(elems[i]));
}

/* Set up the tuplestore of an SRF, or nothing for execute(). */
static void
sink_init(FunctionCallInfo fcinfo, QuerySink *sink, SinkKind kind)
{
	memset(sink, 0, sizeof(QuerySink));
	sink->kind = kind;
	sink->cxt = CurrentMemoryContext;
	sink->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pgpool_ext row",
										 ALLOCSET_DEFAULT_SIZES);
	if (kind == SINK_NONE)
		return;
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	sink->store = ((ReturnSetInfo *) fcinfo->resultinfo)->setResult;
	sink->desc = ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc;
	if (kind == SINK_RECORDS)
		sink->attinmeta = TupleDescGetAttInMetadata(sink->desc);
}

/*
 * Error context of a received message that cannot become datums (invalid
 * bytes, a value the column's type rejects): the remote command.
 */
static void
sink_error_context(void *arg)
{
	QuerySink  *sink = (QuerySink *) arg;

	if (sink->sql)
		errcontext("remote SQL command: %s", sink->sql);
}

/* Push (or pop) sink_error_context. */
static void
sink_context(QuerySink *sink, bool push)
{
	if (push)
	{
		sink->errcb.callback = sink_error_context;
		sink->errcb.arg = sink;
		sink->errcb.previous = error_context_stack;
		error_context_stack = &sink->errcb;
	}
	else
		error_context_stack = sink->errcb.previous;
}

/* A row description: remember the remote columns, check the shape. */
static void
sink_describe(QuerySink *sink, MsgReader *r)
{
	int			i;
	int			n;
	const char **names;
	MemoryContext old = MemoryContextSwitchTo(sink->cxt);

	sink_context(sink, true);
	sink->natts = MsgDecodeRowDescription(r, &sink->types, &names);
	n = Max(sink->natts, 1);
	sink->names = palloc(sizeof(char *) * n);
	sink->values = palloc(sizeof(char *) * n);
	sink->raw = palloc(sizeof(char *) * n);
	sink->rawlen = palloc(sizeof(int) * n);
	for (i = 0; i < sink->natts; i++)
		sink->names[i] = TextFromRemote(names[i], strlen(names[i]));
	pfree(names);
	MemoryContextSwitchTo(old);
	sink_context(sink, false);
	if (sink->kind == SINK_RECORDS && sink->natts != sink->desc->natts)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_ROWTYPE),
				 errmsg("remote query result rowtype does not match the specified FROM clause rowtype"),
				 errdetail("The remote query returns %d columns, the column definition list has %d.",
						   sink->natts, sink->desc->natts)));
}

/*
 * One data row into the tuplestore.  Every value is converted to the
 * database encoding and verified before it becomes a datum (22021).
 */
static void
sink_row(QuerySink *sink, MsgReader *r)
{
	MemoryContext old = MemoryContextSwitchTo(sink->rowcxt);
	int			i;

	sink_context(sink, true);
	MsgDecodeDataRow(r, sink->natts, sink->raw, sink->rawlen);
	for (i = 0; i < sink->natts; i++)
	{
		/* UTF8 from the remote; verified, in the database encoding */
		sink->values[i] = sink->raw[i] ?
			TextFromRemote(sink->raw[i], sink->rawlen[i]) : NULL;
	}
	if (sink->kind == SINK_RECORDS)
	{
		HeapTuple	tup = BuildTupleFromCStrings(sink->attinmeta, sink->values);

		tuplestore_puttuple(sink->store, tup);
	}
	else if (sink->kind == SINK_JSON)
		sink_json_row(sink);
	sink_context(sink, false);
	MemoryContextSwitchTo(old);
	MemoryContextReset(sink->rowcxt);
}

/* The final command status, in the database encoding. */
static void
sink_status(QuerySink *sink, MsgReader *r)
{
	const char *status = MsgDecodeCommandDone(r);

	sink_context(sink, true);
	sink->status = TextFromRemote(status, strlen(status));
	sink_context(sink, false);
}

/* Is this remote type's text form a JSON number? */
static bool
json_numeric_type(Oid type, const char *v)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			/* NaN and Infinity are not JSON numbers */
			return strpbrk(v, "NnIi") == NULL;
		default:
			return false;
	}
}

/* One row as a jsonb object {column: value}. */
static void
sink_json_row(QuerySink *sink)
{
	StringInfoData buf;
	int			i;
	Datum		jb;
	bool		isnull = false;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < sink->natts; i++)
	{
		const char *v = sink->values[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, sink->names[i]);
		appendStringInfoString(&buf, ": ");
		if (v == NULL)
			appendStringInfoString(&buf, "null");
		else if (sink->types[i] == BOOLOID)
			appendStringInfoString(&buf, v[0] == 't' ? "true" : "false");
		else if (sink->types[i] == JSONOID || sink->types[i] == JSONBOID ||
				 json_numeric_type(sink->types[i], v))
			appendStringInfoString(&buf, v);
		else
			escape_json(&buf, v);
	}
	appendStringInfoChar(&buf, '}');
	jb = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	tuplestore_putvalues(sink->store, sink->desc, &jb, &isnull);
}

/*
 * sink_message
 *		One response message of type (its body next in r) into sink; true
 *		if it was the final one.  A final error ends the request and is
 *		raised.
 */
static bool
sink_message(QuerySink *sink, char type, MsgReader *r)
{
	MsgError	err;

	switch (type)
	{
		case MSG_ROW_DESCRIPTION:
			sink_describe(sink, r);
			return false;
		case MSG_DATA_ROW:
			sink_row(sink, r);
			return false;
		case MSG_COMMAND_DONE:
			sink_status(sink, r);
			return true;
		case MSG_REMOTE_ERROR:
		case MSG_FAILURE:
			/* copied out: the queue goes with the request */
			MsgDecodeError(r, type, &err);
			ChannelFinish();
			RemoteErrorRaise(&err, sink->sql);
			break;
	}
	elog(ERROR, "pgpool_ext: unexpected message type %d", type);
	return true;				/* keep compiler quiet */
}

/*
 * query_record
 *		The final message of a request sent at started (0: not timed) on
 *		handle was read now: record its latency in the partition of the
 *		handle's slot; error: it was an error or a failure (also counted in
 *		the partition's usage, timed or not).
 *
 * The slot is normally stable (this backend holds it), but a handle
 * reclaimed as leaked may have been freed, even reused, by the worker by
 * the time its failure is read: the partition is read once, without a
 * lock, and nothing is recorded unless the slot still carries the handle
 * and a partition (a reuse racing this read can at worst charge another
 * partition, never write outside the table).
 */
static void
query_record(int64 handle, TimestampTz started, bool error)
{
	volatile SlotEntry *slot = &PoolShared->slots[handle & (PGPOOL_MAX_SLOTS - 1)];
	int			part;

	if (started == 0 && !error)
		return;
	part = slot->partition;
	if (slot->handle != handle || part < 0 || part >= PoolShared->npartitions)
		return;
	if (error)
		UsageCountError(part);
	if (started != 0)
		StatsRecord(PoolPartitionStats(part), STATS_QUERY, started,
					GetCurrentTimestamp(), error ? STATS_ERROR : STATS_DONE);
}

/*
 * run_request
 *		Send sql on handle and consume the whole response into sink.
 */
static void
run_request(int64 handle, RequestKind kind, int flags, const char *sql,
			ArrayType *params, QuerySink *sink)
{
	int			nparams;
	const char **volatile values;
	const char **vals;

	/* before PG_TRY: a nested call's error path must not abort ours */
	ChannelCheckNotNested();
	params_from_array(params, &nparams, &vals);
	values = vals;
	sink->sql = sql;
	PG_TRY();
	{
		bool		done = false;
		TimestampTz started = StatsClock();

		RequestSubmit(handle, kind, flags, TextToRemote(sql), nparams,
					  values);
		while (!done)
		{
			Size		len;
			void	   *data;
			MsgReader	r;
			char		type;

			RequestReceive(&len, &data);
			MsgReaderInit(&r, data, len);
			while (MsgNext(&r, &type))
			{
				if (type == MSG_COMMAND_DONE || type == MSG_REMOTE_ERROR ||
					type == MSG_FAILURE)
					query_record(handle, started, type != MSG_COMMAND_DONE);
				if (sink_message(sink, type, &r))
					done = true;
				CHECK_FOR_INTERRUPTS();
			}
		}
		ChannelFinish();
	}
	PG_CATCH();
	{
		ChannelAbort();
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* Common argument checks of the handle functions. */
static void
check_handle_args(FunctionCallInfo fcinfo)
{
	PoolShmemCheckPreloaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
				 errmsg("invalid pgpool_ext handle NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("remote SQL command must not be null")));
}

#define PARAMS_ARG(n)	(PG_NARGS() > (n) && !PG_ARGISNULL(n) ? PG_GETARG_ARRAYTYPE_P(n) : NULL)

/* query() and query_json(): rows of sql on a handle into the SRF result. */
static Datum
query_srf(FunctionCallInfo fcinfo, SinkKind kind)
{
	QuerySink	sink;

	check_handle_args(fcinfo);
	sink_init(fcinfo, &sink, kind);
	run_request(PG_GETARG_INT64(0), REQUEST_QUERY, 0,
				text_to_cstring(PG_GETARG_TEXT_PP(1)), PARAMS_ARG(2), &sink);
	return (Datum) 0;
}

/*
 * query(handle, sql, params) -> SETOF record
 */
Datum
pgpool_ext_query(PG_FUNCTION_ARGS)
{
	return query_srf(fcinfo, SINK_RECORDS);
}

/*
 * query_json(handle, sql, params) -> SETOF jsonb
 */
Datum
pgpool_ext_query_json(PG_FUNCTION_ARGS)
{
	return query_srf(fcinfo, SINK_JSON);
}

/*
 * execute(handle, sql, params) -> text (command status)
 */
Datum
pgpool_ext_execute(PG_FUNCTION_ARGS)
{
	QuerySink	sink;

	check_handle_args(fcinfo);
	sink_init(fcinfo, &sink, SINK_NONE);
	run_request(PG_GETARG_INT64(0), REQUEST_EXECUTE, 0,
				text_to_cstring(PG_GETARG_TEXT_PP(1)), PARAMS_ARG(2), &sink);
	PG_RETURN_TEXT_P(cstring_to_text(sink.status ? sink.status : ""));
}

/*
 * run(pool, sql, params, timeout) -> SETOF record: acquire, query, release.
 */
Datum
pgpool_ext_run(PG_FUNCTION_ARGS)
{
	QuerySink	sink;
	char	   *pool;
	char	   *sql;
	int			timeout_ms = pgpool_acquire_timeout;
	int64		handle;

	PoolShmemCheckPreloaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("pool name must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("remote SQL command must not be null")));
	pool = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(3))
	{
		timeout_ms = IntervalArgToTimeout(PG_GETARG_INTERVAL_P(3));
	}
	sink_init(fcinfo, &sink, SINK_RECORDS);
	ChannelCheckNotNested();	/* before taking a connection */
	handle = HandleAcquire(pool, timeout_ms, PRIORITY_NORMAL, NULL, SCOPE_SESSION);
	PG_TRY();
	{
		/* the worker resets the connection as soon as the rows are sent */
		run_request(handle, REQUEST_QUERY, REQUEST_FLAG_LAST, sql,
					PARAMS_ARG(2), &sink);
	}
	PG_CATCH();
	{
		HandleRelease(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
	HandleRelease(handle);
	return (Datum) 0;
}
