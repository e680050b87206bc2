/*-------------------------------------------------------------------------
 *
 * janitor.h
 *	  Periodic maintenance of the pools (janitor.c): when to connect,
 *	  close, time out and drop.
 *
 * src/worker/janitor.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_JANITOR_H
#define PGPOOL_JANITOR_H

extern void JanitorRun(void);
extern long JanitorTimeout(void);
extern void JanitorSetInitial(int pool, int initial);

#endif							/* PGPOOL_JANITOR_H */
