/*-------------------------------------------------------------------------
 *
 * leaks.h
 *	  Leaked handles as SQL shows them (leaks.c): the copy the leaks view
 *	  and dashboard() share, and who may see a row.
 *
 * src/sql/leaks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_SQL_LEAKS_H
#define PGPOOL_SQL_LEAKS_H

#include "shm/leaks.h"

/* One leaked handle, copied out of shared memory. */
typedef struct LeakRow
{
	SlotEntry	slot;
	LeakSlot	leak;
	char		pool_name[PGPOOL_NAME_LEN];
	char		partition[PGPOOL_NAME_LEN];
} LeakRow;

extern LeakRow *LeaksCopyHeld(int *nrows, TimestampTz now);
extern bool LeaksVisible(Oid session_user);
extern bool LeakRowHasSite(const LeakRow *row);
extern Oid	LeakRowSessionUser(const LeakRow *row);

#endif							/* PGPOOL_SQL_LEAKS_H */
