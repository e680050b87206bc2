/*-------------------------------------------------------------------------
 *
 * leak_site.c
 *	  Where a handle was acquired, recorded for leak reports.
 *
 * At the end of acquire, for a pool with leak detection on (a leak
 * threshold), the acquiring backend records in the slot's LeakSlot
 * (shm/leaks.h): the statement it runs (debug_query_string, cut to
 * PGPOOL_LEAK_QUERY_LEN bytes, passwords masked: the statement may also
 * have called create_pool with a password in its conninfo), the call
 * stack at acquire as GET DIAGNOSTICS PG_CONTEXT shows it (e.g.
 * "PL/pgSQL function app.sync() line 7 at assignment", one line per
 * level, cut to PGPOOL_LEAK_CONTEXT_LEN bytes and masked too), the name
 * of the acquiring role and the session user.  For a pool with leak
 * detection off the cost is one comparison.
 *
 * Locking: the threshold is read without a lock (a change made meanwhile
 * applies from the next acquire); the site is built without any lock and
 * then copied into the LeakSlot under the slot's pool lock, exclusive.
 *
 * src/backend/leak_site.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/elog.h"

#include "backend/leak_site.h"
#include "common/compat.h"
#include "common/conninfo.h"
#include "shm/leaks.h"
#include "shm/pool.h"

static void leak_site_text(const char *text, char *dst, int dstlen);

/*
 * leak_site_text
 *		text cut to fit dst (dstlen bytes with the terminating zero, on a
 *		character boundary), passwords masked.  Cut first, so that a huge
 *		statement costs no more than its first kilobyte, and again after
 *		masking, which may lengthen it.
 */
static void
leak_site_text(const char *text, char *dst, int dstlen)
{
	char	   *cut;
	char	   *masked;
	int			len;

	if (text == NULL)
	{
		dst[0] = '\0';
		return;
	}
	len = strlen(text);
	len = pg_mbcliplen(text, len, Min(len, dstlen - 1));
	cut = pnstrdup(text, len);
	masked = ConninfoScrubText(cut);
	len = strlen(masked);
	len = pg_mbcliplen(masked, len, Min(len, dstlen - 1));
	memcpy(dst, masked, len);
	dst[len] = '\0';
	pfree(cut);
	pfree(masked);
}

/*
 * LeakSiteCapture
 *		This backend just acquired slotno: if its pool detects leaks,
 *		record where.
 */
void
LeakSiteCapture(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;
	LeakSlot   *ls = &LeakShared->slots[slotno];
	char		query[PGPOOL_LEAK_QUERY_LEN];
	char		context[PGPOOL_LEAK_CONTEXT_LEN];
	char		role[NAMEDATALEN];
	char	   *s;

	if (LeakThresholdMs(&PoolShared->pools[pool].def) <= 0)
		return;
	leak_site_text(debug_query_string, query, sizeof(query));
	s = GetErrorContextStack();	/* NULL at top level */
	leak_site_text(s, context, sizeof(context));
	if (s != NULL)
		pfree(s);
	s = GetUserNameFromId(GetUserId(), true);
	strlcpy(role, s ? s : "", sizeof(role));

	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	if (slot->pool == pool && slot->holder_procno == PGPOOL_MY_PROCNO &&
		slot->holder_pid == MyProcPid)
	{
		ls->handle = slot->handle;
		ls->has_site = true;
		ls->requests = 0;
		ls->session_user = GetSessionUserId();
		memcpy(ls->role, role, sizeof(role));
		memcpy(ls->query, query, sizeof(query));
		memcpy(ls->context, context, sizeof(context));
	}
	LWLockRelease(PoolLock(pool));
}
