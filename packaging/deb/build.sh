#!/bin/sh
# Builds spot-gateway_<version>_<arch>.deb for this machine's architecture with dpkg-deb
# (docs/operations.md, "The Debian package"). Run by `make deb`, from the repository root.
# Usage: packaging/deb/build.sh MODULES_DIR OUTPUT.deb
#   MODULES_DIR: node_modules of `npm ci --omit=dev` (native addons built on this machine)
set -eu

modules=$1
out=$2
here=packaging/deb
stage=build/deb/root
app=$stage/usr/lib/spot-gateway

version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
node_major=$(node -p "process.versions.node.split('.')[0]")
# Timestamps from the last commit, so that two builds of one commit give the same files.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

rm -rf "$stage"
mkdir -p "$app/gateway" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/spot-gateway" \
  "$stage/usr/share/doc/spot-gateway" "$stage/DEBIAN"

# The app: compiled afresh (no stale files, no source maps), its launcher, the dashboard.
node_modules/.bin/tsc -p tsconfig.json --outDir "$app/gateway/dist" --sourceMap false
cp -r gateway/bin gateway/dashboard "$app/gateway/"
cp package.json "$app/"
cp -r "$modules" "$app/node_modules"
ln -s ../lib/spot-gateway/gateway/bin/spot-gateway.js "$stage/usr/bin/spot-gateway"

# What no package needs at run time: docs, tests, type declarations, npm's links, and in the
# native packages (those with a binding.gyp) the sources and build intermediates: only the .node stays.
nm=$app/node_modules
rm -rf "$nm/.bin" "$nm/.package-lock.json"
find "$nm" -type d \( -name test -o -name tests -o -name __tests__ -o -name docs \
  -o -name example -o -name examples -o -name benchmark -o -name benchmarks -o -name .github -o -name .husky \
  -o -name scripts -o -name integration \) -prune -exec rm -rf {} +
find "$nm" -type f \( -name '*.md' -o -name '*.markdown' -o -name '*.html' -o -name '*.ts' -o -name '*.mts' \
  -o -name '*.cts' -o -name '*.map' -o -name '.npmignore' -o -name '.git*' -o -name '.eslintrc*' \
  -o -name '.prettierrc*' -o -name '.travis.yml' -o -name '.editorconfig' -o -name 'tsconfig*.json' \
  -o -name '*.sh' \) -delete
for gyp in $(find "$nm" -name binding.gyp); do
  pkg=$(dirname "$gyp")
  rm -rf "$pkg/src" "$pkg/deps"
  if [ -d "$pkg/build" ]; then
    find "$pkg/build" -mindepth 1 ! -path "$pkg/build/Release" ! -path "$pkg/build/Release/*.node" -prune -exec rm -rf {} +
    rm -f "$pkg/build/Release/test_extension.node"
  fi
done
# Prebuilt addons (serialport's): only this machine's, for glibc (not musl).
node_arch=$(node -p process.arch)
find "$nm" -type d -name prebuilds -exec sh -c \
  'for d in "$1"/*; do [ "$(basename "$d")" = "linux-$2" ] || rm -rf "$d"; done' sh {} "$node_arch" \;
find "$nm" -path '*/prebuilds/*' -name '*musl*.node' -delete
find "$nm" -type d -empty -delete
find "$nm" -name '*.node' -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +

# The unit, the configuration (a conffile), the package's own documents.
cp packaging/spot-gateway.service "$stage/lib/systemd/system/"
cp "$here/gateway.yaml" "$stage/etc/spot-gateway/gateway.yaml"
cp "$here/copyright" "$stage/usr/share/doc/spot-gateway/copyright"
# The manual page, made from the command's own --help and --version (help2man).
mkdir -p "$stage/usr/share/man/man1"
help2man --no-info --no-discard-stderr --name "on-site gateway for RFID/Bluetooth spots" \
  --include "$here/spot-gateway.h2m" --output "$stage/usr/share/man/man1/spot-gateway.1" \
  "node $app/gateway/bin/spot-gateway.js"
gzip -9n "$stage/usr/share/man/man1/spot-gateway.1"
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
printf 'spot-gateway (%s) stable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
  "$version" "$commit" "$(sed -n 's/^Maintainer: //p' "$here/control")" "$date" \
  | gzip -9n > "$stage/usr/share/doc/spot-gateway/changelog.gz"

# Ownership comes from dpkg-deb (--root-owner-group); modes are set here, whatever the umask.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -exec chmod 0644 {} +
# Scripts (a #! line: the launcher, the packages' command-line tools) are executable.
find "$stage/usr" -type f -exec sh -c 'for f; do [ "$(head -c 2 "$f")" != "#!" ] || chmod 0755 "$f"; done' sh {} +

# Control data: the addons' shared libraries from dpkg-shlibdeps (it wants a debian/control).
mkdir -p build/deb/shlibs/debian
printf 'Source: spot-gateway\n\nPackage: spot-gateway\nArchitecture: any\n' > build/deb/shlibs/debian/control
# Its warnings (symbols that Node itself provides: "probably a plugin") are expected.
shlibs=$(cd build/deb/shlibs && find ../root/usr/lib/spot-gateway/node_modules -name '*.node' \
  -exec dpkg-shlibdeps -O {} + 2>stderr) || { cat build/deb/shlibs/stderr >&2; exit 1; }
shlibs=$(echo "$shlibs" | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --apparent-size "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  -e "s/@NODE@/nodejs (>= $node_major), nodejs (<< $((node_major + 1)))/" -e "s/@SHLIBS@/$shlibs/" \
  "$here/control" > "$stage/DEBIAN/control"
echo /etc/spot-gateway/gateway.yaml > "$stage/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out"
