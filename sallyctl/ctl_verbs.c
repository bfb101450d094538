/*
 * The verbs that change what queued does (sallyctl, root, no chroot):
 * pause and resume smtp, delivery, relay or envelopes; hold, release,
 * expire and requeue.  Each is one request to the queue manager over
 * control.sock and its CTL_RESULT (queued/queue_control_verbs.c).
 */
#include <stdint.h>
#include <string.h>

#include "ipc.h"
#include "proto.h"
#include "sallyctl.h"

/* A verb's request, and the word its result is printed with. */
struct ctl_verb {
	const char	*words[CTL_WORDS_MAX];
	uint32_t	 type;
	const char	*done;		/* NULL: the manager's message */
};

static const struct ctl_verb ctl_verbs[] = {
	{ { "pause", "envelope" },	MSG_CTL_PAUSE,		"paused" },
	{ { "resume", "envelope" },	MSG_CTL_RESUME,		"resumed" },
	{ { "pause" },			MSG_CTL_PAUSE,		NULL },
	{ { "resume" },			MSG_CTL_RESUME,		NULL },
	{ { "hold" },			MSG_CTL_HOLD,		"held" },
	{ { "release" },		MSG_CTL_RELEASE,	"released" },
	{ { "expire" },			MSG_CTL_EXPIRE,		"expired" },
	{ { "requeue" },		MSG_CTL_REQUEUE,	"requeued" },
};

/* 1 when the command's words are the verb's. */
static int
ctl_verb_is(const struct ctl_verb *v, const struct ctl_cmd *cmd)
{
	int	 i;

	for (i = 0; i < CTL_WORDS_MAX; i++) {
		if (v->words[i] == NULL || cmd->words[i] == NULL) {
			if (v->words[i] != cmd->words[i])
				return 0;
			break;
		}
		if (strcmp(v->words[i], cmd->words[i]) != 0)
			return 0;
	}
	return 1;
}

int
ctl_queue_verb(struct ctl_env *env, const struct ctl_args *a)
{
	size_t	 i;

	for (i = 0; i < sizeof(ctl_verbs) / sizeof(ctl_verbs[0]); i++)
		if (ctl_verb_is(&ctl_verbs[i], a->cmd))
			return ctl_queue_command(env, ctl_verbs[i].type,
			    a->arg, ctl_verbs[i].done);
	return 1;	/* not reached: the table has every such command */
}
