# spot-gateway: the verbs. `make run` and `make test` set up whatever is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := build
ROOT := $(abspath .)
NODE_BIN := $(ROOT)/node_modules/.bin

# Debian packages the build and the tests use (installed with apt-get when root).
APT_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-arm-linux-gnueabihf \
  qemu-system-arm qemu-user mosquitto protobuf-compiler nanopb socat libcmocka-dev \
  dpkg-dev gcc make systemd chromium cppcheck lcov lintian curl help2man \
  debootstrap systemd-container
# Needed just to build and run the gateway (make run): protoc for the schema, and a
# compiler for better-sqlite3 when npm builds it from source.
APT_RUN_PACKAGES := protobuf-compiler python3 make g++

.PHONY: setup setup-run apt-test apt-run npm-deps schema build run test test-ts test-c test-packaging clean \
  typecheck-tests lint lint-c

# --- set-up -----------------------------------------------------------------
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "apt-get install:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing)"; exit 1; fi; \
	fi
endef

apt-test:
	$(call apt_install,$(APT_PACKAGES))
apt-run:
	$(call apt_install,$(APT_RUN_PACKAGES))

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@
npm-deps: node_modules/.installed

setup-run: apt-run npm-deps
setup: apt-test npm-deps

# --- schema: generated code, never committed ---------------------------------
GEN_TS := gateway/src/gen
$(GEN_TS)/spot_pb.ts: shared-schema/spot.proto node_modules/.installed
	@mkdir -p $(GEN_TS)
	protoc --plugin=protoc-gen-es=$(NODE_BIN)/protoc-gen-es --es_out=$(GEN_TS) \
	  --es_opt=target=ts,import_extension=js -Ishared-schema shared-schema/spot.proto
$(GEN_TS)/spot-config.ts: shared-schema/spot-config.json shared-schema/tools/gen-config-ts.mjs
	@mkdir -p $(GEN_TS)
	node shared-schema/tools/gen-config-ts.mjs shared-schema/spot-config.json $@

schema-ts: $(GEN_TS)/spot_pb.ts $(GEN_TS)/spot-config.ts
schema: schema-ts schema-c

# --- build ------------------------------------------------------------------
build-ts: schema-ts
	$(NODE_BIN)/tsc -p tsconfig.json

build: setup-run build-ts

run: setup-run build-ts
	node gateway/bin/spot-gateway.js run

# --- test -------------------------------------------------------------------
# The ava suite under c8 (.c8rc.json): V8 coverage of gateway/src, the gateway children included
# (mapped back from gateway/dist), a line/branch summary after ava's, and a floor: the figures
# measured on the whole suite minus about 2 points (docs/development.md).
COVERAGE_LINES := 96
COVERAGE_BRANCHES := 93
test-ts: build-ts
	$(NODE_BIN)/c8 --check-coverage --lines $(COVERAGE_LINES) --branches $(COVERAGE_BRANCHES) $(NODE_BIN)/ava

# The tests and bench tools, type-checked as strictly as the gateway (tsconfig.test.json).
typecheck-tests: schema-ts
	$(NODE_BIN)/tsc -p tsconfig.test.json
	@echo "typecheck-tests: ok"

# ESLint with typescript-eslint's type-aware rules (eslint.config.js): no warning is tolerated.
lint: schema-ts
	$(NODE_BIN)/eslint --max-warnings 0 .
	@echo "lint: eslint: 0 problems"

# cppcheck over the firmware (its compilers already run with -Wall -Wextra -Werror). Each suppression
# in firmware/cppcheck-suppressions.txt says why the finding is not a defect.
lint-c: apt-test schema-c
	cppcheck --std=c11 --enable=warning,style,performance,portability --error-exitcode=1 --inline-suppr --quiet \
	  -Ifirmware/core -Ifirmware/bootloader -Ifirmware/smp -Ifirmware/gen -Ifirmware/test -Ifirmware/platform/posix -I$(NANOPB_SRC) \
	  -DSPOT_FIRMWARE_VERSION='"cppcheck"' --suppress=missingIncludeSystem \
	  --suppressions-list=firmware/cppcheck-suppressions.txt firmware/core firmware/bootloader firmware/smp firmware/platform firmware/targets firmware/test
	@echo "lint-c: cppcheck: 0 findings"

# The systemd unit: systemd-analyze (Debian package systemd) checks it without a running systemd.
# verify exits 0 on warnings (an unknown key, say): any output at all fails the check. The
# security exposure must stay under 3.0 ("OK"; docs/operations.md has the figure).
UNIT := packaging/spot-gateway.service
test-packaging:
	@if ! command -v systemd-analyze >/dev/null; then \
	  echo "test-packaging: SKIPPED: systemd-analyze not found (Debian package systemd), $(UNIT) not verified"; \
	else \
	  out=$$(systemd-analyze verify $(UNIT) 2>&1); rc=$$?; \
	  if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "test-packaging: systemd-analyze verify $(UNIT): FAILED (it also checks that /usr/bin/node, which the unit runs, exists: Node from Debian or NodeSource packages is there)"; exit 1; fi; \
	  echo "test-packaging: systemd-analyze verify $(UNIT): ok"; \
	  set -o pipefail; systemd-analyze security --offline=true --threshold=30 $(UNIT) | tail -n 1 || exit 1; \
	fi

test: setup build-ts typecheck-tests lint lint-c firmware test-c boot-qemu-check bench-tools test-packaging test-deb test-systemd test-ts

clean:
	rm -rf gateway/dist $(GEN_TS) firmware/build firmware/gen build

# The firmware's toolchains and generators come from Debian packages.
schema-c firmware: apt-test

-include firmware/firmware.mk firmware/test/test.mk shared-schema/vectors/vectors.mk test/bench/bench.mk \
  packaging/deb/deb.mk
