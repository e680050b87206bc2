/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  Checking a pool's connection string when it is defined.
 *
 * src/common/conninfo.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CONNINFO_H
#define PGPOOL_CONNINFO_H

extern void ConninfoCheck(const char *conninfo, bool *has_password);
extern char *ConninfoScrubMessage(const char *msg);
extern char *ConninfoScrubText(const char *text);

#endif							/* PGPOOL_CONNINFO_H */
