# The Debian package (docs/operations.md, "The Debian package"). Included by the top-level Makefile.
.PHONY: deb test-deb apt-deb

DEB_VERSION := $(shell node -p "require('./package.json').version" 2>/dev/null)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB := build/spot-gateway_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_MODULES := build/deb/modules
# Building it on a box that has only what `make run` needs: dpkg-shlibdeps, strip, help2man.
APT_DEB_PACKAGES := dpkg-dev binutils help2man

apt-deb:
	$(call apt_install,$(APT_DEB_PACKAGES))

# The production dependencies, the optional unix-dgram (sd_notify) with them, in a directory of
# their own: the native addons (better-sqlite3, unix-dgram) are built here, for this machine.
$(DEB_MODULES)/.installed: package.json package-lock.json
	rm -rf $(DEB_MODULES) && mkdir -p $(DEB_MODULES)
	cp package.json package-lock.json $(DEB_MODULES)/
	cd $(DEB_MODULES) && npm ci --omit=dev --no-audit --no-fund
	@for addon in better-sqlite3/build/Release/better_sqlite3.node unix-dgram/build/Release/unix_dgram.node; do \
	  test -f $(DEB_MODULES)/node_modules/$$addon || { echo "deb: $$addon was not built (python3, make and g++ are needed; npm must run the install scripts)"; exit 1; }; \
	done
	@touch $@

deb: setup-run apt-deb schema-ts $(DEB_MODULES)/.installed
	packaging/deb/build.sh $(DEB_MODULES)/node_modules $(DEB)
	@ls -l $(DEB)

# lintian, the control data and contents, and an install, a reinstall, a remove and a purge in a scratch root.
test-deb: apt-test deb
	packaging/deb/test.sh $(DEB)

# The package under a real systemd: a debootstrapped Debian booted with systemd-nspawn (as root).
.PHONY: test-systemd
test-systemd: apt-test deb
	packaging/deb/systemd-test.sh $(DEB)
