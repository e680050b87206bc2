/*-------------------------------------------------------------------------
 *
 * lookup.h
 *	  Finding a pool by name for a backend, and who may use it.
 *
 * src/backend/lookup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_LOOKUP_H
#define PGPOOL_LOOKUP_H

#include "shm/shmem.h"

/* What a backend knows about a pool after checking it may use it. */
typedef struct PoolRef
{
	int			index;
	uint32		generation;
	int			default_partition;	/* index of its "" partition */
	char		name[PGPOOL_NAME_LEN];
} PoolRef;

extern void LookupWaitConfigLoaded(bool must_load);
extern void LookupWaitConfigTried(void);
extern uint64 LookupPoolForUse(const char *name, PoolRef *ref);
extern TimestampTz LookupWaitedSince(void);
extern bool LookupRoleMayUse(Oid owner, int ngrants, const Oid *grants);
extern void LookupPasswordRequired(const char *pool_name) pg_attribute_noreturn();

#endif							/* PGPOOL_LOOKUP_H */
