# The libFuzzer harnesses (regress/fuzz/fuzz_*.c), included by the
# top-level Makefile.  The programs' sources are built again with clang,
# ASan and UBSan and the fuzzer's coverage into regress/fuzz/obj/, apart
# from the objects of the normal build.
#
#   make fuzz		runs every harness for FUZZ_SECS seconds
#   make fuzz-smoke	runs every harness over its corpus and a few
#			thousand inputs more ("make check" does it)

FUZZ_CC		?= clang-14
FUZZ_SECS	?= 60
FUZZ_SMOKE_RUNS	?= 4000
FUZZ_DIR	 = regress/fuzz
FUZZ_OBJ	 = $(FUZZ_DIR)/obj
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	 = -O1 -g -std=c11 -D_GNU_SOURCE -DLIBBSD_OPENBSD_VIS \
		   $(WARNINGS) -Wno-missing-field-initializers -iquote common \
		   $(FUZZ_SAN) $(PKG_CFLAGS)

FUZZ_SRCS	 = $(wildcard $(FUZZ_DIR)/fuzz_*.c)
FUZZ_BINS	 = $(FUZZ_SRCS:.c=)
FUZZ_NAMES	 = $(patsubst fuzz_%,%,$(notdir $(FUZZ_BINS)))
# Every program's sources but its main, as in its lib<dir>.a.
FUZZ_LIB_DIRS	 = smtpd pop3d imapd queued sallyctl authd common
FUZZ_LIB_SRCS	 = $(filter-out $(foreach d,$(FUZZ_LIB_DIRS),$(d)/$(d).c), \
		   $(sort $(wildcard $(addsuffix /*.c,$(FUZZ_LIB_DIRS))) \
		   common/parse.c))
FUZZ_LIBS	 = $(foreach d,$(FUZZ_LIB_DIRS),$(FUZZ_OBJ)/lib$(d).a)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-clean

$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP \
	    -c -o $@ $<

# As in the normal build, the generated parser is let off some warnings.
$(FUZZ_OBJ)/common/parse.o: common/parse.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-sign-compare \
	    -Wno-unused-but-set-variable -Wno-missing-prototypes \
	    -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# The lexer's tokens, from the top-level Makefile's bison -d.
$(FUZZ_OBJ)/common/config_lex.o: common/parse.h

# The table the top-level Makefile writes (common/syscall_names.h).
$(FUZZ_OBJ)/common/sandbox_trap.o: common/syscall_names.h

define fuzz_lib_rule
$(FUZZ_OBJ)/lib$(1).a: $$(patsubst %.c,$(FUZZ_OBJ)/%.o, \
    $$(filter $(1)/%,$(FUZZ_LIB_SRCS)))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(FUZZ_LIB_DIRS),$(eval $(call fuzz_lib_rule,$(d))))

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/fuzz.h $(FUZZ_LIBS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS) \
	    $(PKG_LIBS) -pthread

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_SECS=$(FUZZ_SECS) sh $(FUZZ_DIR)/run.sh long $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	FUZZ_SMOKE_RUNS=$(FUZZ_SMOKE_RUNS) sh $(FUZZ_DIR)/run.sh smoke \
	    $(FUZZ_NAMES)

# "make clean" takes the fuzz build too.
clean: fuzz-clean

fuzz-clean:
	rm -rf $(FUZZ_OBJ) $(FUZZ_BINS) $(FUZZ_DIR)/crashes

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
