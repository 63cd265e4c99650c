# Spot firmware: generated C schema, nanopb runtime, the three targets and their size.
# Included by the top-level Makefile. Nothing fetched or generated here is committed.
.PHONY: schema-c nanopb-runtime mbedtls-runtime sodium-runtime firmware firmware-host firmware-arm-linux firmware-mps2 firmware-mps2-boot firmware-size boot-qemu-check

FW_GEN := firmware/gen
FW_BUILD := firmware/build
# The fetched nanopb source lives with the other build outputs (make clean removes it).
NANOPB_DIR := $(FW_BUILD)/nanopb
NANOPB_SRC := $(NANOPB_DIR)/src
NANOPB_RUNTIME := $(NANOPB_SRC)/pb_encode.c $(NANOPB_SRC)/pb_decode.c $(NANOPB_SRC)/pb_common.c
NANOPB_GENERATOR := nanopb_generator.py
APT_SRC_LIST := /etc/apt/sources.list.d/spot-gateway-src.sources

# --- nanopb C runtime: Debian's nanopb source package, fetched once ----------
# The runtime must match the generator (Debian binary package nanopb), so the
# source of the installed version is asked for first.
$(NANOPB_SRC)/pb_encode.c:
	@set -e; \
	if ! apt-cache showsrc nanopb 2>/dev/null | grep -q '^Package: nanopb'; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "nanopb runtime: no deb-src entry for nanopb; as root run make again, or add a deb-src line for your Debian mirror and apt-get update"; exit 1; \
	  fi; \
	  if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
	    sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > $(APT_SRC_LIST); \
	  elif grep -q '^deb ' /etc/apt/sources.list 2>/dev/null; then \
	    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > $(APT_SRC_LIST:.sources=.list); \
	  else echo "nanopb runtime: cannot find the Debian mirror in /etc/apt/sources.list(.d)"; exit 1; fi; \
	  echo "nanopb runtime: added deb-src entries, apt-get update"; apt-get update -qq; \
	fi; \
	command -v dpkg-source >/dev/null || { echo "nanopb runtime: dpkg-source missing (apt-get install dpkg-dev)"; exit 1; }; \
	rm -rf $(NANOPB_DIR); mkdir -p $(NANOPB_DIR); \
	version=$$(dpkg-query -W -f='$${Version}' nanopb 2>/dev/null || true); \
	( cd $(NANOPB_DIR) && { apt-get source -qq "nanopb=$$version" 2>/dev/null || apt-get source -qq nanopb; } ) >/dev/null; \
	mv $(NANOPB_DIR)/nanopb-[0-9]*/ $(NANOPB_SRC); \
	test -f $@ && echo "nanopb runtime: $$(ls $(NANOPB_DIR)/*.dsc | xargs -n1 basename) unpacked in $(NANOPB_SRC)"

nanopb-runtime: $(NANOPB_SRC)/pb_encode.c

# --- mbedTLS (SHA-256 for the bootloader's image check): Debian's source package ----
# Fetched like the nanopb runtime (whose rule sets up the deb-src entry); only
# sha256.c, sha512.c and platform_util.c are built, with firmware/bootloader/boot_mbedtls_config.h.
MBEDTLS_DIR := $(FW_BUILD)/mbedtls
MBEDTLS_SRC := $(MBEDTLS_DIR)/src
MBEDTLS_RUNTIME := $(MBEDTLS_SRC)/library/sha256.c $(MBEDTLS_SRC)/library/sha512.c $(MBEDTLS_SRC)/library/platform_util.c
MBEDTLS_FLAGS := -I$(MBEDTLS_SRC)/include -DMBEDTLS_CONFIG_FILE='"boot_mbedtls_config.h"'
$(MBEDTLS_SRC)/library/sha256.c: | $(NANOPB_SRC)/pb_encode.c
	@set -e; rm -rf $(MBEDTLS_DIR); mkdir -p $(MBEDTLS_DIR); \
	( cd $(MBEDTLS_DIR) && apt-get source -qq mbedtls ) >/dev/null 2>&1 || { echo "mbedtls: apt-get source mbedtls failed (needs a deb-src entry, see nanopb above)"; exit 1; }; \
	mv $(MBEDTLS_DIR)/mbedtls-[0-9]*/ $(MBEDTLS_SRC); \
	test -f $@ && echo "mbedtls: $$(ls $(MBEDTLS_DIR)/*.dsc | xargs -n1 basename) unpacked in $(MBEDTLS_SRC)"

mbedtls-runtime: $(MBEDTLS_SRC)/library/sha256.c

# The Linux targets' TLS mode (docs/tls.md): the same source package, its whole library with
# mbedTLS's default configuration (include/mbedtls/config.h), one archive per target; the
# linker takes only what the TLS client uses. Not ours: no -Werror.
MBEDTLS_LIB_FLAGS := -std=c99 -O2 -I$(MBEDTLS_SRC)/include
$(FW_BUILD)/%/mbedtls/libmbedtls.a: | $(MBEDTLS_SRC)/library/sha256.c
	@set -e; rm -rf $(@D); mkdir -p $(@D); \
	cc=$(if $(filter arm-linux,$*),arm-linux-gnueabihf-gcc,gcc); \
	for src in $(MBEDTLS_SRC)/library/*.c; do \
	  $$cc $(MBEDTLS_LIB_FLAGS) -c -o $(@D)/$$(basename $$src .c).o $$src; \
	done; \
	ar rcs $@ $(@D)/*.o; \
	echo "mbedtls: $@ ($$(ls $(@D)/*.o | wc -l) objects, $$cc)"

# --- libsodium (Ed25519 verify for the bootloader): Debian's source package ---------
# Only what crypto_sign_ed25519_verify_detached needs (and sign.c, which holds the
# hash init verify shares; --gc-sections drops the signing code from the bootloader),
# but not its SHA-512: firmware/bootloader/boot_sha512.c gives it mbedTLS's small one.
SODIUM_DIR := $(FW_BUILD)/libsodium
SODIUM_LIB := $(SODIUM_DIR)/src/src/libsodium
SODIUM_RUNTIME := $(addprefix $(SODIUM_LIB)/,crypto_sign/ed25519/ref10/open.c crypto_sign/ed25519/ref10/sign.c \
  crypto_core/ed25519/ref10/ed25519_ref10.c \
  crypto_verify/sodium/verify.c sodium/utils.c sodium/core.c)
SODIUM_FLAGS := -I$(SODIUM_LIB)/include/sodium
# What libsodium's configure would say for these files: little endian, nothing else.
SODIUM_BUILD_FLAGS := $(SODIUM_FLAGS) -I$(SODIUM_LIB)/include/sodium/private -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1
$(SODIUM_LIB)/sodium/core.c: | $(NANOPB_SRC)/pb_encode.c
	@set -e; rm -rf $(SODIUM_DIR); mkdir -p $(SODIUM_DIR); \
	( cd $(SODIUM_DIR) && apt-get source -qq libsodium ) >/dev/null 2>&1 || { echo "libsodium: apt-get source libsodium failed (needs a deb-src entry, see nanopb above)"; exit 1; }; \
	mv $(SODIUM_DIR)/libsodium-[0-9]*/ $(SODIUM_DIR)/src; \
	test -f $@ && echo "libsodium: $$(ls $(SODIUM_DIR)/*.dsc | xargs -n1 basename) unpacked in $(SODIUM_DIR)/src"

sodium-runtime: $(SODIUM_LIB)/sodium/core.c

# --- generated C: nanopb messages + config table -----------------------------
$(FW_GEN)/spot.pb.c $(FW_GEN)/spot.pb.h &: shared-schema/spot.proto shared-schema/spot.options
	@mkdir -p $(FW_GEN)
	$(NANOPB_GENERATOR) -q -I shared-schema -D $(FW_GEN) -f shared-schema/spot.options shared-schema/spot.proto

GEN_CONFIG_C := shared-schema/tools/gen-config-c.mjs
$(FW_GEN)/.config-c.stamp: shared-schema/spot-config.json $(GEN_CONFIG_C)
	@mkdir -p $(FW_GEN)
	node $(GEN_CONFIG_C) shared-schema/spot-config.json $(FW_GEN)
	@touch $@

schema-c: nanopb-runtime $(FW_GEN)/spot.pb.c $(FW_GEN)/.config-c.stamp

# --- the three targets -------------------------------------------------------
SPOT_FIRMWARE_VERSION := 1.0.0
FW_CORE_SRC = $(wildcard firmware/core/*.c)
# Generated sources are listed by the shell when the recipe runs (they may not exist at parse time).
FW_GEN_SRC = $$(ls $(FW_GEN)/*.c)
FW_GEN_STAMPS := $(FW_GEN)/spot.pb.c $(FW_GEN)/.config-c.stamp
FW_PORTABLE_SRC = $(FW_CORE_SRC) $(NANOPB_RUNTIME)
FW_HEADERS = $(wildcard firmware/core/*.h firmware/bootloader/*.h firmware/smp/*.h firmware/platform/*/*.h firmware/targets/*/*.h)
FW_LINUX_SRC = $(FW_PORTABLE_SRC) $(wildcard firmware/platform/posix/*.c firmware/targets/linux/*.c)
# The app under the bootloader also answers SMP (firmware/smp) and writes the MCUboot
# trailer with the bootloader's own code (its image, trailer and swap files; --gc-sections
# keeps what the app calls).
FW_MPS2_BOOT_SRC := $(addprefix firmware/bootloader/,boot.c boot_image.c boot_self_confirm.c boot_swap.c boot_trailer.c)
FW_MPS2_SRC = $(FW_PORTABLE_SRC) $(wildcard firmware/smp/*.c firmware/platform/mps2/*.c firmware/targets/mps2/*.c) $(FW_MPS2_BOOT_SRC)

FW_WARN := -std=c11 -Wall -Wextra -Werror
FW_INC := -Ifirmware/core -I$(FW_GEN) -I$(NANOPB_SRC)
FW_DEFS := -DSPOT_FIRMWARE_VERSION='"$(SPOT_FIRMWARE_VERSION)"'
FW_LINUX_FLAGS := $(FW_WARN) $(FW_INC) $(FW_DEFS) -Ifirmware/platform/posix -Ifirmware/targets/linux -I$(MBEDTLS_SRC)/include -O2 -g
# The Cortex-M3 has 16 KiB of RAM for everything: smaller core tables. An event must hold
# the longest config create as JSON (1632 bytes; firmware/test/test_event.c checks it).
FW_MPS2_EVENT_BYTES := 1664
FW_MPS2_LIMITS := -DSPOT_MAX_ITEMS=16 -DSPOT_RING_EVENTS=4 -DSPOT_SIM_TAGS=8 -DSPOT_ITEM_TABLE=16 \
  -DSPOT_EVENT_BYTES=$(FW_MPS2_EVENT_BYTES) -DSPOT_COMMAND_BYTES=768 -DSPOT_MAX_WINDOW=8
FW_MPS2_FLAGS := $(FW_WARN) $(FW_INC) $(FW_DEFS) $(FW_MPS2_LIMITS) -DSPOT_HTTP_POST=0 -Ifirmware/platform/mps2 \
  -Ifirmware/bootloader -Ifirmware/smp -Ifirmware/targets/mps2 $(MBEDTLS_FLAGS) \
  -mcpu=cortex-m3 -mthumb -Os -g -ffunction-sections -fdata-sections -ffreestanding
# SHA-256 for the upload's "match" (mbedTLS, as in the bootloader; not ours: no -Werror).
FW_MPS2_MBEDTLS_OBJ = $(patsubst $(MBEDTLS_SRC)/library/%.c,$(FW_BUILD)/mps2/mbedtls/%.o,$(MBEDTLS_RUNTIME))
$(FW_BUILD)/mps2/mbedtls/%.o: $(MBEDTLS_SRC)/library/%.c firmware/bootloader/boot_mbedtls_config.h
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(filter-out -Werror,$(FW_MPS2_FLAGS)) -I$(MBEDTLS_SRC)/library -c -o $@ $<
# No syscall stubs (no nosys.specs): anything that needs malloc/_sbrk fails to link.
FW_MPS2_LDFLAGS := -nostartfiles --specs=nano.specs -T firmware/platform/mps2/mps2.ld \
  -Wl,--gc-sections -Wl,-Map=$(FW_BUILD)/mps2/spot.map -lgcc

$(FW_BUILD)/host/spot: $(FW_GEN_STAMPS) $(NANOPB_SRC)/pb_encode.c $(FW_LINUX_SRC) $(FW_HEADERS) $(FW_BUILD)/host/mbedtls/libmbedtls.a
	@mkdir -p $(@D)
	gcc $(FW_LINUX_FLAGS) -o $@ $(FW_LINUX_SRC) $(FW_GEN_SRC) $(FW_BUILD)/host/mbedtls/libmbedtls.a

$(FW_BUILD)/arm-linux/spot: $(FW_GEN_STAMPS) $(NANOPB_SRC)/pb_encode.c $(FW_LINUX_SRC) $(FW_HEADERS) $(FW_BUILD)/arm-linux/mbedtls/libmbedtls.a
	@mkdir -p $(@D)
	arm-linux-gnueabihf-gcc $(FW_LINUX_FLAGS) -static -o $@ $(FW_LINUX_SRC) $(FW_GEN_SRC) $(FW_BUILD)/arm-linux/mbedtls/libmbedtls.a

$(FW_BUILD)/mps2/spot.elf: $(FW_GEN_STAMPS) $(NANOPB_SRC)/pb_encode.c $(FW_MPS2_SRC) $(FW_HEADERS) firmware/platform/mps2/mps2.ld $(FW_MPS2_MBEDTLS_OBJ)
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(FW_MPS2_FLAGS) $(FW_MPS2_LDFLAGS) -o $@ $(FW_MPS2_SRC) $(FW_GEN_SRC) $(FW_MPS2_MBEDTLS_OBJ)


# The bootloader (docs/bootloader.md): the upgrade core, SHA-256 from mbedTLS, Ed25519
# from libsodium, the mps2 flash (host file) and startup; 32 KiB of flash and 8 KiB of
# RAM, stack included. Images must be signed with BOOT_KEY (a public or private Ed25519
# PEM key); without one a development key is made in firmware/build/keys/ (make clean
# removes it: images signed with it no longer boot after that).
BOOT_DEV_KEY := $(FW_BUILD)/keys/dev.pem
BOOT_KEY ?= $(BOOT_DEV_KEY)
FW_BOOT_SRC = $(wildcard firmware/bootloader/*.c firmware/targets/mps2-boot/*.c) \
  $(addprefix firmware/platform/mps2/,startup.c semihosting.c uart.c time.c flash.c boot_mode.c) \
  $(addprefix firmware/smp/,smp_server.c smp_request.c smp_os_group.c smp_image_group.c smp_image.c smp_serial.c \
  smp_cbor.c smp_demux.c smp_window.c)
# Serial recovery serves what MCUboot's does: no OS info, no image state write.
FW_BOOT_FLAGS := $(FW_WARN) -Ifirmware/bootloader -Ifirmware/platform/mps2 -Ifirmware/smp $(MBEDTLS_FLAGS) $(SODIUM_FLAGS) \
  -DSMP_WITH_OS_INFO=0 -DSMP_WITH_STATE_WRITE=0 \
  -mcpu=cortex-m3 -mthumb -Os -g -ffunction-sections -fdata-sections -ffreestanding
FW_BOOT_MBEDTLS_OBJ := $(patsubst $(MBEDTLS_SRC)/library/%.c,$(FW_BUILD)/mps2-boot/mbedtls/%.o,$(MBEDTLS_RUNTIME))
FW_BOOT_SODIUM_OBJ := $(patsubst $(SODIUM_LIB)/%.c,$(FW_BUILD)/mps2-boot/sodium/%.o,$(SODIUM_RUNTIME))
# mbedTLS and libsodium are not ours: no -Werror.
$(FW_BUILD)/mps2-boot/mbedtls/%.o: $(MBEDTLS_SRC)/library/%.c firmware/bootloader/boot_mbedtls_config.h
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(filter-out -Werror,$(FW_BOOT_FLAGS)) -I$(MBEDTLS_SRC)/library -c -o $@ $<
$(FW_BUILD)/mps2-boot/sodium/%.o: $(SODIUM_LIB)/%.c
	@mkdir -p $(@D)
	@arm-none-eabi-gcc $(filter-out -Werror -std=c11,$(FW_BOOT_FLAGS)) $(SODIUM_BUILD_FLAGS) -w -c -o $@ $<
$(BOOT_DEV_KEY):
	@mkdir -p $(@D)
	node -e "const c=require('crypto'),fs=require('fs');const k=c.generateKeyPairSync('ed25519');\
	fs.writeFileSync('$@',k.privateKey.export({type:'pkcs8',format:'pem'}),{mode:0o600});\
	fs.writeFileSync('$(@:.pem=.pub.pem)',k.publicKey.export({type:'spki',format:'pem'}))"
	@echo "bootloader: development key $@ (set BOOT_KEY for your own)"
# The key's 32 raw bytes: the end of its DER SubjectPublicKeyInfo.
$(FW_BUILD)/mps2-boot/boot_key.c: $(BOOT_KEY)
	@mkdir -p $(@D)
	@node -e "const c=require('crypto'),fs=require('fs');const t=fs.readFileSync('$<','utf8');\
	const k=t.includes('PRIVATE')?c.createPublicKey(c.createPrivateKey(t)):c.createPublicKey(t);\
	if(k.asymmetricKeyType!=='ed25519')throw new Error('$<: not an Ed25519 key');\
	const raw=[...k.export({type:'spki',format:'der'}).subarray(12)].map(b=>'0x'+b.toString(16).padStart(2,'0'));\
	fs.writeFileSync('$@','/* Generated from $< by make: the key images must be signed with. */\n#include <stdint.h>\n'+\
	'extern const uint8_t boot_ed25519_key[32];\nconst uint8_t boot_ed25519_key[32] = {'+raw.join(', ')+'};\n')"
$(FW_BUILD)/mps2-boot/boot.elf: $(FW_BOOT_MBEDTLS_OBJ) $(FW_BOOT_SODIUM_OBJ) $(FW_BUILD)/mps2-boot/boot_key.c $(FW_BOOT_SRC) $(FW_HEADERS) firmware/targets/mps2-boot/boot.ld
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(FW_BOOT_FLAGS) -nostartfiles --specs=nano.specs -T firmware/targets/mps2-boot/boot.ld \
	  -Wl,--gc-sections -Wl,-Map=$(FW_BUILD)/mps2-boot/boot.map -o $@ $(FW_BOOT_SRC) $(FW_BUILD)/mps2-boot/boot_key.c \
	  $(FW_BOOT_MBEDTLS_OBJ) $(FW_BOOT_SODIUM_OBJ) -lgcc

# The app as the bootloader runs it: linked at the primary slot + the 0x200 header room,
# signed into an MCUboot image with `spot-gateway image sign --pad-header`.
$(FW_BUILD)/mps2/slot.ld: firmware/platform/mps2/mps2.ld
	@mkdir -p $(@D)
	sed 's/FLASH (rx)  : ORIGIN = 0x00000000/FLASH (rx)  : ORIGIN = 0x00008200/' $< > $@
	@grep -q 'ORIGIN = 0x00008200' $@
$(FW_BUILD)/mps2/spot-slot.elf: $(FW_GEN_STAMPS) $(NANOPB_SRC)/pb_encode.c $(FW_MPS2_SRC) $(FW_HEADERS) $(FW_BUILD)/mps2/slot.ld $(FW_MPS2_MBEDTLS_OBJ)
	arm-none-eabi-gcc $(FW_MPS2_FLAGS) $(subst firmware/platform/mps2/mps2.ld,$(FW_BUILD)/mps2/slot.ld,$(subst spot.map,spot-slot.map,$(FW_MPS2_LDFLAGS))) \
	  -o $@ $(FW_MPS2_SRC) $(FW_GEN_SRC) $(FW_MPS2_MBEDTLS_OBJ)
# The same app built to fail its trial boot (no confirm, no answer, a reset): the QEMU
# flashing tests' upgrade that must be reverted.
$(FW_BUILD)/mps2/spot-slot-trial-fails.elf: $(FW_GEN_STAMPS) $(NANOPB_SRC)/pb_encode.c $(FW_MPS2_SRC) $(FW_HEADERS) $(FW_BUILD)/mps2/slot.ld $(FW_MPS2_MBEDTLS_OBJ)
	arm-none-eabi-gcc $(FW_MPS2_FLAGS) -DSPOT_MPS2_TRIAL_FAILS=1 \
	  $(subst firmware/platform/mps2/mps2.ld,$(FW_BUILD)/mps2/slot.ld,$(subst spot.map,spot-slot-trial-fails.map,$(FW_MPS2_LDFLAGS))) \
	  -o $@ $(FW_MPS2_SRC) $(FW_GEN_SRC) $(FW_MPS2_MBEDTLS_OBJ)
$(FW_BUILD)/mps2/%.bin: $(FW_BUILD)/mps2/%.elf
	arm-none-eabi-objcopy -O binary $< $@
# UART echo (make bench-flash: the emulated UART's ceiling).
FW_ECHO_SRC := firmware/targets/mps2-echo/main.c $(addprefix firmware/platform/mps2/,startup.c semihosting.c uart.c time.c)
$(FW_BUILD)/mps2-echo/echo.elf: $(FW_ECHO_SRC) $(FW_HEADERS) firmware/platform/mps2/mps2.ld
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(FW_WARN) -Ifirmware/platform/mps2 -mcpu=cortex-m3 -mthumb -Os -g -ffunction-sections -fdata-sections \
	  -ffreestanding -nostartfiles --specs=nano.specs -T firmware/platform/mps2/mps2.ld -Wl,--gc-sections -o $@ $(FW_ECHO_SRC) -lgcc

firmware-host: $(FW_BUILD)/host/spot
firmware-arm-linux: $(FW_BUILD)/arm-linux/spot
firmware-mps2: mbedtls-runtime
	@$(MAKE) --no-print-directory $(FW_BUILD)/mps2/spot.elf $(FW_BUILD)/mps2/spot.bin $(FW_BUILD)/mps2/spot-slot.bin \
	  $(FW_BUILD)/mps2/spot-slot-trial-fails.bin $(FW_BUILD)/mps2-echo/echo.elf
firmware-mps2-boot: mbedtls-runtime sodium-runtime
	@$(MAKE) --no-print-directory $(FW_BUILD)/mps2-boot/boot.elf
firmware: firmware-host firmware-arm-linux firmware-mps2 firmware-mps2-boot

# The bootloader under QEMU, flash in a host file: trial swap, revert after a restart,
# and QEMU power cuts spread over the swap (BOOT_QEMU_CUTS of them).
BOOT_QEMU_CUTS ?= 12
boot-qemu-check: firmware-mps2-boot $(FW_BUILD)/mps2/spot-slot.bin
	firmware/test/boot-qemu-check.sh $(BOOT_QEMU_CUTS)

# --- size budget: the last line is the figure ---------------------------------
MPS2_FLASH_BUDGET := 65536
MPS2_RAM_BUDGET := 16384
BOOT_FLASH_BUDGET := 32768
BOOT_RAM_BUDGET := 8192
firmware-size: firmware
	@size $(FW_BUILD)/host/spot | tail -1 | awk '{print "host: text=" $$1 " data=" $$2 " bss=" $$3}'
	@arm-linux-gnueabihf-size $(FW_BUILD)/arm-linux/spot | tail -1 | awk '{print "arm-linux: text=" $$1 " data=" $$2 " bss=" $$3}'
	@heap=$$(arm-none-eabi-nm $(FW_BUILD)/mps2/spot.elf $(FW_BUILD)/mps2-boot/boot.elf | awk '$$3 ~ /^(malloc|_malloc_r|free|_free_r|calloc|realloc|_sbrk|_sbrk_r|sbrk)$$/ {print $$3}' | tr '\n' ' '); \
	if [ -n "$$heap" ]; then echo "mps2: heap functions linked: $$heap"; heap=linked; else heap=none; fi; \
	sizes() { arm-none-eabi-size -A $$1 | awk '$$1==".text"||$$1==".ARM.exidx"{t+=$$2} $$1==".data"{d=$$2} $$1==".bss"{b=$$2} $$1==".stack"{s=$$2} END{print t+0, d+0, b+0, s+0}'; }; \
	set -- $$(sizes $(FW_BUILD)/mps2-boot/boot.elf); \
	boot_flash=$$(($$1 + $$2)); boot_ram=$$(($$2 + $$3 + $$4)); \
	echo "mps2-boot: text=$$1 data=$$2 bss=$$3 stack=$$4 (RAM figure with the stack; budgets: flash $(BOOT_FLASH_BUDGET), ram $(BOOT_RAM_BUDGET))"; \
	set -- $$(sizes $(FW_BUILD)/mps2/spot.elf); \
	flash=$$(($$1 + $$2)); ram=$$(($$2 + $$3)); \
	echo "mps2: text=$$1 data=$$2 bss=$$3 stack=$$4 (own region, not in the RAM figure; budgets: flash $(MPS2_FLASH_BUDGET), ram $(MPS2_RAM_BUDGET))"; \
	echo "firmware: mps2_flash_bytes=$$flash mps2_ram_bytes=$$ram heap=$$heap boot_flash_bytes=$$boot_flash boot_ram_bytes=$$boot_ram"; \
	[ $$flash -le $(MPS2_FLASH_BUDGET) ] && [ $$ram -le $(MPS2_RAM_BUDGET) ] && [ $$heap = none ] \
	  && [ $$boot_flash -le $(BOOT_FLASH_BUDGET) ] && [ $$boot_ram -le $(BOOT_RAM_BUDGET) ]
