/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The one place where differences between PostgreSQL versions live.
 *
 * pgpool_ext is built and tested against PostgreSQL 15.  Anything that
 * changes between major versions (process numbers, custom wait events, the
 * shared-memory request hook) goes through a macro defined here, so that
 * porting to another version touches this file only.
 *
 * src/common/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_COMPAT_H
#define PGPOOL_COMPAT_H

#include "pgstat.h"
#include "storage/proc.h"

#if PG_VERSION_NUM < 150000
#error "pgpool_ext requires PostgreSQL 15 or later"
#endif

/* Index of this process's PGPROC (MyProcNumber from PostgreSQL 17 on). */
#if PG_VERSION_NUM >= 170000
#define PGPOOL_MY_PROCNO	MyProcNumber
#else
#define PGPOOL_MY_PROCNO	(MyProc->pgprocno)
#endif

/*
 * The i-th entry (1 to pgstat_fetch_stat_numbackends()) of this process's
 * snapshot of the backends' status (renamed in PostgreSQL 17).
 */
#if PG_VERSION_NUM >= 170000
#define PGPOOL_LOCAL_BEENTRY(i)	pgstat_get_local_beentry_by_index(i)
#else
#define PGPOOL_LOCAL_BEENTRY(i)	pgstat_fetch_stat_local_beentry(i)
#endif

/*
 * Wait events.  PostgreSQL 15 has no custom wait event names: every
 * extension wait shows as wait_event_type "Extension", wait_event
 * "Extension" in pg_stat_activity.  The pgpool_ext.waiters view says what
 * the backend is waiting for.
 */
#define PGPOOL_WAIT_ACQUIRE		PG_WAIT_EXTENSION
#define PGPOOL_WAIT_REMOTE		PG_WAIT_EXTENSION
#define PGPOOL_WAIT_CONFIG		PG_WAIT_EXTENSION
#define PGPOOL_WAIT_WORKER		PG_WAIT_EXTENSION

#endif							/* PGPOOL_COMPAT_H */
