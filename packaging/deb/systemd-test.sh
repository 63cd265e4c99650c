#!/bin/sh
# The .deb under a real systemd (make test-systemd; docs/operations.md, "Tested under a real
# systemd"): a Debian root made by debootstrap is booted with systemd-nspawn (systemd as its PID 1,
# a network of its own with only loopback), the package is installed while systemd runs, and the
# service is driven the way a site drives it: started by the install, READY=1 and STATUS= seen by
# systemd, the hardening in force on the process, a spot posting and a command sent to it with an
# API key made by the documented command, a reload, a missed watchdog (the process stopped with
# SIGSTOP) restarting it with nothing lost, a stop with exit 0, an upgrade restarting it, remove
# and purge.
# Usage: packaging/deb/systemd-test.sh PACKAGE.deb   (as root; otherwise it says SKIPPED)
set -eu

deb=$(realpath "$1")
fail() { echo "test-systemd: FAILED: $*" >&2; exit 1; }
ok() { echo "test-systemd: ok: $*"; }
if [ "$(id -u)" != 0 ]; then
  echo "test-systemd: SKIPPED: systemd-nspawn and debootstrap need root; the .deb was not run under systemd"
  exit 0
fi
for tool in debootstrap systemd-nspawn nsenter dpkg-deb; do
  command -v "$tool" >/dev/null || fail "$tool not found (Debian packages debootstrap, systemd-container, util-linux)"
done

# --- The Debian root: made once by debootstrap and kept under build/ (not committed), copied for
# each run. What it holds: systemd as init, dbus, curl for the checks, adduser for the postinst.
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
include=systemd,systemd-sysv,dbus,curl,ca-certificates,adduser
cache=build/systemd-root/$suite-$(echo "$include" | cksum | cut -d' ' -f1)
if [ ! -f "$cache/.complete" ]; then
  rm -rf "$cache" && mkdir -p "$cache"
  echo "test-systemd: debootstrap $suite from $mirror into $cache (once)"
  debootstrap --variant=minbase --include="$include" "$suite" "$cache/root" "$mirror" > "$cache/debootstrap.log" 2>&1 \
    || { tail -n 20 "$cache/debootstrap.log" >&2; fail "debootstrap $suite"; }
  touch "$cache/.complete"
fi

work=$(mktemp -d)
nspawn_pid=
cleanup() {
  if [ -n "$nspawn_pid" ]; then kill -TERM "$nspawn_pid" 2>/dev/null || true; sleep 1; kill -KILL "$nspawn_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
cp -a "$cache/root" "$root"

# --- Node: the package needs nodejs (>= 20) and Debian 12 has 18. A site takes NodeSource's
# package (operations.md); here a package named nodejs is made from this machine's node binary.
node_version=$(node -p process.versions.node)
mkdir -p "$work/nodejs/DEBIAN" "$work/nodejs/usr/bin"
cp "$(command -v node)" "$work/nodejs/usr/bin/node"
cat > "$work/nodejs/DEBIAN/control" <<EOF
Package: nodejs
Version: $node_version-test
Architecture: $(dpkg --print-architecture)
Maintainer: spot-gateway tests <root@localhost>
Depends: libc6, libstdc++6
Description: this machine's node binary, standing in for NodeSource's nodejs in the test root
EOF
dpkg-deb -Znone --root-owner-group --build "$work/nodejs" "$root/root/nodejs.deb" >/dev/null
chroot "$root" dpkg -i /root/nodejs.deb > "$work/dpkg-node.log" 2>&1 || { cat "$work/dpkg-node.log" >&2; fail "installing nodejs in the root"; }
cp "$deb" "$root/root/spot-gateway.deb"

# The container is booted before the package is installed: a machine that cannot boot one (no
# namespaces or cgroups for it) is said loudly and skipped; everything after the boot fails the check.
cannot_boot() {
  echo "test-systemd: SKIPPED: this machine cannot boot a container with systemd-nspawn ($1); the .deb was not run under systemd:" >&2
  tail -n 5 "$work/console.log" >&2
  echo "test-systemd: SKIPPED: $1 (before the package was installed)"
  exit 0
}

# --- Boot: systemd as PID 1 of the container; --keep-unit because no host systemd is asked for
# a scope; --private-network: only the container's loopback, so port 8080 is its own.
machine=sgtest-$$
systemd-nspawn -D "$root" -b --register=no --keep-unit --private-network -M "$machine" --console=pipe \
  < /dev/null > "$work/console.log" 2>&1 &
nspawn_pid=$!
sd=
for _ in $(seq 100); do
  sd=$(pgrep -P "$nspawn_pid" -x systemd || true)
  [ -n "$sd" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || cannot_boot "systemd-nspawn exited at start"
  sleep 0.1
done
[ -n "$sd" ] || cannot_boot "no systemd in the container within 10 s"
ct() { nsenter -t "$sd" -a "$@"; }
state=
for _ in $(seq 120); do
  state=$(ct systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.5
done
case "$state" in running|degraded) ;; *) cat "$work/console.log" >&2; fail "the container's systemd is '$state' after 60 s" ;; esac
ok "booted $suite under systemd-nspawn: systemd $(ct systemctl --version | head -n 1 | cut -d' ' -f2), system $state"

journal() { ct journalctl -u spot-gateway.service -o cat --no-pager 2>/dev/null || true; }
show() { ct systemctl show spot-gateway.service -p "$1" --value; }
until_active() { # $1: seconds
  n=0
  while [ "$(ct systemctl is-active spot-gateway.service || true)" != active ]; do
    n=$((n + 1)); [ "$n" -le $(($1 * 10)) ] || { journal | tail -n 30 >&2; fail "$2: the service is $(ct systemctl is-active spot-gateway.service || true) after $1 s"; }
    sleep 0.1
  done
}
api() { ct curl -sS -o /dev/stdout -w '\n%{http_code}' "$@"; }
post_events() { # $1: serial; prints the body and the status
  api -H 'Content-Type: text/x-intellifi-events' --data-binary "$2" "http://127.0.0.1:8080/api/spots/$1/events/"
}

# --- Install while systemd runs: the postinst makes the user and starts the service; active means
# systemd had READY=1 (Type=notify).
ct dpkg -i /root/spot-gateway.deb > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i in the container"; }
until_active 30 "after the install"
[ "$(ct systemctl is-enabled spot-gateway.service)" = enabled ] || fail "not enabled after the install"
pid=$(show MainPID)
status_text=$(show StatusText)
echo "$status_text" | grep -Eq '^0 spots online; backlog 0 events; no upstream$' || fail "STATUS= as systemd holds it: '$status_text'"
[ "$(show WatchdogUSec)" = 30s ] || fail "WatchdogUSec $(show WatchdogUSec)"
ok "installed while systemd runs: started, enabled, active (READY=1), STATUS='$status_text', watchdog $(show WatchdogUSec)"

# --- The hardening is in force on the running process.
proc=$(ct cat "/proc/$pid/status")
uid=$(ct id -u spot-gateway)
dialout=$(ct getent group dialout | cut -d: -f3)
echo "$proc" | grep -Eq "^Uid:[[:space:]]+$uid[[:space:]]" || fail "the process runs as $(echo "$proc" | grep ^Uid), not spot-gateway ($uid)"
echo "$proc" | grep -Eq "^Groups:.*\b$dialout\b" || fail "the process is not in dialout: $(echo "$proc" | grep ^Groups)"
echo "$proc" | grep -Eq '^NoNewPrivs:[[:space:]]+1$' || fail "NoNewPrivs not set"
echo "$proc" | grep -Eq '^Seccomp:[[:space:]]+2$' || fail "no seccomp filter (SystemCallFilter=)"
echo "$proc" | grep -Eq '^CapEff:[[:space:]]+0+$' || fail "capabilities: $(echo "$proc" | grep ^CapEff)"
ct runuser -u spot-gateway -- touch /var/lib/spot-gateway/.writable || fail "the state directory is not writable by spot-gateway"
ct nsenter -t "$pid" -m sh -c 'touch /etc/spot-gateway/x' 2>/dev/null && fail "/etc is writable in the service's mount namespace (ProtectSystem=strict)"
exposure=$(ct systemd-analyze security spot-gateway.service --no-pager | tail -n 1)
ok "hardening in force: uid $uid, dialout, NoNewPrivs, seccomp, no capabilities, /etc read-only; $exposure"

# --- A spot posts; the first admin is added and an API key made (the documented commands, as the
# service user); a command sent with the key reaches it in its next post's answer.
body=$(post_events 4711 "$(printf '["presence","create",{"item_code":"e28011700000020a1b2c3d4e","proximity":"near"}]\n\n')")
[ "$(echo "$body" | tail -n 1)" = 200 ] || fail "a spot's post: $body"
seen=$(api http://127.0.0.1:8080/api/spots/4711)
echo "$seen" | tail -n 1 | grep -qx 200 || fail "GET /api/spots/4711: $seen"
echo 'a site password' | ct runuser -u spot-gateway -- spot-gateway user add ann --role admin --config /etc/spot-gateway/gateway.yaml > /dev/null \
  || fail "user add ann --role admin (the first admin, as operations.md has it)"
key=$(ct runuser -u spot-gateway -- spot-gateway apikey create site-test --role admin --config /etc/spot-gateway/gateway.yaml | grep -o 'sgk_[A-Za-z0-9_-]*' | head -n 1)
[ -n "$key" ] || fail "apikey create printed no key"
queued=$(api -H "X-API-Key: $key" -H 'Content-Type: application/json' \
  -d '{"resource":"config","action":"update","data":{"rfid_power_dbm":20}}' http://127.0.0.1:8080/api/spots/4711/commands)
[ "$(echo "$queued" | tail -n 1)" = 202 ] || fail "POST /api/spots/4711/commands with the key: $queued"
reply=$(post_events 4711 "$(printf '["presence","delete",{"item_code":"e28011700000020a1b2c3d4e"}]\n\n')")
[ "$(echo "$reply" | tail -n 1)" = 200 ] || fail "the spot's second post: $reply"
echo "$reply" | grep -q '"config","update",{"rfid_power_dbm":20}' || fail "the command is not in the spot's answer: $reply"
n=0
until show StatusText | grep -q '^1 spot online'; do
  n=$((n + 1)); [ "$n" -le 100 ] || fail "STATUS= did not come to '1 spot online': '$(show StatusText)'"; sleep 0.1
done
ok "a spot posted (200), a command queued with an API key (202) was in its next answer; STATUS='$(show StatusText)'"

# --- systemctl reload: RELOADING=1 then READY=1 around SIGHUP; the same process goes on.
ct systemctl reload spot-gateway.service || fail "systemctl reload"
[ "$(show MainPID)" = "$pid" ] || fail "reload replaced the process"
journal | grep -q '"msg":"reload: ' || fail "no reload line in the journal"
until_active 10 "after the reload"
ok "systemctl reload: exit 0, the same process, '$(journal | grep -o '"msg":"reload: [^"]*' | tail -n 1 | cut -c8-)'"

# --- The watchdog, shortened for the test by a runtime drop-in: the gateway's WATCHDOG=1 keeps a
# 4 s watchdog fed for 10 s; then the process is stopped (SIGSTOP, a hung process) and systemd
# kills and restarts it; the events are still there.
ct mkdir -p /run/systemd/system/spot-gateway.service.d
ct sh -c 'printf "[Service]\nWatchdogSec=4\nTimeoutAbortSec=3\n" > /run/systemd/system/spot-gateway.service.d/watchdog.conf'
ct systemctl daemon-reload
ct systemctl restart spot-gateway.service
until_active 30 "after the restart with a 4 s watchdog"
pid=$(show MainPID)
restarts=$(show NRestarts)
sleep 10 # the span the watchdog must stay fed: 2.5 of its periods, not a wait for a condition
[ "$(show MainPID)" = "$pid" ] && [ "$(show NRestarts)" = "$restarts" ] || fail "restarted while running normally: $(journal | grep -i watchdog | tail -n 2)"
ct sh -c 'kill -STOP "$1"' sh "$pid" # the shell's kill: procps is not in the root
n=0
until [ "$(show NRestarts)" -gt "$restarts" ] && [ "$(ct systemctl is-active spot-gateway.service || true)" = active ]; do
  n=$((n + 1)); [ "$n" -le 300 ] || fail "no restart 30 s after SIGSTOP with a 4 s watchdog"; sleep 0.1
done
ct journalctl -u spot-gateway.service --no-pager | grep -q 'Watchdog timeout' || fail "the journal has no 'Watchdog timeout'"
events=$(api -H "X-API-Key: $key" 'http://127.0.0.1:8080/api/events?spot=4711')
echo "$events" | grep -q 'e28011700000020a1b2c3d4e' || fail "the spot's events after the restart: $events"
ok "watchdog: fed for 10 s at WatchdogSec=4; SIGSTOP -> 'Watchdog timeout', restart $(show NRestarts), the spot's events kept"
ct rm -rf /run/systemd/system/spot-gateway.service.d
ct systemctl daemon-reload

# --- Stop: STOPPING=1, exit 0, systemd calls it a success.
ct systemctl stop spot-gateway.service
[ "$(show ActiveState)" = inactive ] || fail "after stop: $(show ActiveState)"
[ "$(show Result)" = success ] && [ "$(show ExecMainStatus)" = 0 ] || fail "stop: Result=$(show Result) ExecMainStatus=$(show ExecMainStatus)"
journal | grep -q '"msg":"stopped"' || fail "no 'stopped' line in the journal"
ok "systemctl stop: Result=success, exit status 0"

# --- Upgrade (the same package again): the postinst restarts the running service; data kept.
ct systemctl start spot-gateway.service
until_active 30 "after start"
pid=$(show MainPID)
ct dpkg -i /root/spot-gateway.deb >> "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "the upgrade"; }
until_active 30 "after the upgrade"
[ "$(show MainPID)" != "$pid" ] || fail "the upgrade did not restart the service"
api -H "X-API-Key: $key" http://127.0.0.1:8080/api/spots/4711 | tail -n 1 | grep -qx 200 || fail "the spot is gone after the upgrade"
ok "upgrade: restarted (pid $pid -> $(show MainPID)), the spot kept"

# --- Remove: stopped and masked, data and configuration kept. Purge: they go.
ct dpkg -r spot-gateway >> "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r"; }
[ "$(ct systemctl is-active spot-gateway.service || true)" = inactive ] || fail "still running after remove"
ct test -f /var/lib/spot-gateway/spot-gateway.db || fail "remove took the data"
ct test -f /etc/spot-gateway/gateway.yaml || fail "remove took the configuration"
ct dpkg -P spot-gateway >> "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -P"; }
ct test ! -e /var/lib/spot-gateway || fail "purge left /var/lib/spot-gateway"
ct test ! -e /etc/spot-gateway/gateway.yaml || fail "purge left the configuration"
ok "remove: stopped, data and configuration kept; purge: both gone"

ct systemctl poweroff 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
nspawn_pid=
