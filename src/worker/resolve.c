/*-------------------------------------------------------------------------
 *
 * resolve.c
 *	  Host name lookups of the pool worker, without blocking its loop.
 *
 * libpq resolves host names with getaddrinfo() inside PQconnectPoll(),
 * which blocks for as long as DNS takes: seconds, with a resolver that does
 * not answer, during which no pool is served.  So the worker looks names up
 * before libpq sees them: ResolveStart() parses the pool's conninfo and
 * submits every host name of its host list to glibc's getaddrinfo_a(),
 * which resolves them in its own threads and signals the worker (SIGUSR1,
 * whose handler sets the worker's latch) when all are done.  The slot is
 * then in CONN_RESOLVING; each turn of the loop ResolvePoll() checks the
 * lookups (gai_error).  When they are done ResolveConnectStart() starts the
 * connect with the addresses found passed as hostaddr (one host/hostaddr
 * pair per address, in the order getaddrinfo gave them, so libpq tries
 * them in turn as it would have), and host kept as given, for TLS host
 * name verification and .pgpass.  The pool's connect_timeout bounds the
 * lookup (janitor).
 *
 * Nothing to look up, and the conninfo goes to libpq unchanged: hostaddr
 * given, numeric addresses, unix-socket directories, no host at all, or a
 * conninfo libpq will reject anyway.
 *
 * A lookup that is given up (timeout, pool dropped) may still run in
 * glibc; its memory is kept on a list of abandoned jobs until glibc is
 * done with it, and freed then.
 *
 * XXX A host set only through PGHOST in the server's environment or in a
 * service file (service=) is not seen here: libpq resolves it, blocking.
 *
 * All of this is worker-local: no shared memory, no locks.
 *
 * src/worker/resolve.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "worker/resolve.h"
#include "shm/shmem.h"

/* One entry of the conninfo's host list. */
typedef struct ResolveEntry
{
	char	   *host;			/* as given */
	char	   *port;			/* its own port, or NULL (one port for all) */
	bool		lookup;			/* a name to look up */
	struct gaicb cb;			/* the lookup */
} ResolveEntry;

/*
 * The lookups of one connect.  malloc'd: an abandoned job must outlive the
 * slot's attempt until glibc lets go of it.
 */
typedef struct ResolveJob
{
	struct ResolveJob *next;	/* on the abandoned list */
	int			nentries;
	ResolveEntry *entries;
	int			nlookups;
	struct gaicb **lookups;
	struct addrinfo hints;
	char	   *strings;		/* the host and port items */
} ResolveJob;

/* Per slot: the job running, or the addresses found. */
typedef struct SlotResolve
{
	ResolveJob *job;
	ResolveStatus status;
	char	   *host;			/* RESOLVE_DONE: the lists to connect with */
	char	   *hostaddr;
	char	   *port;			/* NULL if the conninfo's port applies */
} SlotResolve;

static SlotResolve *slots = NULL;
static ResolveJob *abandoned = NULL;

static ResolveJob *resolve_job_make(const char *host, const char *port);
static bool resolve_job_running(ResolveJob *job);
static void resolve_job_free(ResolveJob *job);
static void resolve_sweep(void);
static bool resolve_is_literal(const char *host);
static ResolveStatus resolve_collect(SlotResolve *sr, char **errmsg);
static void resolve_forget(SlotResolve *sr);

/* Is host used without a lookup (empty, a socket directory, an address)? */
static bool
resolve_is_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return host[0] == '\0' || host[0] == '/' || host[0] == '@' ||
		inet_pton(AF_INET, host, buf) == 1 ||
		inet_pton(AF_INET6, host, buf) == 1;
}

/*
 * Split the host list (and a port list of the same length, if there is
 * one) into a job; NULL if there is nothing to look up or libpq would
 * reject the lists anyway.
 */
static ResolveJob *
resolve_job_make(const char *host, const char *port)
{
	size_t		hlen = strlen(host) + 1;
	size_t		plen = port ? strlen(port) + 1 : 0;
	int			nhosts = 1;
	int			nports = plen > 1 ? 1 : 0;
	ResolveJob *job;
	char	   *h;
	char	   *p;
	int			i;

	for (i = 0; host[i]; i++)
		nhosts += host[i] == ',';
	for (i = 0; port && port[i]; i++)
		nports += port[i] == ',';
	if (nports > 1 && nports != nhosts)
		return NULL;

	job = calloc(1, sizeof(ResolveJob));
	if (job == NULL)
		return NULL;
	job->entries = calloc(nhosts, sizeof(ResolveEntry));
	job->lookups = calloc(nhosts, sizeof(struct gaicb *));
	job->strings = malloc(hlen + plen);
	if (job->entries == NULL || job->lookups == NULL || job->strings == NULL)
	{
		resolve_job_free(job);
		return NULL;
	}
	h = job->strings;
	memcpy(h, host, hlen);
	p = nports > 1 ? h + hlen : NULL;
	if (p)
		memcpy(p, port, plen);
	job->hints.ai_family = AF_UNSPEC;
	job->hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < nhosts; i++)
	{
		ResolveEntry *e = &job->entries[i];
		char	   *comma = strchr(h, ',');

		if (comma)
			*comma = '\0';
		e->host = h;
		h = comma ? comma + 1 : h + strlen(h);
		if (p)
		{
			comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			e->port = p;
			p = comma ? comma + 1 : p + strlen(p);
		}
		e->lookup = !resolve_is_literal(e->host);
		if (e->lookup)
		{
			e->cb.ar_name = e->host;
			e->cb.ar_request = &job->hints;
			job->lookups[job->nlookups++] = &e->cb;
		}
	}
	job->nentries = nhosts;
	if (job->nlookups == 0)
	{
		resolve_job_free(job);
		return NULL;
	}
	return job;
}

/* Is glibc still working on a lookup of job? */
static bool
resolve_job_running(ResolveJob *job)
{
	int			i;

	for (i = 0; i < job->nlookups; i++)
		if (gai_error(job->lookups[i]) == EAI_INPROGRESS)
			return true;
	return false;
}

/* Free a job glibc is done with. */
static void
resolve_job_free(ResolveJob *job)
{
	int			i;

	for (i = 0; i < job->nlookups; i++)
		if (job->lookups[i]->ar_result)
			freeaddrinfo(job->lookups[i]->ar_result);
	free(job->entries);
	free(job->lookups);
	free(job->strings);
	free(job);
}

/* Free the abandoned jobs glibc is done with. */
static void
resolve_sweep(void)
{
	ResolveJob **link = &abandoned;

	while (*link)
	{
		ResolveJob *job = *link;

		if (resolve_job_running(job))
			link = &job->next;
		else
		{
			*link = job->next;
			resolve_job_free(job);
		}
	}
}

/* Drop the lists found for a slot. */
static void
resolve_forget(SlotResolve *sr)
{
	if (sr->host)
		pfree(sr->host);
	if (sr->hostaddr)
		pfree(sr->hostaddr);
	if (sr->port)
		pfree(sr->port);
	sr->host = sr->hostaddr = sr->port = NULL;
	sr->status = RESOLVE_NONE;
}

/*
 * ResolveStart
 *		Start looking up the host names of conninfo for slotno.  RUNNING:
 *		wait for ResolvePoll; NONE: connect with conninfo as it is;
 *		FAILED: the lookups could not be started (*errmsg says why).
 */
ResolveStatus
ResolveStart(int slotno, const char *conninfo, char **errmsg)
{
	PQconninfoOption *opts;
	PQconninfoOption *o;
	const char *host = NULL;
	const char *hostaddr = NULL;
	const char *port = NULL;
	ResolveJob *job = NULL;
	struct sigevent sev;
	int			rc;

	if (slots == NULL)
		slots = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(SlotResolve) * PoolShared->nslots);
	ResolveCancel(slotno);
	resolve_sweep();

	opts = PQconninfoParse(conninfo, NULL);
	if (opts == NULL)
		return RESOLVE_NONE;	/* libpq will say what is wrong */
	for (o = opts; o->keyword; o++)
	{
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
	}
	if (host && host[0] && !(hostaddr && hostaddr[0]))
		job = resolve_job_make(host, port);
	PQconninfoFree(opts);
	if (job == NULL)
		return RESOLVE_NONE;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;	/* its handler sets our latch */
	rc = getaddrinfo_a(GAI_NOWAIT, job->lookups, job->nlookups, &sev);
	if (rc != 0)
	{
		/* some may have started: let them finish before freeing */
		job->next = abandoned;
		abandoned = job;
		*errmsg = psprintf("could not start host name lookup: %s", gai_strerror(rc));
		return RESOLVE_FAILED;
	}
	slots[slotno].job = job;
	slots[slotno].status = RESOLVE_RUNNING;
	return RESOLVE_RUNNING;
}

/*
 * The lookups of sr are done: build the host, hostaddr and port lists, or
 * fail with the first lookup's error if no address was found.
 */
static ResolveStatus
resolve_collect(SlotResolve *sr, char **errmsg)
{
	ResolveJob *job = sr->job;
	StringInfoData host;
	StringInfoData hostaddr;
	StringInfoData port;
	int			n = 0;
	int			i;
	bool		per_port;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	initStringInfo(&host);
	initStringInfo(&hostaddr);
	initStringInfo(&port);
	MemoryContextSwitchTo(old);
	*errmsg = NULL;
	for (i = 0; i < job->nentries; i++)
	{
		ResolveEntry *e = &job->entries[i];
		struct addrinfo *ai;
		int			err;

		if (!e->lookup)
		{
			appendStringInfo(&host, "%s%s", n ? "," : "", e->host);
			appendStringInfo(&hostaddr, "%s", n ? "," : "");
			appendStringInfo(&port, "%s%s", n ? "," : "", e->port ? e->port : "");
			n++;
			continue;
		}
		err = gai_error(&e->cb);
		if (err != 0 && *errmsg == NULL)
			*errmsg = psprintf("could not translate host name \"%s\" to address: %s",
							   e->host, gai_strerror(err));
		for (ai = err == 0 ? e->cb.ar_result : NULL; ai; ai = ai->ai_next)
		{
			char		addr[NI_MAXHOST];

			if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
				getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
							NULL, 0, NI_NUMERICHOST) != 0)
				continue;
			appendStringInfo(&host, "%s%s", n ? "," : "", e->host);
			appendStringInfo(&hostaddr, "%s%s", n ? "," : "", addr);
			appendStringInfo(&port, "%s%s", n ? "," : "", e->port ? e->port : "");
			n++;
		}
	}
	per_port = job->entries[0].port != NULL;
	resolve_job_free(job);
	sr->job = NULL;
	if (n == 0)
	{
		pfree(host.data);
		pfree(hostaddr.data);
		pfree(port.data);
		if (*errmsg == NULL)
			*errmsg = pstrdup("host name lookup found no address");
		sr->status = RESOLVE_NONE;
		return RESOLVE_FAILED;
	}
	sr->host = host.data;
	sr->hostaddr = hostaddr.data;
	sr->port = per_port ? port.data : NULL;
	if (!per_port)
		pfree(port.data);
	sr->status = RESOLVE_DONE;
	return RESOLVE_DONE;
}

/*
 * ResolvePoll
 *		Are slotno's lookups done?  RUNNING, DONE (connect with
 *		ResolveConnectStart) or FAILED (*errmsg says why).
 */
ResolveStatus
ResolvePoll(int slotno, char **errmsg)
{
	SlotResolve *sr;

	resolve_sweep();
	if (slots == NULL)
		return RESOLVE_NONE;
	sr = &slots[slotno];
	if (sr->status != RESOLVE_RUNNING)
		return sr->status;
	if (resolve_job_running(sr->job))
		return RESOLVE_RUNNING;
	return resolve_collect(sr, errmsg);
}

/*
 * ResolveConnectStart
 *		PQconnectStartParams(keys, values, expand_dbname 1), with the
 *		addresses slotno's lookups found, if any, appended: keywords later
 *		in the arrays override those of the expanded conninfo.
 */
PGconn *
ResolveConnectStart(int slotno, const char *const *keys,
					const char *const *values)
{
	SlotResolve *sr = slots ? &slots[slotno] : NULL;
	const char **k;
	const char **v;
	int			n = 0;
	PGconn	   *conn;

	if (sr == NULL || sr->status != RESOLVE_DONE)
		return PQconnectStartParams(keys, values, 1);
	while (keys[n])
		n++;
	k = palloc(sizeof(char *) * (n + 4));
	v = palloc(sizeof(char *) * (n + 4));
	memcpy(k, keys, sizeof(char *) * n);
	memcpy(v, values, sizeof(char *) * n);
	k[n] = "host";
	v[n++] = sr->host;
	k[n] = "hostaddr";
	v[n++] = sr->hostaddr;
	if (sr->port)
	{
		k[n] = "port";
		v[n++] = sr->port;
	}
	k[n] = NULL;
	v[n] = NULL;
	conn = PQconnectStartParams(k, v, 1);
	pfree(k);
	pfree(v);
	resolve_forget(sr);
	return conn;
}

/*
 * ResolveCancel
 *		Give up slotno's lookups (and forget what they found).  A lookup
 *		glibc cannot cancel any more goes to the abandoned list.
 */
void
ResolveCancel(int slotno)
{
	SlotResolve *sr;
	ResolveJob *job;
	int			i;

	if (slots == NULL)
		return;
	sr = &slots[slotno];
	job = sr->job;
	sr->job = NULL;
	resolve_forget(sr);
	if (job == NULL)
		return;
	for (i = 0; i < job->nlookups; i++)
		(void) gai_cancel(job->lookups[i]);
	job->next = abandoned;
	abandoned = job;
	resolve_sweep();
}
