/*-------------------------------------------------------------------------
 *
 * cancel.h
 *	  Cancel requests sent from the pool worker's loop without blocking.
 *
 * src/worker/cancel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CANCEL_H
#define PGPOOL_CANCEL_H

#include "libpq-fe.h"
#include "datatype/timestamp.h"
#include "storage/latch.h"

extern bool CancelStart(PGconn *conn, int pool, int slot);
extern bool CancelPending(int slot);
extern int	CancelCount(void);
extern bool CancelSocketsChanged(void);
extern void CancelAddToWaitSet(WaitEventSet *set, int base);
extern void CancelSocketReady(int index);
extern void CancelExpire(TimestampTz now);

#endif							/* PGPOOL_CANCEL_H */
