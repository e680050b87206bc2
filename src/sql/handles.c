/*-------------------------------------------------------------------------
 *
 * handles.c
 *	  acquire and release: the SQL entry points of handles.
 *
 * Thin wrappers over backend/handle.c: the arguments are checked and
 * turned into a timeout, a priority, a partition key and a scope here;
 * acquiring, waiting and releasing are handle.c's.
 *
 * Locking: none here (handle.c takes the pool locks).
 *
 * src/sql/handles.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "backend/handle.h"
#include "common/guc.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/waitq.h"

PG_FUNCTION_INFO_V1(pgpool_ext_acquire);
PG_FUNCTION_INFO_V1(pgpool_ext_release);

static bool handles_text_is(const text *t, const char *word);
static PoolPriority handles_priority_arg(text *arg);
static PoolScope handles_scope_arg(text *arg);

/*
 * handles_text_is
 *		Is t word, ignoring case?  (No copy: acquire's defaults are checked
 *		so.)
 */
static bool
handles_text_is(const text *t, const char *word)
{
	size_t		len = VARSIZE_ANY_EXHDR(t);

	return len == strlen(word) && pg_strncasecmp(VARDATA_ANY(t), word, len) == 0;
}

/* The priority argument of acquire. */
static PoolPriority
handles_priority_arg(text *arg)
{
	PoolPriority prio = PRIORITY_NORMAL;
	char	   *p;

	if (handles_text_is(arg, "normal"))
		return prio;
	p = text_to_cstring(arg);
	if (!WaitqParsePriority(p, &prio))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid priority \"%s\"", p),
				 errhint("Valid priorities are low, normal, high and critical.")));
	return prio;
}

/* The scope argument of acquire. */
static PoolScope
handles_scope_arg(text *arg)
{
	if (handles_text_is(arg, "session"))
		return SCOPE_SESSION;
	if (handles_text_is(arg, "transaction"))
		return SCOPE_TRANSACTION;
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("invalid scope \"%s\"", text_to_cstring(arg)),
			 errhint("Valid scopes are session and transaction.")));
	return SCOPE_SESSION;		/* keep compiler quiet */
}

/*
 * pgpool_ext_acquire
 *		acquire(pool_name, timeout, priority, partition, scope) -> bigint
 */
Datum
pgpool_ext_acquire(PG_FUNCTION_ARGS)
{
	char	   *pool;
	int			timeout_ms = pgpool_acquire_timeout;
	PoolPriority prio = PRIORITY_NORMAL;
	char	   *partition = NULL;
	PoolScope	scope = SCOPE_SESSION;

	PoolShmemCheckPreloaded();
	if (PG_ARGISNULL(0))
		PoolErrorNullPoolName();
	pool = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		timeout_ms = IntervalArgToTimeout(PG_GETARG_INTERVAL_P(1));
	if (!PG_ARGISNULL(2))
		prio = handles_priority_arg(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
	{
		partition = text_to_cstring(PG_GETARG_TEXT_PP(3));
		if (strlen(partition) >= PGPOOL_NAME_LEN)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("partition key is too long"),
					 errdetail("A partition key must be shorter than %d bytes.",
							   PGPOOL_NAME_LEN)));
	}
	if (!PG_ARGISNULL(4))
		scope = handles_scope_arg(PG_GETARG_TEXT_PP(4));
	PG_RETURN_INT64(HandleAcquire(pool, timeout_ms, prio, partition, scope));
}

/*
 * pgpool_ext_release
 *		release(handle)
 */
Datum
pgpool_ext_release(PG_FUNCTION_ARGS)
{
	PoolShmemCheckPreloaded();
	if (PG_ARGISNULL(0))
		PoolErrorNullHandle();
	HandleRelease(PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}
