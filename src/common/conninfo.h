/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  Checking a pool's connection string when it is defined, and
 *	  showing it without its secrets.
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
extern char *ConninfoMask(const char *conninfo);

#endif							/* PGPOOL_CONNINFO_H */
