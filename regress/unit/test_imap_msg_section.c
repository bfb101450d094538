/*
 * imapd/imap_section*.c and the MIME tree: BODYSTRUCTURE of a nested
 * message (multipart/alternative inside multipart/mixed with a
 * message/rfc822 attachment), BODY[section] of each kind, partial
 * fetches across the LF to CRLF conversion.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_msg.h"
#include "test_imap_msg.h"

static const char nested[] =
    "From: Alice <alice@example.org>\n"
    "To: Bob <bob@example.com>\n"
    "Subject: nested\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=C3=A9\n"
    "--alt\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>cafe</p>\n"
    "--alt--\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "Content-Disposition: attachment; filename=\"fwd.eml\"\n"
    "\n"
    "From: Carol <carol@example.net>\n"
    "Subject: inner\n"
    "Message-ID: <inner@example.net>\n"
    "\n"
    "inner body\n"
    "--outer--\n";

Test(imap_msg_section, nested_bodystructure)
{
	char	*s = tm_struct(nested, sizeof(nested) - 1, TM_BODYSTRUCTURE);

	cr_assert_str_eq(s, "((("
	    "\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
	    "\"QUOTED-PRINTABLE\" 9 0 NIL NIL NIL NIL)("
	    "\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 11 0 "
	    "NIL NIL NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"alt\") NIL NIL "
	    "NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 94 "
	    "(NIL \"inner\" ((\"Carol\" NIL \"carol\" \"example.net\")) "
	    "((\"Carol\" NIL \"carol\" \"example.net\")) "
	    "((\"Carol\" NIL \"carol\" \"example.net\")) NIL NIL NIL NIL "
	    "\"<inner@example.net>\") "
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "10 0 NIL NIL NIL NIL) 4 NIL (\"ATTACHMENT\" (\"FILENAME\" "
	    "\"fwd.eml\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"outer\") NIL "
	    "NIL NIL)");
	free(s);
	s = tm_struct(nested, sizeof(nested) - 1, TM_BODY);
	cr_assert_str_eq(s, "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") "
	    "NIL NIL \"QUOTED-PRINTABLE\" 9 0)(\"TEXT\" \"HTML\" (\"CHARSET\" "
	    "\"utf-8\") NIL NIL \"7BIT\" 11 0) \"ALTERNATIVE\")(\"MESSAGE\" "
	    "\"RFC822\" NIL NIL NIL \"7BIT\" 94 (NIL \"inner\" ((\"Carol\" NIL "
	    "\"carol\" \"example.net\")) ((\"Carol\" NIL \"carol\" "
	    "\"example.net\")) ((\"Carol\" NIL \"carol\" \"example.net\")) NIL "
	    "NIL NIL NIL \"<inner@example.net>\") (\"TEXT\" \"PLAIN\" "
	    "(\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 0) 4) \"MIXED\")");
	free(s);
}

/* Criterion runs each parameter in a fresh process: arrays, no pointers. */
struct sect_case {
	char	 spec[64];
	int	 rc;
	char	 want[160];
};

ParameterizedTestParameters(imap_msg_section, sections)
{
	static struct sect_case cases[] = {
		{ "1.1", 0, "caf=C3=A9" },
		{ "1.2", 0, "<p>cafe</p>" },
		{ "1.2.MIME", 0, "Content-Type: text/html; charset=utf-8\r\n"
		    "\r\n" },
		{ "2.HEADER", 0, "From: Carol <carol@example.net>\r\n"
		    "Subject: inner\r\nMessage-ID: <inner@example.net>\r\n"
		    "\r\n" },
		{ "2.TEXT", 0, "inner body" },
		{ "2.1", 0, "inner body" },
		{ "2.1.MIME", 0, "From: Carol <carol@example.net>\r\n"
		    "Subject: inner\r\nMessage-ID: <inner@example.net>\r\n"
		    "\r\n" },
		{ "2.HEADER.FIELDS (SUBJECT)", 0, "Subject: inner\r\n\r\n" },
		{ "header.fields (Subject To)", 0, "To: Bob <bob@example.com>\r\n"
		    "Subject: nested\r\n\r\n" },
		{ "HEADER.FIELDS.NOT (Subject To MIME-Version Content-Type)", 0,
		    "From: Alice <alice@example.org>\r\n\r\n" },
		{ "HEADER.FIELDS (X-Absent)", 0, "\r\n" },
		{ "3", 1, "" },
		{ "1.3", 1, "" },
		{ "1.HEADER", 1, "" },
		{ "2.2", 1, "" },
	};

	return cr_make_param_array(struct sect_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

/* The whole of a section, read through the cursor in small pieces. */
static void
read_all(const struct imap_sect_data *d, struct imap_mbuf *out)
{
	struct imap_crlf_cursor c;
	char		 piece[7];
	size_t		 n;

	imap_crlf_seek(&c, d->raw, d->rawlen, 0);
	while ((n = imap_crlf_read(&c, piece, sizeof(piece))) > 0)
		imap_mbuf_add(out, piece, n);
}

ParameterizedTest(struct sect_case *tc, imap_msg_section, sections)
{
	struct imap_message	*m;
	struct imap_section sec;
	struct imap_sect_data d;
	struct imap_mbuf scratch, out;
	const char	*err = NULL;

	cr_assert_not_null(m = imap_msg_parse(nested, sizeof(nested) - 1));
	cr_assert_eq(imap_section_parse(tc->spec, strlen(tc->spec), &sec,
	    &err), 0, "%s: %s", tc->spec, err);
	imap_mbuf_init(&scratch, 65536);
	imap_mbuf_init(&out, 65536);
	cr_assert_eq(imap_section_resolve(m, &sec, &scratch, &d), tc->rc,
	    "%s", tc->spec);
	read_all(&d, &out);
	imap_mbuf_add(&out, "", 0);
	cr_assert_str_eq(out.data, tc->want, "%s", tc->spec);
	cr_assert_eq(d.size, strlen(tc->want), "%s", tc->spec);
	imap_mbuf_free(&scratch);
	imap_mbuf_free(&out);
	imap_msg_free(m);
}

Test(imap_msg_section, whole_header_text)
{
	struct imap_message	*m;
	struct imap_section sec;
	struct imap_sect_data d;
	struct imap_mbuf scratch;
	const char	*err;
	size_t		 crlf = imap_msg_crlf_size(nested, sizeof(nested) - 1);

	cr_assert_not_null(m = imap_msg_parse(nested, sizeof(nested) - 1));
	imap_mbuf_init(&scratch, 65536);
	cr_assert_eq(imap_section_parse("", 0, &sec, &err), 0);
	cr_assert_eq(imap_section_resolve(m, &sec, &scratch, &d), 0);
	cr_assert_eq(d.size, crlf);
	cr_assert_eq(crlf, sizeof(nested) - 1 + 29);	/* 29 LFs */
	cr_assert_eq(imap_section_parse("HEADER", 6, &sec, &err), 0);
	cr_assert_eq(imap_section_resolve(m, &sec, &scratch, &d), 0);
	cr_assert_eq(d.size, 141 + 6);
	cr_assert_eq(imap_section_parse("TEXT", 4, &sec, &err), 0);
	cr_assert_eq(imap_section_resolve(m, &sec, &scratch, &d), 0);
	cr_assert_eq(d.size, crlf - 147);
	imap_mbuf_free(&scratch);
	imap_msg_free(m);
}

/* Every <start.count> of a mixed LF/CRLF/CR text against a naive copy. */
Test(imap_msg_section, partial_across_crlf)
{
	static const char raw[] = "ab\ncd\r\n\n\r\rx\ny\r\n\nz";
	char		 want[64], got[64];
	struct imap_crlf_cursor c;
	size_t		 i, n = 0, start, count, off, len, k, got_n;

	for (i = 0; i < sizeof(raw) - 1; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			want[n++] = '\r';
		want[n++] = raw[i];
	}
	cr_assert_eq(imap_msg_crlf_size(raw, sizeof(raw) - 1), n);
	for (start = 0; start <= n + 2; start++)
		for (count = 0; count <= n + 2; count++) {
			imap_partial_clip(n, 1, start, count, &off, &len);
			imap_crlf_seek(&c, raw, sizeof(raw) - 1, off);
			for (got_n = 0; got_n < len; got_n += k)
				if ((k = imap_crlf_read(&c, got + got_n,
				    (count % 3) + 1 < len - got_n ?
				    (count % 3) + 1 : len - got_n)) == 0)
					break;
			cr_assert_eq(got_n, len, "<%zu.%zu>", start, count);
			cr_assert_eq(memcmp(got, want + off, len), 0,
			    "<%zu.%zu>", start, count);
		}
	imap_partial_clip(n, 0, 5, 1, &off, &len);
	cr_assert(off == 0 && len == n);
}

struct spec_case {
	char	 spec[64];
	int	 ok;
	char	 echo[64];
};

ParameterizedTestParameters(imap_msg_section, parse)
{
	static struct spec_case cases[] = {
		{ "", 1, "" },
		{ "header", 1, "HEADER" },
		{ "1.2.3", 1, "1.2.3" },
		{ "1.MIME", 1, "1.MIME" },
		{ "3.header.fields (from \"To\")", 1,
		    "3.HEADER.FIELDS (FROM TO)" },
		{ "HEADER.FIELDS.NOT (A)", 1, "HEADER.FIELDS.NOT (A)" },
		{ "MIME", 0, "" },
		{ "0", 0, "" },
		{ "1..2", 0, "" },
		{ "1.2.", 0, "" },
		{ "TEXTX", 0, "" },
		{ "HEADER.FIELDS ()", 0, "" },
		{ "HEADER.FIELDS (A", 0, "" },
		{ "HEADER junk", 0, "" },
		{ "99999999999", 0, "" },
	};

	return cr_make_param_array(struct spec_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct spec_case *tc, imap_msg_section, parse)
{
	struct imap_section sec;
	struct imap_mbuf out;
	const char	*err = NULL;
	int		 rc;

	rc = imap_section_parse(tc->spec, strlen(tc->spec), &sec, &err);
	cr_assert_eq(rc, tc->ok ? 0 : -1, "%s", tc->spec);
	if (!tc->ok) {
		cr_assert_not_null(err);
		return;
	}
	imap_mbuf_init(&out, 1024);
	cr_assert_eq(imap_section_format(&sec, &out), 0);
	cr_assert_str_eq(out.data, tc->echo);
	imap_mbuf_free(&out);
}

/* A spec tokenized by the caller: fields added one by one. */
Test(imap_msg_section, add_field)
{
	struct imap_section sec;
	struct imap_mbuf out;
	const char	*err;

	cr_assert_eq(imap_section_parse("1.HEADER.FIELDS", 15, &sec, &err),
	    0);
	cr_assert_eq(imap_section_add_field(&sec, "Date", 4, &err), 0);
	cr_assert_eq(imap_section_add_field(&sec, "Message-ID", 10, &err),
	    0);
	cr_assert_eq(imap_section_add_field(&sec, "a b", 3, &err), -1);
	imap_mbuf_init(&out, 1024);
	cr_assert_eq(imap_section_format(&sec, &out), 0);
	cr_assert_str_eq(out.data, "1.HEADER.FIELDS (DATE MESSAGE-ID)");
	imap_mbuf_free(&out);
}

/*
 * The same message stored with CRLF, or half of its lines so: the same
 * BODYSTRUCTURE and size.
 */
Test(imap_msg_section, crlf_and_mixed_storage)
{
	struct imap_mbuf crlf;
	struct imap_message	*m;
	struct imap_section sec;
	struct imap_sect_data d;
	char		*want, *got;
	const char	*err;
	size_t		 i;
	int		 mixed;

	want = tm_struct(nested, sizeof(nested) - 1, TM_BODYSTRUCTURE);
	for (mixed = 0; mixed < 2; mixed++) {
		imap_mbuf_init(&crlf, 65536);
		for (i = 0; i < sizeof(nested) - 1; i++) {
			if (nested[i] == '\n' && (!mixed || i % 2 == 0))
				imap_mbuf_addc(&crlf, '\r');
			imap_mbuf_addc(&crlf, nested[i]);
		}
		got = tm_struct(crlf.data, crlf.len, TM_BODYSTRUCTURE);
		cr_assert_str_eq(got, want, "mixed %d", mixed);
		free(got);
		cr_assert_not_null(m = imap_msg_parse(crlf.data, crlf.len));
		cr_assert_eq(imap_section_parse("", 0, &sec, &err), 0);
		cr_assert_eq(imap_section_resolve(m, &sec, NULL, &d), 0);
		cr_assert_eq(d.size, sizeof(nested) - 1 + 29);
		imap_msg_free(m);
		imap_mbuf_free(&crlf);
	}
	free(want);
}

/* Part numbers through a message/rfc822 whose message is a multipart. */
Test(imap_msg_section, through_encapsulated_multipart)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=o\n\n"
	    "--o\n\nfirst\n"
	    "--o\nContent-Type: message/rfc822\n\n"
	    "Subject: in\nContent-Type: multipart/alternative; boundary=i\n\n"
	    "--i\n\none\n--i\nContent-Type: text/html\n\n<b>two</b>\n--i--\n"
	    "--o--\n";
	static const struct {
		const char	*spec, *want;
	} cases[] = {
		{ "2.1", "one" },
		{ "2.2", "<b>two</b>" },
		{ "2.2.MIME", "Content-Type: text/html\r\n\r\n" },
		{ "2.HEADER.FIELDS (Subject)", "Subject: in\r\n\r\n" },
		{ "2.TEXT", "--i\r\n\r\none\r\n--i\r\nContent-Type: text/html\r\n"
		    "\r\n<b>two</b>\r\n--i--" },
		{ "1", "first" },
	};
	struct imap_message	*m;
	struct imap_section sec;
	struct imap_sect_data d;
	struct imap_mbuf scratch, out;
	const char	*err;
	size_t		 i;

	cr_assert_not_null(m = imap_msg_parse(msg, sizeof(msg) - 1));
	imap_mbuf_init(&scratch, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		imap_mbuf_init(&out, 4096);
		cr_assert_eq(imap_section_parse(cases[i].spec,
		    strlen(cases[i].spec), &sec, &err), 0);
		cr_assert_eq(imap_section_resolve(m, &sec, &scratch, &d), 0,
		    "%s", cases[i].spec);
		read_all(&d, &out);
		imap_mbuf_add(&out, "", 0);
		cr_assert_str_eq(out.data, cases[i].want, "%s", cases[i].spec);
		imap_mbuf_free(&out);
	}
	cr_assert_eq(imap_section_parse("2.3", 3, &sec, &err), 0);
	cr_assert_eq(imap_section_resolve(m, &sec, &scratch, &d), 1);
	imap_mbuf_free(&scratch);
	imap_msg_free(m);
}
