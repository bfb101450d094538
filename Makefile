# sallyport: the top-level build.  GNU make.
#
#   make            build every program
#   make deps       install the Debian packages that are missing (as root)
#   make check      build, then run the unit and integration tests and a
#                   short run of every fuzz harness
#   make check-scale the tests at users' sizes (100,000 messages, 50 MB):
#                   slow, run before each release
#   make fuzz       run every fuzz harness for FUZZ_SECS (regress/fuzz)
#   make demo       build and start the suite under ./run on 127.0.0.1
#   make demo-stop  stop it
#   make bench      run the benchmarks
#   make install    install under $(DESTDIR)$(PREFIX)
#   make uninstall  remove what it installed (the configuration stays)
#   make deb        the Debian package, in dist/ (dpkg-buildpackage)

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
# The daemons are started by their units, never typed, and their names
# are other packages' (/usr/sbin/smtpd is OpenSMTPD's): off the PATH, in
# a directory of their own, as Postfix's daemon_directory.
LIBEXECDIR ?= $(PREFIX)/lib/sallyport
MANDIR	?= $(PREFIX)/share/man
# The daemons' pages are installed as smtpd.8sallyport (man 8sallyport
# smtpd), as Debian installs Postfix's as smtpd.8postfix.
MANSUFFIX ?= sallyport
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DESTDIR	?=

CC	?= cc
YACC	 = bison -y
PKG_CONFIG ?= pkg-config
PKGS	 = libbsd-overlay libtls libcrypto libevent libcrypt libseccomp \
	   libunbound

WARNINGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	   -Wpointer-arith -Wcast-qual -Wsign-compare -Werror
# _FORTIFY_SOURCE as Debian's packages build (debian/rules): its checked
# results fail the build here first, not only in "make deb".  Not with
# the sanitizers, whose own checks it would bypass.
ifeq ($(SANITIZE),)
CFLAGS	?= -O2 -g -D_FORTIFY_SOURCE=2
else
CFLAGS	?= -O2 -g
endif
CFLAGS	+= -std=c11 -D_GNU_SOURCE -DLIBBSD_OPENBSD_VIS $(WARNINGS) -iquote common -MMD -MP
ifneq ($(SANITIZE),)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
endif

# pkg-config is asked only when building, so that "make deps" runs first.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CRIT_LIBS  = $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)
ALL_CFLAGS = $(CFLAGS) $(PKG_CFLAGS)

# pop3d execs a mailbox process for every session (DESIGN.md: fork and
# exec), and the dynamic loader's symbol lookups in libtls, libssl and
# libcrypto made each exec cost 2.3 ms of CPU against 0.7 ms with them
# linked in (doc/INTERNALS.md, "POP3 performance"); that program is now
# pop3d-mailbox, without them (below).  STATIC_LIBS=yes makes pop3d take
# those (and libevent, libseccomp, libbsd) from their static archives
# when all are installed, and pop3d-mailbox the last three.  Off by default: a security
# update of OpenSSL would then need pop3d rebuilt, which a hardened
# host's administrator (and Debian's policy) should not have to know.
STATIC_LIBS ?= no
STATIC_NAMES = tls ssl crypto event seccomp bsd md
STATIC_DIR = $(shell $(PKG_CONFIG) --variable=libdir libcrypto 2>/dev/null)
STATIC_FOUND = $(wildcard $(patsubst %,$(STATIC_DIR)/lib%.a,$(STATIC_NAMES)))
STATIC_LINK = -Wl,-Bstatic $(addprefix -l,$(STATIC_NAMES)) -Wl,-Bdynamic -lcrypt
ifeq ($(STATIC_LIBS),yes)
pop3d_LIBS = $(if $(filter $(words $(STATIC_NAMES)),$(words $(STATIC_FOUND))),\
	$(STATIC_LINK))
endif

# pop3d's mailbox processes run a program of their own, pop3d-mailbox
# (pop3d/mailbox/pop3d_mailbox.c, its main, then libpop3d.a and
# libcommon.a, of which the linker takes only what the role pop3d-user
# calls), linked without libtls, libssl, libcrypto and libunbound: the
# loader then has none of their relocations to do at each session's
# exec (doc/INTERNALS.md, "POP3 performance").  A TLS call reaching it
# fails its link; regress/integration/test_privsep.py checks ldd(1).
MAILBOX_BIN  = pop3d/pop3d-mailbox
MAILBOX_PKGS = libbsd-overlay libevent libseccomp
MAILBOX_LIBS = $(shell $(PKG_CONFIG) --libs $(MAILBOX_PKGS) 2>/dev/null)
ifeq ($(STATIC_LIBS),yes)
MAILBOX_STATIC = -Wl,-Bstatic $(addprefix -l,$(filter-out tls ssl crypto,\
	$(STATIC_NAMES))) -Wl,-Bdynamic
mailbox_LIBS = $(if $(pop3d_LIBS),$(MAILBOX_STATIC))
endif

.DEFAULT_GOAL := all

PROGS	 = authd smtpd queued pop3d imapd sallyctl

# Each program is <dir>/<dir>.c (its main) plus every other .c file in its
# directory, which also go into lib<dir>.a for the unit tests.
COMMON_SRCS = $(filter-out common/parse.c,$(wildcard common/*.c)) common/parse.c
COMMON_OBJS = $(sort $(COMMON_SRCS:.c=.o))

define prog_rules
$(1)_MAIN = $(1)/$(1).o
$(1)_OBJS = $$(filter-out $(1)/$(1).o,$$(patsubst %.c,%.o,$$(wildcard $(1)/*.c)))
$(1)/lib$(1).a: $$($(1)_OBJS)
	rm -f $$@ && ar rcs $$@ $$^
$(1)/$(1): $$($(1)_MAIN) $(1)/lib$(1).a common/libcommon.a
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(or $$($(1)_LIBS),$$(PKG_LIBS)) -pthread
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(p))))

$(MAILBOX_BIN): pop3d/mailbox/pop3d_mailbox.o pop3d/libpop3d.a \
    common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(or $(mailbox_LIBS),$(MAILBOX_LIBS)) -pthread

# imapd's mailbox processes run imapd-mailbox (imapd/mailbox/
# imapd_mailbox.c, its main, then libimapd.a and libcommon.a), linked as
# pop3d-mailbox is and for the same reason: no TLS library to load at
# each session's exec.  Built once its main is in the tree.
IMAP_MAILBOX_BIN = $(if $(wildcard imapd/mailbox/imapd_mailbox.c),\
	imapd/imapd-mailbox)
# It alone takes zlib, for COMPRESS=DEFLATE (imapd/imap_compress.c).
imapd/imapd-mailbox: imapd/mailbox/imapd_mailbox.o imapd/libimapd.a \
    common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(or $(mailbox_LIBS),$(MAILBOX_LIBS)) -lz \
	    -pthread

BINS	 = $(foreach p,$(PROGS),$(p)/$(p)) $(MAILBOX_BIN) $(IMAP_MAILBOX_BIN)
LIBS	 = $(foreach p,$(PROGS),$(p)/lib$(p).a)

UNIT_SRCS = $(wildcard regress/unit/test_*.c)
UNIT_OBJS = $(UNIT_SRCS:.c=.o)
UNIT_BIN  = regress/unit/unit_tests

.PHONY: all deps check unit integration demo demo-stop bench install clean \
	uninstall asan-check check-scale deb

all: $(BINS)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# bison -d also writes common/parse.h, the tokens the lexer returns.
common/parse.c: common/parse.y
	$(YACC) -d -o $@ $<
common/parse.h: common/parse.c
common/config_lex.o: common/parse.h

# The generated parser is not held to every warning of hand-written code.
common/parse.o: common/parse.c
	$(CC) $(ALL_CFLAGS) -Wno-sign-compare -Wno-unused-but-set-variable \
	    -Wno-missing-prototypes -c -o $@ $<

# The names of the system calls for the sandbox's violation report
# (common/sandbox_trap.c): one "[SYS_x] = "x"," line per SYS_ name that
# the C library's <sys/syscall.h> defines, for this machine's ABI.
common/syscall_names.h:
	printf '#include <sys/syscall.h>\n' | $(CC) -E -dM - | \
	    sed -n 's/^#define SYS_\([a-z0-9_]*\) .*/\1/p' | sort -u | \
	    awk '{ printf "\t[SYS_%s] = \"%s\",\n", $$1, $$1 }' >$@.tmp
	test -s $@.tmp && mv $@.tmp $@
common/sandbox_trap.o: common/syscall_names.h

common/libcommon.a: $(COMMON_OBJS)
	rm -f $@ && ar rcs $@ $^

$(UNIT_BIN): $(UNIT_OBJS) $(LIBS) common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBS) common/libcommon.a \
	    $(PKG_LIBS) $(CRIT_LIBS) -pthread

# sendmail(8) and its mailq and newaliases names are sallyctl, which
# looks at argv[0] (as OpenSMTPD's smtpctl is its sendmail): links.
SENDMAIL_LINKS = sallyctl/sendmail sallyctl/mailq sallyctl/newaliases
# What "make install" installs as sendmail (the install rules' name).
SENDMAIL_BIN = sallyctl/sendmail
all: $(SENDMAIL_LINKS)
$(SENDMAIL_LINKS): sallyctl/sallyctl
	ln -sf sallyctl $@
.PHONY: clean-sendmail
clean: clean-sendmail
clean-sendmail:
	rm -f $(SENDMAIL_LINKS)

# The scale tests' writer of queue files, with queued's serialiser.
SCALE_BIN = regress/scale/mkqueue
$(SCALE_BIN): regress/scale/mkqueue.o queued/libqueued.a common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread

# The relay's test drivers: MX routing (regress/integration/
# test_relay_dns.py) and the SMTP client (test_relay_smtp.py).
DNSQ_BIN = regress/relay/dnsq
$(DNSQ_BIN): regress/relay/dnsq.o queued/libqueued.a common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread
SMTPC_BIN = regress/relay/smtpc
$(SMTPC_BIN): regress/relay/smtpc.o queued/libqueued.a common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread
# The relay process's insides (test_relay_proc.py).
RELAYQ_BIN = regress/relay/relayq
$(RELAYQ_BIN): regress/relay/relayq.o queued/libqueued.a common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread
# MTA-STS from the DNS to the policy (test_relay_sts.py).
STSQ_BIN = regress/relay/stsq
$(STSQ_BIN): regress/relay/stsq.o queued/libqueued.a common/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread

check-scale: all $(SCALE_BIN)
	/usr/bin/python3 regress/scale/run.py

deps:
	sh etc/deps.sh

unit: $(UNIT_BIN)

check: all $(UNIT_BIN) $(SCALE_BIN) $(DNSQ_BIN) $(SMTPC_BIN) $(RELAYQ_BIN) \
	$(STSQ_BIN) fuzz-build
	sh regress/check.sh

asan-check:
	$(MAKE) clean
	$(MAKE) SANITIZE=1 check

demo: all
	sh etc/demo.sh start

demo-stop:
	sh etc/demo.sh stop

bench: all
	sh bench/run.sh

# What goes where.  The commands an administrator types are on the
# PATH: sallyctl in SBINDIR.  The daemons and what they exec go to
# LIBEXECDIR; a program added to DAEMONS or LIBEXEC_PROGS (with its unit
# in etc/systemd/sallyport-NAME.service.in for a daemon) is installed,
# packaged (debian/rules runs this target) and uninstalled with no other
# change.
DAEMONS	 = authd smtpd queued pop3d imapd
# What a daemon execs, beside it in LIBEXECDIR (pop3d and imapd look
# for it there): no unit, no page of its own (pop3d(8), imapd(8) name
# them).
LIBEXEC_PROGS = $(MAILBOX_BIN) $(IMAP_MAILBOX_BIN)
ADMIN_CMDS = sallyctl
# The sendmail(8) front end (SENDMAIL_BIN, sallyctl/sendmail, above):
# installed as SBINDIR/sendmail, with
# its page sendmail.8 when there is one, and mailq and newaliases in
# BINDIR as links to it, the names every MTA answers to.
SENDMAIL_BIN ?=
SENDMAIL_NAMES = mailq newaliases
UNITS	 = $(notdir $(basename $(wildcard etc/systemd/*.in)))
SERVICES = $(filter %.service,$(UNITS))
# The templates' placeholders; the units run the daemons from here, and
# sallyport.target wants every service.
UNIT_SED = -e '/^\#@/d' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	   -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@SERVICES@|$(SERVICES)|g'

install: all
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/sallyport $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	for p in $(DAEMONS); do \
	    install -m 0755 $$p/$$p $(DESTDIR)$(LIBEXECDIR)/ || exit 1; done
	for p in $(LIBEXEC_PROGS); do \
	    install -m 0755 $$p $(DESTDIR)$(LIBEXECDIR)/ || exit 1; done
	for p in $(ADMIN_CMDS); do \
	    install -m 0755 $$p/$$p $(DESTDIR)$(SBINDIR)/ || exit 1; done
	for p in $(DAEMONS); do install -m 0644 $$p/$$p.8 \
	    $(DESTDIR)$(MANDIR)/man8/$$p.8$(MANSUFFIX) || exit 1; done
	for p in $(ADMIN_CMDS); do \
	    install -m 0644 $$p/$$p.8 $(DESTDIR)$(MANDIR)/man8/ || exit 1; done
	$(if $(SENDMAIL_BIN),$(install_sendmail))
	install -m 0644 etc/sallyport.conf.5 $(DESTDIR)$(MANDIR)/man5/
	test -e $(DESTDIR)$(SYSCONFDIR)/sallyport/sallyport.conf || \
	    install -m 0644 etc/sallyport.conf $(DESTDIR)$(SYSCONFDIR)/sallyport/
	for u in $(UNITS); do \
	    sed $(UNIT_SED) etc/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	install -m 0644 etc/sysusers.d/sallyport.conf $(DESTDIR)$(SYSUSERSDIR)/
	install -m 0644 etc/tmpfiles.d/sallyport.conf $(DESTDIR)$(TMPFILESDIR)/
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then sh etc/users.sh; fi

# The links are absolute; dh_link makes them relative in the package.
define install_sendmail
install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(SENDMAIL_BIN) $(DESTDIR)$(SBINDIR)/sendmail
	if [ -f $(SENDMAIL_BIN).8 ]; then install -m 0644 $(SENDMAIL_BIN).8 \
	    $(DESTDIR)$(MANDIR)/man8/sendmail.8; fi
	for n in $(SENDMAIL_NAMES); do \
	    ln -sf $(SBINDIR)/sendmail $(DESTDIR)$(BINDIR)/$$n || exit 1; done
endef

# The configuration, the users and the spool are the admin's: they stay.
uninstall:
	for p in $(DAEMONS); do rm -f $(DESTDIR)$(LIBEXECDIR)/$$p \
	    $(DESTDIR)$(MANDIR)/man8/$$p.8$(MANSUFFIX); done
	for p in $(notdir $(LIBEXEC_PROGS)); do \
	    rm -f $(DESTDIR)$(LIBEXECDIR)/$$p; done
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	for p in $(ADMIN_CMDS); do rm -f $(DESTDIR)$(SBINDIR)/$$p \
	    $(DESTDIR)$(MANDIR)/man8/$$p.8; done
	if [ -n "$(SENDMAIL_BIN)" ]; then rm -f $(DESTDIR)$(SBINDIR)/sendmail \
	    $(DESTDIR)$(MANDIR)/man8/sendmail.8 \
	    $(addprefix $(DESTDIR)$(BINDIR)/,$(SENDMAIL_NAMES)); fi
	rm -f $(DESTDIR)$(MANDIR)/man5/sallyport.conf.5
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/sallyport.conf \
	    $(DESTDIR)$(TMPFILESDIR)/sallyport.conf

# The Debian package (debian/), built from this tree without network:
# dpkg-buildpackage writes it beside the tree; it is moved to DEBDIR.
DEBDIR	?= dist
deb:
	dpkg-buildpackage -us -uc -b
	mkdir -p $(DEBDIR)
	v=$$(dpkg-parsechangelog -S Version) && \
	    a=$$(dpkg-architecture -q DEB_HOST_ARCH) && \
	    mv ../sallyport_$${v}_$$a.deb ../sallyport_$${v}_$$a.buildinfo \
	    ../sallyport_$${v}_$$a.changes $(DEBDIR)/ && \
	    if [ -f ../sallyport-dbgsym_$${v}_$$a.deb ]; then \
	        mv ../sallyport-dbgsym_$${v}_$$a.deb $(DEBDIR)/; fi
	ls $(DEBDIR)/*.deb

# make print-DAEMONS: a variable's value, for the tests of install.
print-%:
	@echo '$($*)'

clean:
	rm -f $(BINS) $(LIBS) common/libcommon.a common/parse.c common/parse.h $(UNIT_BIN) \
	    common/syscall_names.h \
	    $(SCALE_BIN) $(DNSQ_BIN) $(SMTPC_BIN) $(RELAYQ_BIN) $(STSQ_BIN)
	find . -type f \( -name '*.o' -o -name '*.d' \) -delete

include regress/fuzz/fuzz.mk

-include $(wildcard $(addsuffix /*.d,common $(PROGS)) pop3d/mailbox/*.d \
    imapd/mailbox/*.d \
	regress/unit/*.d regress/scale/*.d regress/relay/*.d)
