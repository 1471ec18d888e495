# libchatbotkit — the documented way to build, demo and test.
#
#   make demo    build everything, mint sessions through the C examples
#                (against the loopback stand-in, or the real API when
#                CHATBOTKIT_API_SECRET is set)
#   make test    every test: Rust, C under valgrind, Python, SDK parity

CARGO   ?= cargo
PYTHON  ?= python3
LIBDIR  := $(CURDIR)/target/release
export CHATBOTKIT_LIB := $(LIBDIR)/libchatbotkit.so

.PHONY: all build examples demo test deps lint test-rust test-c test-python test-parity header-check clean

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

# Installs only what is missing: valgrind (Debian), pytest (PyPI).
deps:
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	@$(PYTHON) -m pytest --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q pytest

test: deps lint build header-check test-rust test-c test-python test-parity
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

test-python: build
	scripts/with-standin.sh $(PYTHON) -m pytest -q tests/python

test-parity: build
	tests/parity/run.sh

clean:
	$(CARGO) clean
	$(MAKE) -C examples-c clean
	$(MAKE) -C tests/c clean
