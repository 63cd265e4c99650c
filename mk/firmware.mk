# Spot firmware: generated C schema, nanopb runtime, the three targets and their size.
# Included by the top-level Makefile. Nothing fetched or generated here is committed.
.PHONY: schema-c nanopb-runtime firmware firmware-host firmware-arm-linux firmware-mps2 firmware-size

FW_GEN := firmware/gen
FW_BUILD := firmware/build
NANOPB_DIR := build/nanopb
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
