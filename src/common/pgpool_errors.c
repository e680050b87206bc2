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
