/*
 * The reading of messages between processes (common/ipc_msg.c): a
 * series of records, each a 16-bit length and the record as the
 * transport hands it to ipc_parse (header, payload).  A record that
 * parses goes to a decoder that can run outside its daemon: sallyctl's
 * decoders of the queue manager's replies (sallyctl/ctl_reply.c), the
 * smtpd engine's reading of a reload (smtpd/smtp_conf.c: the
 * configuration text, parsed again, and the pki files), and for every
 * other type a walk with the ipc_get_* readers steered by the payload's
 * own bytes.
 */
#include "fuzz.h"

#include "config.h"
#include "config_int.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "../../sallyctl/sallyctl.h"
#include "../../smtpd/smtpd.h"

#define REC_MAX		(sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES)

/* Reads the payload as the readers' steps, each chosen by a byte. */
static void
fuzz_walk(struct ipc_msg *m)
{
	uint8_t		 sel, buf[IPC_STRING_MAX_BYTES + 1];
	const uint8_t	*p;
	size_t		 n;
	uint32_t	 v32;
	uint64_t	 v64;

	while (ipc_get_data(m, &sel, 1) == 0) {
		switch (sel % 5) {
		case 0:
			(void)ipc_get_u32(m, &v32);
			break;
		case 1:
			(void)ipc_get_u64(m, &v64);
			break;
		case 2:
			if (ipc_get_str(m, (char *)buf, 1 + sel % sizeof(buf))
			    == 0)
				FUZZ_ASSERT(strlen((char *)buf) <= sel %
				    sizeof(buf));
			break;
		case 3:
			if (ipc_get_bytes(m, &p, &n, sel) == 0)
				FUZZ_ASSERT(n <= sel &&
				    p + n <= m->data + m->hdr.len);
			break;
		default:
			(void)ipc_get_data(m, buf, sel % 16);
			break;
		}
		FUZZ_ASSERT(m->off <= m->hdr.len);
	}
	FUZZ_ASSERT(ipc_get_end(m) == 0);
}

static void
fuzz_ctl(struct ipc_msg *m)
{
	struct ctl_entry	 e;
	struct ctl_proc		 p;
	struct ctl_stat		 s;
	struct ctl_result	 r;
	static struct ctl_envinfo ei;

	switch (m->hdr.type) {
	case MSG_CTL_QUEUE_ENTRY:
		if (ctl_reply_entry(m, &e) == 0)
			FUZZ_ASSERT(ctl_state_valid(e.state));
		break;
	case MSG_CTL_ENVELOPE_INFO:
		if (ctl_reply_envinfo(m, &ei) == 0)
			FUZZ_ASSERT(ei.n <= CTL_FIELDS_MAX);
		break;
	case MSG_CTL_PROC:
		(void)ctl_reply_proc(m, &p);
		break;
	case MSG_CTL_STAT:
		(void)ctl_reply_stat(m, &s);
		break;
	case MSG_CTL_RESULT:
		if (ctl_reply_result(m, &r) == 0)
			FUZZ_ASSERT(r.result <= RESULT_PERMFAIL);
		break;
	default:
		(void)ctl_reply_end(m);
		break;
	}
}

static void
fuzz_record(const uint8_t *rec, size_t len)
{
	struct ipc_msg	 m;

	if (ipc_parse(&m, rec, len) == -1)
		return;
	FUZZ_ASSERT(m.hdr.len == len - sizeof(m.hdr) && m.fd == -1);
	switch (m.hdr.type) {
	case MSG_CTL_QUEUE_ENTRY:
	case MSG_CTL_ENVELOPE_INFO:
	case MSG_CTL_PROC:
	case MSG_CTL_STAT:
	case MSG_CTL_RESULT:
	case MSG_CTL_END:
		fuzz_ctl(&m);
		break;
	case MSG_PARENT_CONF_DATA:
	case MSG_PARENT_CONF_COMMIT:
		(void)smtp_conf_recv(&m);
		break;
	default:
		fuzz_walk(&m);
		break;
	}
}

/* A reload left half done by the last input is forgotten. */
static void
fuzz_conf_reset(void)
{
	static uint8_t	 rec[sizeof(struct ipc_hdr) + 12];
	struct ipc_hdr	 h = { MSG_PARENT_CONF_DATA, 12, 0, 0 };
	struct ipc_msg	 m;

	memcpy(rec, &h, sizeof(h));
	if (ipc_parse(&m, rec, sizeof(rec)) == 0)
		FUZZ_ASSERT(smtp_conf_recv(&m) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	uint8_t		*rec;
	size_t		 len;

	if (!init) {
		log_init("fuzz_ipc", 1);
		smtp_conf_init(config_new(), NULL);
		init = 1;
	}
	fuzz_conf_reset();
	while (size >= 2) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > REC_MAX)
			len = REC_MAX;
		/* Each record in its own buffer: ASan sees reads past it. */
		if ((rec = malloc(len > 0 ? len : 1)) == NULL)
			abort();
		memcpy(rec, data, len);
		fuzz_record(rec, len);
		free(rec);
		data += len;
		size -= len;
	}
	return 0;
}
