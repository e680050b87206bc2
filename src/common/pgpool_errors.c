/*-------------------------------------------------------------------------
 *
 * pgpool_errors.c
 *	  Errors raised from more than one place, written once.
 *
 * src/common/pgpool_errors.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pgpool_errors.h"

/*
 * PoolErrorUnknownPool
 *		No pool of that name (42704).
 */
void
PoolErrorUnknownPool(const char *name)
{
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_UNKNOWN_POOL),
			 errmsg("pool \"%s\" does not exist", name)));
}

/*
 * PoolErrorUnknownRole
 *		No role of that name (42704).
 */
void
PoolErrorUnknownRole(const char *name)
{
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_UNKNOWN_ROLE),
			 errmsg("role \"%s\" does not exist", name)));
}

/*
 * PoolErrorNullPoolName
 *		A pool name argument is NULL (22023).
 */
void
PoolErrorNullPoolName(void)
{
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("pool name must not be null")));
}

/*
 * PoolErrorNullHandle
 *		A handle argument is NULL (08003, as any invalid handle).
 */
void
PoolErrorNullHandle(void)
{
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
			 errmsg("invalid pgpool_ext handle NULL")));
}

/*
 * PoolErrorReclaimedHandle
 *		The holder's call on a handle the pool worker reclaimed as leaked
 *		(08003: the message of every bad handle, with a detail saying why);
 *		held_for is how long it had been held, as interval text
 *		(IntervalFormatMs).  The worker sends the same message and detail to
 *		a request it fails while reclaiming (PoolErrorReclaimedMessage/Detail).
 */
void
PoolErrorReclaimedHandle(int64 handle, const char *held_for)
{
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
			 errmsg_internal("%s", PoolErrorReclaimedMessage(handle)),
			 errdetail_internal("%s", PoolErrorReclaimedDetail(held_for))));
}

/* The primary message of PoolErrorReclaimedHandle (any bad handle's). */
char *
PoolErrorReclaimedMessage(int64 handle)
{
	return psprintf("invalid pgpool_ext handle " INT64_FORMAT, handle);
}

/* The detail of PoolErrorReclaimedHandle. */
char *
PoolErrorReclaimedDetail(const char *held_for)
{
	return psprintf("The handle was reclaimed as leaked after %s.", held_for);
}
