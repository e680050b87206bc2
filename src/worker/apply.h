/*-------------------------------------------------------------------------
 *
 * apply.h
 *	  Pool definitions, as the pool worker read them, applied to shared
 *	  memory.
 *
 * load.c reads the definition tables into LoadedDefinitions;
 * ApplyDefinitions makes the pool entries match them.
 *
 * src/worker/apply.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_APPLY_H
#define PGPOOL_APPLY_H

#include "shm/shmem.h"

/* What becomes of a definition read from the table. */
typedef enum LoadVerdict
{
	LOAD_OK = 0,				/* applied */
	LOAD_KEEP,					/* cannot be held whole: the pool keeps its
								 * previous definition, or is not loaded */
	LOAD_SKIP					/* not loaded (dropped if it was): its name
								 * is unusable or its owner does not exist */
} LoadVerdict;

/* One row of pgpool_ext.pool_definition, as read, with its grants. */
typedef struct LoadedDefinition
{
	char		name[PGPOOL_NAME_LEN];	/* "" if unusable */
	PoolDefinition def;
	LoadVerdict verdict;
	Oid		   *grants;			/* every grant read, even beyond
								 * PGPOOL_MAX_GRANTS */
	int			ngrants;
} LoadedDefinition;

extern void ApplyDefinitions(LoadedDefinition *lds, int n);

#endif							/* PGPOOL_APPLY_H */
