# What the project's Makefiles that build programs against the library in
# this tree share: where the library and header are, how the programs find
# the library's soname at run time, and the valgrind leak rule. An includer
# sets TOP (the repository root, relative to it) first:
#
#   TOP := ../..
#   include $(TOP)/mk/libchatbotkit.mk
#
# and may set, before or on the command line: LIBDIR (the built library,
# default $(TOP)/target/release), INCDIR, BUILDDIR, STANDIN.

LIBDIR   ?= $(TOP)/target/release
INCDIR   ?= $(TOP)/include
BUILDDIR ?= build
# Runs a command against a loopback stand-in of the API (exports
# CHATBOTKIT_API_BASE_URL and CHATBOTKIT_API_SECRET).
STANDIN  ?= $(TOP)/scripts/with-standin.sh

LIBDIR_ABS := $(abspath $(LIBDIR))
CBK_LIB    := $(LIBDIR)/libchatbotkit.so
# Cargo writes only libchatbotkit.so, while programs look for its soname,
# libchatbotkit.so.<major version>, at run time: the link that
# cbk_soname_link makes in SONAME_DIR, the second rpath entry, stands in
# when LIBDIR has none.
SONAME_DIR  := $(abspath $(BUILDDIR))/lib
CBK_LDFLAGS := -L$(LIBDIR_ABS) -Wl,-rpath,$(LIBDIR_ABS) -Wl,-rpath,$(SONAME_DIR)
CBK_SONAME  := libchatbotkit.so.$(shell sed -n 's/^version = "\([0-9]*\)\..*/\1/p' $(TOP)/Cargo.toml | head -n1)
define cbk_soname_link
@mkdir -p $(SONAME_DIR) && ln -sfn $(LIBDIR_ABS)/libchatbotkit.so $(SONAME_DIR)/$(CBK_SONAME)
endef

# Definite and indirect leaks fail a run. The library's process-wide state
# (its threads, event loops and connection-pool table) lives until exit and
# shows up only as "possibly lost" or "still reachable", which do not count.
VALGRIND := valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect --error-exitcode=1

# A rule of this file must not become the includer's default goal.
cbk_default_goal := $(.DEFAULT_GOAL)
$(CBK_LIB):
	@echo "error: $@ not found: run \`make build\` at the top of the repository, or set LIBDIR" >&2
	@exit 1
.DEFAULT_GOAL := $(cbk_default_goal)
