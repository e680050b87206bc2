/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Definition of the pgpool_ext.* configuration parameters.
 *
 * Sizes of shared memory are PGC_POSTMASTER; policies of the pool worker
 * are PGC_SIGHUP (the worker rereads its configuration on SIGHUP); the
 * default acquire timeout may be set per session.  Per-pool settings
 * (sizes, idle timeout, reset query) are options of create_pool, not GUCs.
 *
 * src/common/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "common/guc.h"

char	   *pgpool_database = NULL;
int			pgpool_max_pools = 16;
int			pgpool_max_partitions = 64;
int			pgpool_max_connections = 64;
int			pgpool_channel_size = 64;
int			pgpool_max_concurrent_connects = 4;
int			pgpool_maintenance_interval = 1000;
int			pgpool_connect_retry_max = 30000;
int			pgpool_acquire_timeout = 30000;
int			pgpool_max_connection_buffer = 1024;
bool		pgpool_track_timing = true;
int			pgpool_leak_threshold = 0;
int			pgpool_usage_interval = 3600;

/*
 * GucDefineAll
 *		Define every pgpool_ext.* parameter and reserve the prefix.
 */
void
GucDefineAll(void)
{
	DefineCustomStringVariable("pgpool_ext.database",
							   "Database in which the pool worker runs and pool definitions are stored.",
							   "create_pool, alter_pool and drop_pool work only in this database.",
							   &pgpool_database, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.max_pools",
							"Maximum number of pools that can be defined.",
							NULL, &pgpool_max_pools, 16, 1, 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.max_partitions",
							"Maximum number of partition keys other than the default over all pools.",
							"Each pool's default partition is reserved on top of these.",
							&pgpool_max_partitions, 64, 1, 65536,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.max_connections",
							"Maximum number of physical remote connections over all pools.",
							NULL, &pgpool_max_connections, 64, 1, 65535,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.channel_size",
							"Size of each backend's response queue from the pool worker.",
							"Rows stream through this queue; a full queue stops the worker reading that remote connection.",
							&pgpool_channel_size, 64, 16, 16384,
							PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.max_concurrent_connects",
							"Maximum number of remote connection attempts in flight at once.",
							NULL, &pgpool_max_concurrent_connects, 4, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.maintenance_interval",
							"Time between two maintenance passes of the pool worker.",
							"Idle timeouts, minimum sizes and connect retries are checked this often.",
							&pgpool_maintenance_interval, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.connect_retry_max",
							"Longest delay between two attempts to connect after failures.",
							"The delay starts at 100 ms and doubles after each failure up to this value.",
							&pgpool_connect_retry_max, 30000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.max_connection_buffer",
							"Largest row or request a remote connection may have carried and still be kept after release.",
							"libpq's buffers grow to the largest message a connection carried and never shrink: "
							"a connection that carried a larger one is closed at its release (replaced if it is already handed on). "
							"0 keeps every connection.",
							&pgpool_max_connection_buffer, 1024, 0, MAX_KILOBYTES,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.acquire_timeout",
							"Default time acquire() waits for a connection; 0 waits forever.",
							NULL, &pgpool_acquire_timeout, 30000, 0, PG_INT32_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("pgpool_ext.track_timing",
							 "Records how long acquires wait, handles are held and remote requests take.",
							 "Off: no clock is read for them and the latency views stop changing.",
							 &pgpool_track_timing, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.leak_threshold",
							"Time a handle may be held before it is reported as a possible leak; 0 turns leak detection off.",
							"Applies to pools that do not set their own leak_threshold option.",
							&pgpool_leak_threshold, 0, 0, PG_INT32_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pgpool_ext.usage_interval",
							"Width of the time slots of the usage_hourly view.",
							"A pool keeps its last 168 slots.  A change begins new slots from the time the pool worker reloads its configuration.",
							&pgpool_usage_interval, 3600, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	MarkGUCPrefixReserved("pgpool_ext");
}
