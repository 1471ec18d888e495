# libchatbotkit — the documented way to build, demo and test.
#
#   make demo    build everything, mint sessions through the C examples
#                (against the loopback stand-in, or the real API when
#                CHATBOTKIT_API_SECRET is set)
#   make test    every test: Rust, C under valgrind, Python, SDK parity

CARGO   ?= cargo
empty :=
space := $(empty) $(empty)
PYTHON  ?= python3
LIBDIR  := $(CURDIR)/target/release
export CHATBOTKIT_LIB := $(LIBDIR)/libchatbotkit.so
# Every suite appends the library's error messages and log lines here;
# check-secrets scans it for every test secret at the end of `make test`.
export CHATBOTKIT_TEST_AUDIT := $(CURDIR)/target/secret-audit.log
# The library honours the environment's proxies, as libcurl does; the tests
# talk only to 127.0.0.1, which no proxy of the machine's should see.
comma := ,
export NO_PROXY := $(if $(NO_PROXY),$(NO_PROXY)$(comma))127.0.0.1,localhost,::1
export no_proxy := $(NO_PROXY)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
VERSION_MINOR := $(word 2,$(subst ., ,$(VERSION)))

# Installation (make install PREFIX=... DESTDIR=...)
PREFIX     ?= /usr/local
DESTDIR    ?=
INST_LIB   := $(PREFIX)/lib
INST_INC   := $(PREFIX)/include
# What a static link of libchatbotkit.a needs besides libc
# (`cargo rustc -- --print native-static-libs`).
STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl

.PHONY: test-badinput fuzz-smoke all bench build examples demo install test-install test test-cpp test-faults audit-reset check-secrets deps lint test-rust test-c test-python test-parity header-check clean

all: build examples

# Cargo names the file libchatbotkit.so; programs linked against it look
# for its soname, libchatbotkit.so.0, at run time.
build:
	$(CARGO) build --release
	ln -sf libchatbotkit.so $(LIBDIR)/libchatbotkit.so.0

examples: build
	$(MAKE) -C examples-c LIBDIR=$(LIBDIR)

demo: examples
	scripts/demo.sh

install: build
	install -d $(DESTDIR)$(INST_LIB)/pkgconfig $(DESTDIR)$(INST_LIB)/cmake/chatbotkit $(DESTDIR)$(INST_INC)
	install -m 755 $(LIBDIR)/libchatbotkit.so $(DESTDIR)$(INST_LIB)/libchatbotkit.so.$(VERSION)
	ln -sf libchatbotkit.so.$(VERSION) $(DESTDIR)$(INST_LIB)/libchatbotkit.so.$(VERSION_MAJOR)
	ln -sf libchatbotkit.so.$(VERSION_MAJOR) $(DESTDIR)$(INST_LIB)/libchatbotkit.so
	install -m 644 $(LIBDIR)/libchatbotkit.a $(DESTDIR)$(INST_LIB)/libchatbotkit.a
	install -m 644 include/chatbotkit.h $(DESTDIR)$(INST_INC)/
	if [ -f include/chatbotkit.hpp ]; then install -m 644 include/chatbotkit.hpp $(DESTDIR)$(INST_INC)/; fi
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(INST_LIB)|; s|@INCLUDEDIR@|$(INST_INC)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@STATIC_LIBS@|$(STATIC_LIBS)|' \
	    packaging/chatbotkit.pc.in > $(DESTDIR)$(INST_LIB)/pkgconfig/chatbotkit.pc
	sed -e 's|@VERSION@|$(VERSION)|g; s|@CMAKE_STATIC_LIBS@|$(subst $(space),;,$(patsubst -l%,%,$(STATIC_LIBS)))|' \
	    packaging/chatbotkitConfig.cmake.in > $(DESTDIR)$(INST_LIB)/cmake/chatbotkit/chatbotkitConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g; s|@VERSION_MAJOR@|$(VERSION_MAJOR)|g; s|@VERSION_MINOR@|$(VERSION_MINOR)|g' \
	    packaging/chatbotkitConfigVersion.cmake.in > $(DESTDIR)$(INST_LIB)/cmake/chatbotkit/chatbotkitConfigVersion.cmake

# Install into a temporary prefix and build the examples from it three ways
# (pkg-config, CMake, static), each run against the stand-in.
test-install: build
	scripts/test-install.sh

# Installs only what is missing: valgrind, cmake, pkg-config (Debian), pytest (PyPI).
deps:
	@for tool in valgrind cmake pkg-config; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi
	@$(PYTHON) -m pytest --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q pytest

test: deps audit-reset lint build header-check test-rust test-c test-badinput test-faults test-cpp test-python test-parity test-install check-secrets
	@echo "make test: all suites passed"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# The build regenerates include/chatbotkit.h; it must equal the committed one.
header-check: build
	@git diff --exit-code -- include/chatbotkit.h || { echo "include/chatbotkit.h is stale: commit the regenerated header"; exit 1; }
	@bad=$$(nm -D --defined-only $(CHATBOTKIT_LIB) | awk '{print $$3}' | grep -v '^cbk_' || true); \
	  if [ -n "$$bad" ]; then echo "non-cbk_ symbols exported: $$bad"; exit 1; fi; \
	  echo "header up to date; only cbk_ symbols exported"

test-rust:
	$(CARGO) test --features test-panic

test-c: build
	$(MAKE) -C tests/c check LIBDIR=$(LIBDIR)
	$(MAKE) -C tests/c/async check LIBDIR=$(LIBDIR)

# Benchmarks (not part of `make test`): libchatbotkit against libcurl on a
# loopback nginx, side by side, and 10,000 async tasks in flight.
bench: build
	$(MAKE) -C bench/perf run LIBDIR=$(LIBDIR)

audit-reset:
	@mkdir -p target && rm -f $(CHATBOTKIT_TEST_AUDIT)

check-secrets:
	scripts/check-secrets.sh $(CHATBOTKIT_TEST_AUDIT)

test-badinput: build
	$(MAKE) -C tests/badinput check LIBDIR=$(LIBDIR)

# Short coverage-guided fuzzing of the options, URL and query code (CI runs it).
fuzz-smoke:
	@cargo fuzz --version >/dev/null 2>&1 || $(CARGO) install -q --locked cargo-fuzz
	FUZZ_SECONDS=$${FUZZ_SECONDS:-10} fuzz/smoke.sh

test-faults: build
	$(MAKE) -C tests/faults check LIBDIR=$(LIBDIR)

test-cpp: build
	$(MAKE) -C tests/cpp check LIBDIR=$(LIBDIR)

test-python: build
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/python bindings/python/tests

test-parity: build
	tests/parity/run.sh

clean:
	$(CARGO) clean
	$(MAKE) -C examples-c clean
	$(MAKE) -C tests/c clean
