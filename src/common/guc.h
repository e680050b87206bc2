/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  pgpool_ext.* configuration parameters.
 *
 * src/common/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_GUC_H
#define PGPOOL_GUC_H

/* PGC_POSTMASTER: size shared memory */
extern char *pgpool_database;
extern int	pgpool_max_pools;
extern int	pgpool_max_partitions;
extern int	pgpool_max_connections;
extern int	pgpool_channel_size;

/* PGC_SIGHUP: worker policy */
extern int	pgpool_max_concurrent_connects;
extern int	pgpool_maintenance_interval;
extern int	pgpool_connect_retry_max;
extern int	pgpool_max_connection_buffer;	/* kB; 0: no limit */
extern int	pgpool_leak_threshold;	/* ms; 0: off (pools may override) */
extern int	pgpool_usage_interval;	/* s: width of usage_hourly's slots */

/* PGC_USERSET */
extern int	pgpool_acquire_timeout;

/* PGC_SUSET */
extern bool pgpool_track_timing;

extern void GucDefineAll(void);

#endif							/* PGPOOL_GUC_H */
