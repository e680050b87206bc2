/*-------------------------------------------------------------------------
 *
 * load.h
 *	  The pool worker's loading of the pool definitions into shared
 *	  memory.
 *
 * src/worker/load.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_LOAD_H
#define PGPOOL_LOAD_H

extern void LoadDefinitions(void);

#endif							/* PGPOOL_LOAD_H */
