/*-------------------------------------------------------------------------
 *
 * leak_site.h
 *	  Where a handle was acquired, recorded for leak reports.
 *
 * src/backend/leak_site.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_LEAK_SITE_H
#define PGPOOL_LEAK_SITE_H

extern void LeakSiteCapture(int slotno);

#endif							/* PGPOOL_LEAK_SITE_H */
