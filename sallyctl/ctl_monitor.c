/*
 * sallyctl monitor (root, no chroot): the queue manager's counters
 * (show stats) every second, one row of columns per second as
 * smtpctl monitor and vmstat(8) print them, the header again every
 * CTL_MONITOR_HEADER_ROWS rows.  Counters of events are shown as what
 * happened since the row before (the first row: since queued started);
 * the queue's size and what is in flight as they are.  Runs until
 * interrupted, or for -n COUNT rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "proto.h"
#include "sallyctl.h"

/* Counters kept from one show stats; more than the manager sends. */
#define CTL_MONITOR_STATS_MAX	96

struct ctl_snapshot {
	struct ctl_stat	 stats[CTL_MONITOR_STATS_MAX];
	unsigned int	 n;
};

/* A column: the sum of up to three counters; delta or level. */
struct ctl_column {
	const char	*title;
	const char	*names[3];
	int		 delta;
};

static const struct ctl_column ctl_columns[] = {
	{ "sessions",	{ "smtp.sessions" },				1 },
	{ "in",		{ "messages.committed" },			1 },
	{ "delivered",	{ "envelopes.delivered", "envelopes.relayed" },	1 },
	{ "deferred",	{ "envelopes.tempfail",
			  "envelopes.relay_deferred" },			1 },
	{ "bounced",	{ "envelopes.permfail", "envelopes.expired",
			  "envelopes.relay_bounced" },			1 },
	{ "expired",	{ "envelopes.expired" },			1 },
	{ "outconns",	{ "relay.connections" },			1 },
	{ "queue",	{ "queue.envelopes" },				0 },
	{ "messages",	{ "queue.messages" },				0 },
	{ "inflight",	{ "queue.inflight", "relay.inflight" },		0 },
};
#define CTL_NCOLUMNS	(sizeof(ctl_columns) / sizeof(ctl_columns[0]))

static int
ctl_monitor_stat(struct ipc_msg *m, void *arg)
{
	struct ctl_snapshot	*s = arg;

	if (s->n >= CTL_MONITOR_STATS_MAX)
		return -1;
	if (ctl_reply_stat(m, &s->stats[s->n]) == -1)
		return -1;
	s->n++;
	return 0;
}

static uint64_t
ctl_monitor_value(const struct ctl_snapshot *s, const struct ctl_column *c)
{
	uint64_t	 v = 0;
	unsigned int	 i, k;

	for (k = 0; k < 3 && c->names[k] != NULL; k++)
		for (i = 0; i < s->n; i++)
			if (strcmp(s->stats[i].name, c->names[k]) == 0)
				v += s->stats[i].value;
	return v;
}

static void
ctl_monitor_header(void)
{
	size_t	 i;

	for (i = 0; i < CTL_NCOLUMNS; i++)
		printf("%s%9s", i > 0 ? " " : "", ctl_columns[i].title);
	printf("\n");
}

static void
ctl_monitor_row(const struct ctl_snapshot *prev,
    const struct ctl_snapshot *cur)
{
	uint64_t	 v, p;
	size_t		 i;

	for (i = 0; i < CTL_NCOLUMNS; i++) {
		v = ctl_monitor_value(cur, &ctl_columns[i]);
		if (ctl_columns[i].delta) {
			p = ctl_monitor_value(prev, &ctl_columns[i]);
			/* A restarted queued counts from 0 again. */
			v = v >= p ? v - p : v;
		}
		printf("%s%9llu", i > 0 ? " " : "", (unsigned long long)v);
	}
	printf("\n");
	(void)fflush(stdout);
}

int
ctl_monitor(struct ctl_env *env, const struct ctl_args *a)
{
	static struct ctl_snapshot	 snap[2];
	struct timespec			 ts = { 1, 0 };
	uint32_t			 row;
	int				 cur = 0;

	memset(&snap[1], 0, sizeof(snap[1]));
	for (row = 0; a->count == 0 || row < a->count; row++) {
		if (row > 0)
			(void)nanosleep(&ts, NULL);
		snap[cur].n = 0;
		(void)ctl_queue_request(MSG_CTL_STATS);
		if (ctl_queue_stream(env, NULL, MSG_CTL_STAT,
		    ctl_monitor_stat, &snap[cur]) != 0)
			return 1;
		if (row % CTL_MONITOR_HEADER_ROWS == 0)
			ctl_monitor_header();
		ctl_monitor_row(&snap[!cur], &snap[cur]);
		cur = !cur;
	}
	return 0;
}
