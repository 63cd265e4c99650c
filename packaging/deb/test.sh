#!/bin/sh
# Checks the .deb (make test-deb; docs/operations.md, "The Debian package"): lintian; the control
# data and the contents with dpkg-deb; then an install, a reinstall, a remove and a purge into a
# scratch root, where the installed command answers --version, config check and runs the gateway.
# Usage: packaging/deb/test.sh PACKAGE.deb
set -eu

deb=$(realpath "$1")
version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
node_major=$(node -p "process.versions.node.split('.')[0]")
fail() { echo "test-deb: FAILED: $*" >&2; exit 1; }
ok() { echo "test-deb: ok: $*"; }

# A work directory; dpkg and lintian run there as nobody when we are root: lintian unpacks the
# archive unprivileged, and a maintainer script that strayed outside the scratch root would fail.
work=$(mktemp -d)
run_pid=
socat_pid=
cleanup() {
  for pid in $run_pid $socat_pid; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
cp "$deb" "$work/"
as_nobody() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$work" "$@"; else "$@"; fi
}
[ "$(id -u)" != 0 ] || chown -R nobody:nogroup "$work"

# --- lintian: no error and no warning (its informational tags are listed in docs/operations.md)
as_nobody lintian --fail-on error,warning "$work/$(basename "$deb")" || fail "lintian $deb"
ok "lintian: no errors, no warnings"

# --- control data
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = spot-gateway ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), package.json says $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture), this machine is $arch"
case "$(field Depends)" in
  "nodejs (>= $node_major), nodejs (<< $((node_major + 1))), adduser, libc6"*) ;;
  *) fail "Depends: $(field Depends) (wanted the Node major of the build, adduser, the addons' libraries)" ;;
esac
[ "$(dpkg-deb --info "$deb" conffiles)" = /etc/spot-gateway/gateway.yaml ] || fail "conffiles: $(dpkg-deb --info "$deb" conffiles)"
for script in postinst prerm postrm; do
  dpkg-deb --info "$deb" "$script" >/dev/null || fail "no $script"
done
ok "control: $(field Package) $(field Version) $(field Architecture); Depends: $(field Depends)"

# --- contents: the app, the production modules with their addons, the unit, the conffile; root-owned
contents=$(dpkg-deb --contents "$deb")
paths=$(echo "$contents" | awk '{print $6}')
for want in ./usr/bin/spot-gateway ./usr/lib/spot-gateway/package.json \
  ./usr/lib/spot-gateway/gateway/bin/spot-gateway.js ./usr/lib/spot-gateway/gateway/dist/cli/index.js \
  ./usr/lib/spot-gateway/gateway/dashboard/index.html \
  ./usr/lib/spot-gateway/node_modules/better-sqlite3/build/Release/better_sqlite3.node \
  ./usr/lib/spot-gateway/node_modules/unix-dgram/build/Release/unix_dgram.node \
  ./lib/systemd/system/spot-gateway.service ./etc/spot-gateway/gateway.yaml \
  ./usr/share/doc/spot-gateway/copyright ./usr/share/doc/spot-gateway/changelog.gz \
  ./usr/share/man/man1/spot-gateway.1.gz; do
  echo "$paths" | grep -qx "$want" || fail "missing $want"
done
for unwanted in '/node_modules/(typescript|ava|tsx|fast-check|playwright-core)/' '/obj\.target/' \
  '\.map$' '/node_modules/.*\.md$' '/node_modules/\.bin/' '/better-sqlite3/deps/' 'gateway/src/'; do
  if echo "$paths" | grep -Eq "$unwanted"; then fail "the package holds $(echo "$paths" | grep -E "$unwanted" | head -n 1)"; fi
done
others=$(echo "$contents" | awk '$2 != "root/root"' | head -n 3)
[ -z "$others" ] || fail "not owned by root: $others"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/spot-gateway.service | cmp -s - packaging/spot-gateway.service \
  || fail "the packaged unit differs from packaging/spot-gateway.service"
ok "contents: $(echo "$paths" | grep -c .) entries, $(du -k "$deb" | cut -f1) KiB"

# --- a scratch root: dpkg --root with the maintainer scripts run outside a chroot, DPKG_ROOT set.
# dpkg runs as nobody when we are root, so a script that strayed outside the root would fail.
dpkg_root() {
  as_nobody dpkg --root="$root" --log="$work/dpkg.log" --force-not-root --force-script-chrootless \
    --force-depends --force-confold "$@" >>"$work/dpkg.out" 2>&1 || { cat "$work/dpkg.out" >&2; fail "dpkg $*"; }
}
status() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' spot-gateway 2>/dev/null || true; }

dpkg_root --install "$work/$(basename "$deb")"
[ "$(status)" = "install ok installed" ] || fail "after install: status $(status)"
[ -d "$root/var/lib/spot-gateway" ] || fail "postinst made no /var/lib/spot-gateway"
[ "$(stat -c %a "$root/var/lib/spot-gateway")" = 750 ] || fail "/var/lib/spot-gateway is $(stat -c %a "$root/var/lib/spot-gateway")"
wants=$root/etc/systemd/system/multi-user.target.wants/spot-gateway.service
[ "$(readlink "$wants")" = /lib/systemd/system/spot-gateway.service ] || fail "the service is not enabled ($wants)"
ok "install into $root: status installed, data dir 0750, service enabled"

cli() { env -i PATH="$PATH" HOME="$work" "$root/usr/bin/spot-gateway" "$@"; }
[ "$(cli --version)" = "spot-gateway $version" ] || fail "--version said: $(cli --version)"
ok "$(cli --version)"
conf=$root/etc/spot-gateway/gateway.yaml
data_dir=$(cd "$work" && cli config check --config "$conf" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data_dir))') \
  || fail "config check --config $conf"
[ "$data_dir" = /var/lib/spot-gateway ] || fail "config check: data_dir $data_dir"
ok "config check --config $conf: exit 0, data_dir $data_dir"

# The conffile's commented keys, uncommented, are the defaults and name every key the gateway has
# (mqtt.url and gateway.id, unset by default, are examples).
sed -E 's/^#([a-z]|  [a-z])/\1/' "$conf" > "$work/uncommented.yaml"
(cd "$work" && cli config check --config "$work/uncommented.yaml" > "$work/uncommented.json") \
  || fail "the conffile with its keys uncommented is refused"
(cd "$work" && env SPOT_GATEWAY_DATA_DIR=/var/lib/spot-gateway "$root/usr/bin/spot-gateway" config check > "$work/defaults.json")
node - "$work/uncommented.json" "$work/defaults.json" "$work/uncommented.yaml" <<'EOF' || fail "packaging/deb/gateway.yaml is out of step with the defaults"
const fs = require('node:fs');
const [listed, defaults] = process.argv.slice(2, 4).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const leaves = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? leaves(v, `${p}${k}.`) : [[`${p}${k}`, v]]));
const have = new Map(leaves(listed));
// The keys the file itself writes (config check fills in a missing one with its default, so its
// output alone cannot tell a key left out): 'section:' lines and their '  key:' lines.
const written = new Set();
let section = '';
for (const line of fs.readFileSync(process.argv[4], 'utf8').split('\n')) {
  const top = /^([a-z_]+):\s*(#.*)?$/.exec(line);
  if (top) { section = top[1]; continue; }
  const leaf = /^([a-z_]+):/.exec(line) ?? /^  ([a-z_]+):/.exec(line);
  if (leaf) written.add(line.startsWith(' ') ? `${section}.${leaf[1]}` : leaf[1]);
}
let bad = 0;
for (const [key, value] of leaves(defaults)) {
  if (key === 'gateway.id') continue; // the host name, filled in at load
  if (!have.has(key) || !written.has(key)) { console.error(`gateway.yaml: ${key} is not listed (default ${JSON.stringify(value)})`); bad++; }
  else if (have.get(key) !== value) { console.error(`gateway.yaml: ${key} is ${JSON.stringify(have.get(key))}, the default is ${JSON.stringify(value)}`); bad++; }
}
process.exit(bad ? 1 : 0);
EOF
ok "the conffile lists every key with its default"

# The installed gateway runs: native addons load, it listens, serves /healthz and the dashboard,
# tells a notify socket READY=1 (unix-dgram), and stops with exit 0.
socat -u UNIX-RECV:"$work/notify.sock" CREATE:"$work/notify.out" &
socat_pid=$!
for _ in $(seq 50); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
env -i PATH="$PATH" HOME="$work" NOTIFY_SOCKET="$work/notify.sock" SPOT_GATEWAY_DATA_DIR="$work/data" \
  SPOT_GATEWAY_HTTP_PORT=0 SPOT_GATEWAY_HTTP_HOST=127.0.0.1 "$root/usr/bin/spot-gateway" run --config "$conf" \
  > "$work/run.log" 2>&1 &
run_pid=$!
port=
for _ in $(seq 150); do
  port=$(sed -n 's/.*"port":\([0-9]*\).*"msg":"listening.*/\1/p' "$work/run.log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.log" >&2; fail "the installed gateway exited at start"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/run.log" >&2; fail "the installed gateway did not listen within 15 s"; }
curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null || fail "GET /healthz"
curl -fsS "http://127.0.0.1:$port/" | grep -qi '<html' || fail "GET / (the dashboard)"
for _ in $(seq 50); do grep -q 'READY=1' "$work/notify.out" 2>/dev/null && break; sleep 0.1; done
grep -q 'READY=1' "$work/notify.out" || fail "no READY=1 on the notify socket (unix-dgram)"
kill -TERM "$run_pid"
rc=0; wait "$run_pid" || rc=$?
run_pid=
kill "$socat_pid" 2>/dev/null || true
socat_pid=
[ "$rc" = 0 ] || { cat "$work/run.log" >&2; fail "the installed gateway exited $rc at SIGTERM"; }
ok "the installed gateway ran on port $port: /healthz, the dashboard, READY=1, exit 0 at SIGTERM"

# Reinstall (the upgrade path): data and a site's edit of the conffile are kept.
echo keep > "$root/var/lib/spot-gateway/site-data"
echo '# edited on site' >> "$conf"
dpkg_root --install "$work/$(basename "$deb")"
[ "$(status)" = "install ok installed" ] || fail "after reinstall: status $(status)"
grep -q 'edited on site' "$conf" || fail "reinstall replaced the edited conffile"
[ -f "$root/var/lib/spot-gateway/site-data" ] || fail "reinstall lost the data"
[ -L "$wants" ] || fail "reinstall left the service disabled"
ok "reinstall: data, conffile edit and enablement kept"

# Remove: the program goes, the configuration and the data stay, the unit is masked.
dpkg_root --remove spot-gateway
[ "$(status)" = "deinstall ok config-files" ] || fail "after remove: status $(status)"
[ ! -e "$root/usr/lib/spot-gateway" ] || fail "remove left /usr/lib/spot-gateway"
[ -f "$conf" ] && [ -f "$root/var/lib/spot-gateway/site-data" ] || fail "remove took the configuration or the data"
[ "$(readlink "$root/etc/systemd/system/spot-gateway.service")" = /dev/null ] || fail "remove did not mask the unit"
ok "remove: program gone, configuration and data kept, unit masked"

# Purge: the configuration, the data and the unit's links go.
dpkg_root --purge spot-gateway
[ -z "$(status)" ] || [ "$(status)" = "unknown ok not-installed" ] || fail "after purge: status $(status)"
[ ! -e "$conf" ] || fail "purge left $conf"
[ ! -e "$root/var/lib/spot-gateway" ] || fail "purge left /var/lib/spot-gateway"
# (Empty directories stay: on a real system they belong to systemd.)
left=$(find "$root/etc/systemd" ! -type d 2>/dev/null | head -n 3)
[ -z "$left" ] || fail "purge left $left"
ok "purge: configuration, data and unit links gone"
if [ -n "${TEST_DEB_SHOW_DPKG:-}" ]; then cat "$work/dpkg.out"; fi
