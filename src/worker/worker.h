/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The pool worker: registration and main loop.
 *
 * src/worker/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_WORKER_H
#define PGPOOL_WORKER_H

extern void WorkerRegister(void);
extern PGDLLEXPORT void pgpool_ext_worker_main(Datum arg);

#endif							/* PGPOOL_WORKER_H */
