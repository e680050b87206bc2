/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  Checking a pool's connection string when it is defined.
 *
 * src/conninfo.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CONNINFO_H
#define PGPOOL_CONNINFO_H

extern void PoolCheckConninfo(const char *conninfo, bool *has_password);
extern char *PoolScrubConninfoMessage(const char *msg);

#endif							/* PGPOOL_CONNINFO_H */
