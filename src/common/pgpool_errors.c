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
