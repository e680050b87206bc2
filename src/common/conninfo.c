/*-------------------------------------------------------------------------
 *
 * conninfo.c
 *	  Checking a pool's connection string when it is defined, and
 *	  showing it without its secrets.
 *
 * create_pool and alter_pool refuse a conninfo that libpq would refuse
 * when the pool worker connects, so that a bad string fails at once with
 * 22023 naming the option instead of making every acquire time out.  The
 * string is parsed with PQconninfoParse and each value given is checked
 * with the rules libpq 15 applies before it opens a socket (connectOptions2
 * and the start of PQconnectPoll): enumerated values, integers, port
 * numbers, how many hosts, host addresses and ports are listed, numeric
 * host addresses and Unix socket path lengths.  Nothing here resolves a
 * host name or opens a connection.  Values that come from the environment
 * or a service file are not seen; libpq still checks them at connect time.
 *
 * Secrets: an unparsable string may be a URI whose user information holds
 * a password, or a key=value string whose password has a space in it.
 * libpq quotes fragments of the string in its parse messages, so every
 * quoted fragment is masked, and a message of a shape not recognised (a
 * translation) is not shown at all.  The checks below never echo a
 * value: in a malformed URI a password fragment can land in any option.
 * ConninfoScrubText masks passwords in any text that may quote a
 * connection string (the statement that acquired a leaked handle).
 *
 * Shown conninfos: ConninfoMask rebuilds a conninfo with every secret
 * option (password, sslpassword: libpq marks them with dispchar "*")
 * replaced by ********.  Messages are not searched for the password:
 * libpq's messages about a connection never contain it (they name host,
 * port, user and database), and a remote server's errors do not either;
 * blanking every occurrence of the password's text would reveal it when it
 * equals a word of the message and corrupt errors that merely contain the
 * same text.
 *
 * Locking: none; everything here works on private memory.
 *
 * src/common/conninfo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/stringinfo.h"

#include "libpq-fe.h"

#include "common/conninfo.h"
#include "common/pgpool_errors.h"

/* What libpq accepts for one enumerated option. */
typedef struct ConninfoEnum
{
	const char *keyword;
	bool		empty_ok;		/* "" accepted (means the default) */
	bool		any_case;		/* compared ignoring case */
	const char *values[7];		/* NULL-terminated */
	const char *listed;			/* the values, for the error detail */
} ConninfoEnum;

static const ConninfoEnum conninfo_enums[] = {
	{"sslmode", false, false,
		{"disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL},
	"disable, allow, prefer, require, verify-ca or verify-full"},
	{"gssencmode", false, false,
		{"disable", "prefer", "require", NULL},
	"disable, prefer or require"},
	{"channel_binding", false, false,
		{"disable", "prefer", "require", NULL},
	"disable, prefer or require"},
	{"target_session_attrs", false, false,
		{"any", "read-write", "read-only", "primary", "standby", "prefer-standby", NULL},
	"any, read-write, read-only, primary, standby or prefer-standby"},
	{"ssl_min_protocol_version", true, true,
		{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL},
	"TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"},
	{"ssl_max_protocol_version", true, true,
		{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL},
	"TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"},
};

/* Options libpq reads as integers (when they are set at all). */
static const char *const conninfo_ints[] = {
	"connect_timeout", "keepalives", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "tcp_user_timeout", NULL
};

/* How libpq 15's messages about an unparsable string begin. */
static const char *const conninfo_msg_prefixes[] = {
	"missing \"=\" after ",
	"invalid connection option ",
	"unterminated quoted string in connection info string",
	"invalid URI propagated to internal parser routine: ",
	"end of string reached when looking for matching \"]\" in IPv6 host address in URI: ",
	"IPv6 host address may not be empty in URI: ",
	"unexpected character ",
	"extra key/value separator \"=\" in URI query parameter: ",
	"missing key/value separator \"=\" in URI query parameter: ",
	"invalid URI query parameter: ",
	"invalid percent-encoded token: ",
	"forbidden value %00 in percent-encoded value: ",
	"out of memory",
	NULL
};

#define CONNINFO_MASK "********"

/* What a host name or IP address (not a socket path) may contain. */
#define CONNINFO_HOST_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%"

static const char *conninfo_value(PQconninfoOption *opts, const char *keyword);
static int	conninfo_count_elems(const char *list);
static char *conninfo_elem(const char **list);
static bool conninfo_parse_int(const char *value, int *result);
static void conninfo_check_enums(PQconninfoOption *opts);
static void conninfo_check_ints(PQconninfoOption *opts);
static void conninfo_check_hosts(PQconninfoOption *opts);
static void conninfo_check_one_host(const char *host, const char *hostaddr,
									const char *port);
static void conninfo_parse_failed(char *err);
static const char *conninfo_secret_end(const char *p);
static const char *conninfo_scrub_password(StringInfo buf, const char *p);
static bool conninfo_option_is_secret(const PQconninfoOption *o);

/* Error for one bad connection option: 22023, the option named. */
#define BAD_CONNINFO(...) \
	ereport(ERROR, \
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT), \
			 errmsg("invalid value for pool option \"conninfo\""), \
			 errdetail(__VA_ARGS__)))

/*
 * ConninfoCheck
 *		Refuse (22023) a connection string libpq would refuse; tell whether
 *		it gives a non-empty password.
 */
void
ConninfoCheck(const char *conninfo, bool *has_password)
{
	char	   *err = NULL;
	PQconninfoOption *opts;
	const char *pw;

	opts = PQconninfoParse(conninfo, &err);
	if (opts == NULL)
		conninfo_parse_failed(err);

	PG_TRY();
	{
		conninfo_check_enums(opts);
		conninfo_check_ints(opts);
		conninfo_check_hosts(opts);
		pw = conninfo_value(opts, "password");
		*has_password = (pw != NULL && pw[0] != '\0');
	}
	PG_FINALLY();
	{
		PQconninfoFree(opts);
	}
	PG_END_TRY();
}

/* The value given for keyword, or NULL. */
static const char *
conninfo_value(PQconninfoOption *opts, const char *keyword)
{
	PQconninfoOption *opt;

	for (opt = opts; opt->keyword != NULL; opt++)
		if (strcmp(opt->keyword, keyword) == 0)
			return opt->val;
	return NULL;
}

/* Elements of a comma-separated list, as libpq counts them. */
static int
conninfo_count_elems(const char *list)
{
	int			n = 1;

	for (; *list != '\0'; list++)
		if (*list == ',')
			n++;
	return n;
}

/* The next element of a comma-separated list (palloc'd); advances *list. */
static char *
conninfo_elem(const char **list)
{
	const char *s = *list;
	const char *e = s;

	while (*e != '\0' && *e != ',')
		e++;
	*list = (*e == ',') ? e + 1 : e;
	return pnstrdup(s, e - s);
}

/*
 * An integer as libpq reads one: optional leading white space and sign,
 * digits, optional trailing white space, within int.
 */
static bool
conninfo_parse_int(const char *value, int *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || errno != 0 || v < INT_MIN || v > INT_MAX)
		return false;
	while (*end != '\0' && isspace((unsigned char) *end))
		end++;
	if (*end != '\0')
		return false;
	*result = (int) v;
	return true;
}

/* The enumerated options, and the TLS version range. */
static void
conninfo_check_enums(PQconninfoOption *opts)
{
	int			i;
	int			j;
	const char *min;
	const char *max;

	for (i = 0; i < lengthof(conninfo_enums); i++)
	{
		const ConninfoEnum *e = &conninfo_enums[i];
		const char *v = conninfo_value(opts, e->keyword);
		bool		ok = false;

		if (v == NULL || (v[0] == '\0' && e->empty_ok))
			continue;
		for (j = 0; e->values[j] != NULL && !ok; j++)
			ok = e->any_case ? pg_strcasecmp(v, e->values[j]) == 0 :
				strcmp(v, e->values[j]) == 0;
		if (!ok)
			BAD_CONNINFO("Connection option \"%s\" must be one of %s.",
						 e->keyword, e->listed);
	}
	min = conninfo_value(opts, "ssl_min_protocol_version");
	max = conninfo_value(opts, "ssl_max_protocol_version");
	if (min != NULL && max != NULL && min[0] != '\0' && max[0] != '\0' &&
		pg_strcasecmp(min, max) > 0)
		BAD_CONNINFO("Connection option \"ssl_min_protocol_version\" must not be above \"ssl_max_protocol_version\".");
}

/* The integer options. */
static void
conninfo_check_ints(PQconninfoOption *opts)
{
	int			i;
	int			v;

	for (i = 0; conninfo_ints[i] != NULL; i++)
	{
		const char *s = conninfo_value(opts, conninfo_ints[i]);

		if (s != NULL && !conninfo_parse_int(s, &v))
			BAD_CONNINFO("Connection option \"%s\" must be an integer.",
						 conninfo_ints[i]);
	}
}

/*
 * host, hostaddr and port: as many host addresses as host names (when both
 * are given), one port or one per host, each port a number from 1 to 65535,
 * each host address numeric, each socket path short enough.
 */
static void
conninfo_check_hosts(PQconninfoOption *opts)
{
	const char *host = conninfo_value(opts, "host");
	const char *addr = conninfo_value(opts, "hostaddr");
	const char *port = conninfo_value(opts, "port");
	int			nhosts = 1;
	int			nports = 0;
	char	   *p = NULL;
	int			i;

	if (host != NULL && host[0] == '\0')
		host = NULL;
	if (addr != NULL && addr[0] == '\0')
		addr = NULL;
	if (port != NULL && port[0] == '\0')
		port = NULL;
	if (addr != NULL)
		nhosts = conninfo_count_elems(addr);
	else if (host != NULL)
		nhosts = conninfo_count_elems(host);
	if (host != NULL && addr != NULL && conninfo_count_elems(host) != nhosts)
		BAD_CONNINFO("The numbers of host names (%d) and host addresses (%d) in the connection string differ.",
					 conninfo_count_elems(host), nhosts);
	if (port != NULL)
	{
		nports = conninfo_count_elems(port);
		if (nports != 1 && nports != nhosts)
			BAD_CONNINFO("The connection string gives %d port numbers for %d hosts; give one port, or one for each host.",
						 nports, nhosts);
	}

	for (i = 0; i < nhosts; i++)
	{
		char	   *h = host ? conninfo_elem(&host) : NULL;
		char	   *a = addr ? conninfo_elem(&addr) : NULL;

		/* one port applies to every host; else one port per host */
		if (port != NULL && (i == 0 || nports > 1))
			p = conninfo_elem(&port);
		conninfo_check_one_host(h, a, p);
	}
}

/* One host of the list, with its host address and port (may be NULL). */
static void
conninfo_check_one_host(const char *host, const char *hostaddr,
						const char *port)
{
	int			portnum;

	if (port != NULL && port[0] != '\0' &&
		(!conninfo_parse_int(port, &portnum) || portnum < 1 || portnum > 65535))
		BAD_CONNINFO("Connection option \"port\" must hold port numbers from 1 to 65535.");

	/*
	 * A host name that no name server could know is refused: libpq would
	 * quote it in every connection error, and in a URI whose password has
	 * an '@' that is not percent-encoded, part of the password lands here.
	 */
	if (host != NULL && host[0] != '\0' && host[0] != '/' && host[0] != '@' &&
		strspn(host, CONNINFO_HOST_CHARS) != strlen(host))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid value for pool option \"conninfo\""),
				 errdetail("Connection option \"host\" must hold host names, IP addresses or socket directory paths."),
				 errhint("In a URI, characters such as \"@\" and \"/\" in the user name or password must be percent-encoded.")));

	if (hostaddr != NULL && hostaddr[0] != '\0')
	{
		struct addrinfo hints;
		struct addrinfo *res = NULL;

		/* numeric only: this never asks a name server */
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(hostaddr, NULL, &hints, &res) != 0)
			BAD_CONNINFO("Connection option \"hostaddr\" must hold numeric IP addresses.");
		freeaddrinfo(res);
	}
	else if (host != NULL && (host[0] == '/' || host[0] == '@'))
	{
		size_t		len = strlen(host) + strlen("/.s.PGSQL.") +
			strlen(port != NULL && port[0] != '\0' ? port : DEF_PGPORT_STR);

		if (len >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
			BAD_CONNINFO("A Unix socket path in connection option \"host\" is too long (at most %d bytes with its file name).",
						 (int) sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1);
	}
}

/*
 * ConninfoScrubMessage
 *		libpq's message about an unparsable connection string, with every
 *		fragment of the string masked; NULL if it cannot be shown safely.
 *
 * libpq 15's parse messages (in English) begin with fixed text (which may
 * quote a punctuation mark of its own: 'missing "=" after ') and quote
 * every fragment of the string they copy with '"'.  So the fixed beginning
 * is kept, and what follows it from the first '"' to the last is masked:
 * a fragment with quotes inside cannot end the masking early, and what is
 * outside is libpq's own text.  A message that does not begin as one of
 * libpq's (a translation, a later libpq) is not shown at all.
 */
char *
ConninfoScrubMessage(const char *msg)
{
	StringInfoData buf;
	const char *rest = NULL;
	const char *first;
	const char *last;
	int			i;

	for (i = 0; conninfo_msg_prefixes[i] != NULL && rest == NULL; i++)
		if (strncmp(msg, conninfo_msg_prefixes[i],
					strlen(conninfo_msg_prefixes[i])) == 0)
			rest = msg + strlen(conninfo_msg_prefixes[i]);
	if (rest == NULL)
		return NULL;

	initStringInfo(&buf);
	first = strchr(rest, '"');
	last = strrchr(rest, '"');
	if (first == NULL)
		appendStringInfoString(&buf, msg);
	else
	{
		appendBinaryStringInfo(&buf, msg, first - msg);
		appendStringInfoString(&buf, "\"" CONNINFO_MASK "\"");
		if (last != first)
			appendStringInfoString(&buf, last + 1);
	}
	return buf.data;
}

/*
 * conninfo_secret_end
 *		End of the secret value that starts at p (after "password=" or
 *		"password" and a quote): a value quoted with '', \', ' or " runs to
 *		the same quote again, past quotes escaped with a backslash (\' in a
 *		conninfo, \" in JSON); an unquoted one runs to white space, a '"' or
 *		the end of an SQL string literal (a lone ').  When unsure it runs
 *		further: masking too much is harmless.
 */
static const char *
conninfo_secret_end(const char *p)
{
	const char *close = NULL;
	const char *end;

	if (p[0] == '\'' && p[1] == '\'')
		close = "''";
	else if (p[0] == '\\' && p[1] == '\'')
		close = "\\'";
	else if (p[0] == '\'' || p[0] == '"')
		close = p[0] == '"' ? "\"" : "'";
	if (close != NULL)
	{
		size_t		len = strlen(close);

		/* a backslash escapes the next character (\' or \" in the value) */
		for (end = p + len; *end; end++)
		{
			if (strncmp(end, close, len) == 0)
				return end + len;
			if (*end == '\\' && close[0] != '\\' && end[1] != '\0')
				end++;
		}
		return end;
	}
	for (end = p; *end && !isspace((unsigned char) *end) && *end != '"'; end++)
	{
		if (*end == '\\' && end[1] != '\0')
			end++;
		else if (*end == '\'' && end[1] == '\'')
			end++;
		else if (*end == '\'')
			break;
	}
	return end;
}

/*
 * conninfo_scrub_password
 *		text at p begins with "password" (sslpassword, PASSWORD ...): copy
 *		that word to buf and mask the value that follows it ("password=v",
 *		"password = v", a JSON "password": "v", PASSWORD 'v'), if any.
 *		Returns where to go on.
 */
static const char *
conninfo_scrub_password(StringInfo buf, const char *p)
{
	const char *q = p + 8;
	const char *end;

	if (*q == '"')
		q++;					/* a JSON key */
	while (isspace((unsigned char) *q))
		q++;
	if (*q == '=' || *q == ':')
	{
		q++;
		while (isspace((unsigned char) *q))
			q++;
	}
	else if (*q != '\'')
	{
		appendBinaryStringInfo(buf, p, 8);
		return p + 8;
	}
	end = conninfo_secret_end(q);
	appendBinaryStringInfo(buf, p, q - p);
	if (*q == '"' && end > q + 1 && end[-1] == '"')
		appendStringInfoString(buf, "\"" CONNINFO_MASK "\"");	/* JSON */
	else
		appendStringInfoString(buf, CONNINFO_MASK);
	return end;
}

/*
 * ConninfoScrubText
 *		Any text that may quote a connection string (a statement: the one
 *		that called acquire may also have called create_pool), with every
 *		password masked: the value after a word ending in "password" that is
 *		followed by "=", ":" or a quote (password=, sslpassword=, a JSON key,
 *		PASSWORD '...'), and the password of a URI's user information
 *		(scheme://user:password@host, or scheme://user:pass at the very end
 *		of a text that was cut there).  Whitespace of any kind may surround
 *		the "=" or ":".  Words such as password_required are left alone.
 */
char *
ConninfoScrubText(const char *text)
{
	StringInfoData buf;
	const char *p = text;

	initStringInfo(&buf);
	while (*p)
	{
		if (pg_strncasecmp(p, "password", 8) == 0 &&
			!(isalnum((unsigned char) p[8]) || p[8] == '_'))
		{
			p = conninfo_scrub_password(&buf, p);
			continue;
		}
		if (strncmp(p, "://", 3) == 0)
		{
			size_t		n = strcspn(p + 3, "/@ \t\n'\"?#");
			const char *colon = memchr(p + 3, ':', n);

			/* at the end: text cut inside the user information */
			if ((p[3 + n] == '@' || p[3 + n] == '\0') && colon != NULL)
			{
				appendBinaryStringInfo(&buf, p, colon + 1 - p);
				appendStringInfoString(&buf, CONNINFO_MASK);
				p += 3 + n;
				continue;
			}
		}
		appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/* PQconninfoParse failed: 22023 with libpq's message, scrubbed. */
static void
conninfo_parse_failed(char *err)
{
	char	   *msg = pstrdup(err ? err : "out of memory");
	int			n = strlen(msg);
	char	   *shown;

	if (err)
		PQfreemem(err);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	shown = ConninfoScrubMessage(msg);
	if (shown == NULL)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid value for pool option \"conninfo\""),
				 errdetail("The connection string could not be parsed; libpq's message is not shown because it could quote a secret.")));
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("invalid value for pool option \"conninfo\""),
			 errdetail_internal("%s", shown)));
}

/* Is this libpq option a secret (password, sslpassword, ...)? */
static bool
conninfo_option_is_secret(const PQconninfoOption *o)
{
	return o->dispchar != NULL && o->dispchar[0] == '*';
}

/*
 * ConninfoMask
 *		The conninfo as shown to users: every set option, password masked.
 *		An unparsable conninfo is shown as a mask as a whole.
 */
char *
ConninfoMask(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *o;
	StringInfoData buf;

	if (opts == NULL)
		return pstrdup(CONNINFO_MASK);
	initStringInfo(&buf);
	for (o = opts; o->keyword != NULL; o++)
	{
		const char *v;

		if (o->val == NULL || o->val[0] == '\0')
			continue;
		v = conninfo_option_is_secret(o) ? CONNINFO_MASK : o->val;
		if (buf.len > 0)
			appendStringInfoChar(&buf, ' ');
		appendStringInfo(&buf, "%s=", o->keyword);
		if (strpbrk(v, " '\\") != NULL || v[0] == '\0')
		{
			appendStringInfoChar(&buf, '\'');
			for (; *v; v++)
			{
				if (*v == '\'' || *v == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, *v);
			}
			appendStringInfoChar(&buf, '\'');
		}
		else
			appendStringInfoString(&buf, v);
	}
	PQconninfoFree(opts);
	return buf.data;
}
