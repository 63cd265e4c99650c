# Firmware unit tests (cmocka) on the host, with ASan + UBSan. `make test-c` builds and runs them all,
# then prints the line and branch coverage of firmware/core and of firmware/smp (gcov, summed by lcov; no floor).
# Included by the top-level Makefile after firmware/firmware.mk (NANOPB_SRC, NANOPB_RUNTIME); schema-c
# generates firmware/gen and fetches the nanopb runtime first.
.PHONY: test-c fw-test-run

# The config generator also writes the JSON names of spot.proto's fields (spot_json_gen.c).
firmware/gen/.config-c.stamp: shared-schema/spot.proto

FW_TEST_BUILD := firmware/build/test
FW_TEST_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined \
  -fno-omit-frame-pointer -fno-sanitize-recover=all \
  -Ifirmware/core -Ifirmware/bootloader -Ifirmware/smp -Ifirmware/gen -I$(NANOPB_SRC) -DSPOT_FIRMWARE_VERSION='"test"' \
  -DSPOT_MPS2_EVENT_BYTES=$(FW_MPS2_EVENT_BYTES) $(MBEDTLS_FLAGS) $(SODIUM_FLAGS) --coverage
# The nanopb runtime is not ours: built without -Werror.
FW_TEST_NANOPB_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -I$(NANOPB_SRC)
# mbedTLS is not ours either.
FW_TEST_MBEDTLS_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
  $(MBEDTLS_FLAGS) -I$(MBEDTLS_SRC)/library -Ifirmware/bootloader
# --gc-sections: libsodium's utils.c and core.c refer to parts of it not built here.
FW_TEST_LIBS := -lcmocka -Wl,--gc-sections

# Evaluated in the second make (fw-test-run), once schema-c has generated firmware/gen.
FW_TEST_CORE_OBJ = $(patsubst firmware/core/%.c,$(FW_TEST_BUILD)/core/%.o,$(wildcard firmware/core/*.c)) \
  $(patsubst firmware/gen/%.c,$(FW_TEST_BUILD)/gen/%.o,$(wildcard firmware/gen/*.c)) \
  $(patsubst firmware/bootloader/%.c,$(FW_TEST_BUILD)/bootloader/%.o,$(wildcard firmware/bootloader/*.c)) \
  $(patsubst firmware/smp/%.c,$(FW_TEST_BUILD)/smp/%.o,$(wildcard firmware/smp/*.c))
FW_TEST_NANOPB_OBJ = $(patsubst $(NANOPB_SRC)/%.c,$(FW_TEST_BUILD)/nanopb/%.o,\
  $(wildcard $(NANOPB_RUNTIME))) \
  $(patsubst $(MBEDTLS_SRC)/library/%.c,$(FW_TEST_BUILD)/mbedtls/%.o,$(wildcard $(MBEDTLS_RUNTIME))) \
  $(patsubst $(SODIUM_LIB)/%.c,$(FW_TEST_BUILD)/sodium/%.o,$(wildcard $(SODIUM_RUNTIME)))
FW_TEST_BINS = $(patsubst firmware/test/%.c,$(FW_TEST_BUILD)/%,$(wildcard firmware/test/test_*.c))
FW_TEST_HEADERS = $(wildcard firmware/core/*.h firmware/bootloader/*.h firmware/smp/*.h firmware/gen/*.h firmware/test/*.h)

$(FW_TEST_BUILD)/core/%.o: firmware/core/%.c $(FW_TEST_HEADERS)
	@mkdir -p $(@D)
	@gcc $(FW_TEST_CFLAGS) -c -o $@ $<
$(FW_TEST_BUILD)/bootloader/%.o: firmware/bootloader/%.c $(FW_TEST_HEADERS)
	@mkdir -p $(@D)
	@gcc $(FW_TEST_CFLAGS) -c -o $@ $<
$(FW_TEST_BUILD)/smp/%.o: firmware/smp/%.c $(FW_TEST_HEADERS)
	@mkdir -p $(@D)
	@gcc $(FW_TEST_CFLAGS) -c -o $@ $<
$(FW_TEST_BUILD)/gen/%.o: firmware/gen/%.c $(FW_TEST_HEADERS)
	@mkdir -p $(@D)
	@gcc $(FW_TEST_CFLAGS) -c -o $@ $<
$(FW_TEST_BUILD)/nanopb/%.o: $(NANOPB_SRC)/%.c
	@mkdir -p $(@D)
	@gcc $(FW_TEST_NANOPB_CFLAGS) -c -o $@ $<
$(FW_TEST_BUILD)/mbedtls/%.o: $(MBEDTLS_SRC)/library/%.c firmware/bootloader/boot_mbedtls_config.h
	@mkdir -p $(@D)
	@gcc $(FW_TEST_MBEDTLS_CFLAGS) -c -o $@ $<
$(FW_TEST_BUILD)/sodium/%.o: $(SODIUM_LIB)/%.c
	@mkdir -p $(@D)
	@gcc -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -ffunction-sections $(SODIUM_BUILD_FLAGS) -w -c -o $@ $<
$(FW_TEST_BUILD)/libspotcore.a: $(FW_TEST_CORE_OBJ) $(FW_TEST_NANOPB_OBJ)
	@rm -f $@
	@ar rcs $@ $^
# The number code of bare-metal builds (no snprintf/strtod), compiled as mps2 compiles it.
$(FW_TEST_BUILD)/freestanding/%.o: firmware/core/%.c $(FW_TEST_HEADERS)
	@mkdir -p $(@D)
	@gcc $(FW_TEST_CFLAGS) -ffreestanding -c -o $@ $<
$(FW_TEST_BUILD)/test_freestanding_numbers: firmware/test/test_freestanding_numbers.c \
  $(FW_TEST_BUILD)/freestanding/json_out.o $(FW_TEST_BUILD)/freestanding/json_scan.o $(FW_TEST_BUILD)/libspotcore.a
	@gcc $(FW_TEST_CFLAGS) -Ifirmware/test -o $@ $< $(FW_TEST_BUILD)/freestanding/json_out.o \
	  $(FW_TEST_BUILD)/freestanding/json_scan.o $(FW_TEST_BUILD)/libspotcore.a $(FW_TEST_LIBS)
# The Linux targets' address parsing (platform/posix/net.c): string work, tested on the host.
$(FW_TEST_BUILD)/test_net_address: firmware/test/test_net_address.c firmware/platform/posix/net.c firmware/platform/posix/net.h
	@gcc $(FW_TEST_CFLAGS) -Ifirmware/test -Ifirmware/platform/posix -o $@ $< firmware/platform/posix/net.c $(FW_TEST_LIBS)
$(FW_TEST_BUILD)/test_%: firmware/test/test_%.c $(FW_TEST_BUILD)/libspotcore.a $(FW_TEST_HEADERS)
	@gcc $(FW_TEST_CFLAGS) -Ifirmware/test -o $@ $< $(FW_TEST_BUILD)/libspotcore.a $(FW_TEST_LIBS)

fw-test-run: $(FW_TEST_BINS)
	@find $(FW_TEST_BUILD) -name '*.gcda' -delete
	@failed=""; \
	for t in $(FW_TEST_BINS); do \
	  echo "== $$t"; \
	  SPOT_VECTORS_DIR=shared-schema/vectors ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $$t || failed="$$failed $$(basename $$t)"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-c: FAILED:$$failed"; exit 1; fi; \
	echo "test-c: $(words $(FW_TEST_BINS)) test programs passed"
	@lcov --quiet --capture --rc lcov_branch_coverage=1 --directory $(FW_TEST_BUILD)/core --base-directory . \
	  --output-file $(FW_TEST_BUILD)/coverage.info 2>/dev/null
	@lcov --summary --rc lcov_branch_coverage=1 $(FW_TEST_BUILD)/coverage.info 2>&1 | \
	  awk '/lines|branches/ {sub(/^ */, ""); print "test-c coverage (firmware/core): " $$0}'
	@lcov --quiet --capture --rc lcov_branch_coverage=1 --directory $(FW_TEST_BUILD)/smp --base-directory . \
	  --output-file $(FW_TEST_BUILD)/coverage-smp.info 2>/dev/null
	@lcov --summary --rc lcov_branch_coverage=1 $(FW_TEST_BUILD)/coverage-smp.info 2>&1 | \
	  awk '/lines|branches/ {sub(/^ */, ""); print "test-c coverage (firmware/smp): " $$0}'

test-c: apt-test schema-c mbedtls-runtime sodium-runtime
	@$(MAKE) --no-print-directory fw-test-run
