/*-------------------------------------------------------------------------
 *
 * resolve.h
 *	  Host name lookups of the pool worker, without blocking its loop.
 *
 * src/worker/resolve.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_RESOLVE_H
#define PGPOOL_RESOLVE_H

#include "libpq-fe.h"

typedef enum ResolveStatus
{
	RESOLVE_NONE,				/* nothing to look up: connect as given */
	RESOLVE_RUNNING,			/* lookups in progress */
	RESOLVE_DONE,				/* addresses known: ResolveConnectStart */
	RESOLVE_FAILED				/* no host could be resolved */
} ResolveStatus;

extern ResolveStatus ResolveStart(int slotno, const char *conninfo,
								  char **errmsg);
extern ResolveStatus ResolvePoll(int slotno, char **errmsg);
extern PGconn *ResolveConnectStart(int slotno, const char *const *keys,
								   const char *const *values);
extern void ResolveCancel(int slotno);

#endif							/* PGPOOL_RESOLVE_H */
