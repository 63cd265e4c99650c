#!/usr/bin/env bash
# The mps2 bootloader under QEMU with its flash in a host file (docs/bootloader.md):
# A boots; B requested for a trial swaps in; a QEMU restart (power cycle) reverts the
# unconfirmed B; the same with a guest reset (QEMU's system_reset) instead of a restart;
# then QEMU ended by a power cut before flash operation N of the swap, for spread N, and
# restarted: A or B, byte for byte, never neither, and A in the end.
# Images are signed with the key the bootloader was built with (BOOT_KEY, default the
# development key); a B signed with another key must never be swapped in.
# Usage: firmware/test/boot-qemu-check.sh [cut points, default 24] [signing key]   (make boot-qemu-check)
set -euo pipefail
cd "$(dirname "$0")/../.."
BOOT=firmware/build/mps2-boot/boot.elf
APP=firmware/build/mps2/spot-slot.bin
POINTS=${1:-24}
KEY=${2:-firmware/build/keys/dev.pem}
[ -x node_modules/.bin/tsx ] || { echo "boot-qemu: node_modules missing (make setup): the images are signed by the gateway's image commands"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/cli.mjs" <<JS
import { runCli } from '$PWD/gateway/src/cli/index.ts';
process.exit(await runCli(process.argv.slice(2)));
JS
cli() { node_modules/.bin/tsx "$work/cli.mjs" "$@" >/dev/null; }
cli image keygen --out "$work/other"
cli image sign --key "$KEY" --version 1.0.0 --pad-header "$APP" "$work/A.img"
cli image sign --key "$KEY" --version 2.0.0 --pad-header "$APP" "$work/B.img"
cli image sign --key "$work/other" --version 2.0.0 --pad-header "$APP" "$work/C.img"
flash=$work/flash.bin

put() { dd of="$flash" bs=1 seek=$(($1)) conv=notrunc status=none; }
# A in the primary, B (or $1) in the secondary, requested for a trial (swap_info test, then the magic).
fresh() {
  head -c $((0x4A000)) /dev/zero | tr '\0' '\377' > "$flash"
  put 0x8000 < "$work/A.img"
  put 0x28000 < "$work/${1:-B}.img"
  printf '\x02' | put $((0x48000 - 40))
  printf '\x77\xc2\x95\xf3\x60\xd2\xef\x7f\x35\x52\x50\x0f\x2c\xb6\x79\x80' | put $((0x48000 - 16))
}
# One QEMU process (a power cycle); prints the bootloader's line, returns QEMU's exit code.
run() {
  local rc=0
  timeout 60 qemu-system-arm -M mps2-an385 -display none -serial "file:$work/uart.txt" -monitor none \
    -semihosting-config enable=on,target=native -kernel "$BOOT" \
    -append "--flash $flash --run-seconds 1 $*" > "$work/console.txt" 2>&1 || rc=$?
  grep -a -m1 '^boot:' "$work/uart.txt" || true
  return $rc
}
holds() { cmp -s -n "$(stat -c %s "$work/$2.img")" -i "$(($1)):0" "$flash" "$work/$2.img"; }
slots() {
  if holds 0x8000 A && holds 0x28000 B; then echo AB
  elif holds 0x8000 B && holds 0x28000 A; then echo BA
  else echo neither; fi
}
fail() { echo "boot-qemu: FAILED: $*"; exit 1; }

fresh C
refused=$(run) || fail "boot with an image signed by another key: exit $?"
holds 0x8000 A && holds 0x28000 C || fail "an image signed by another key was swapped in ($refused)"
echo "boot-qemu: another key: $refused"

fresh
first=$(run) || fail "trial boot exit $?"
[ "$(slots)" = BA ] || fail "after the trial swap: $(slots) ($first)"
ops=$(sed -n 's/.*(\([0-9]*\) flash operations.*/\1/p' <<< "$first")
second=$(run) || fail "revert boot exit $?"
[ "$(slots)" = AB ] || fail "after the restart: $(slots) ($second)"
echo "boot-qemu: $first"
echo "boot-qemu: $second"

# A guest reset: the flash stays in RAM, the file handle is taken over, the writes of the
# revert still reach the file.
fresh
mon=$work/monitor.sock
rm -f "$work/uart.txt"
qemu-system-arm -M mps2-an385 -display none -serial "file:$work/uart.txt" -monitor "unix:$mon,server,nowait" \
  -semihosting-config enable=on,target=native -kernel "$BOOT" -append "--flash $flash" > "$work/console.txt" 2>&1 &
qemu=$!
boots() { local n; n=$(grep -a -c '^boot:' "$work/uart.txt" 2>/dev/null) || true; echo "${n:-0}"; }
wait_for() { for _ in $(seq 200); do [ "$(boots)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
wait_for 1 || { kill $qemu; fail "no trial boot before the guest reset"; }
[ "$(slots)" = BA ] || { kill $qemu; fail "before the guest reset: $(slots)"; }
echo system_reset | socat - "unix-connect:$mon" > /dev/null
wait_for 2 || { kill $qemu; fail "no boot after the guest reset"; }
echo quit | socat - "unix-connect:$mon" > /dev/null || true
wait $qemu || true
reset_line=$(grep -a '^boot:' "$work/uart.txt" | sed -n 2p)
[ "$(slots)" = AB ] || fail "after the guest reset, in the file: $(slots) ($reset_line)"
echo "boot-qemu: guest reset: $reset_line"

cuts=0
for ((i = 0; i < POINTS; i++)); do
  n=$((POINTS > 1 ? 1 + i * (ops - 1) / (POINTS - 1) : ops / 2))
  fresh
  rc=0; run --power-cut-before "$n" > /dev/null || rc=$?
  [ $rc = 9 ] || fail "cut before operation $n: exit $rc, not the power cut"
  line=$(run) || fail "restart after the cut before operation $n: exit $?"
  state=$(slots)
  [ "$state" = AB ] || [ "$state" = BA ] || fail "cut before operation $n: $state ($line)"
  run > /dev/null || fail "second restart after the cut before operation $n"
  [ "$(slots)" = AB ] || fail "cut before operation $n: unconfirmed B not reverted ($(slots))"
  cuts=$((cuts + 1))
done
echo "boot-qemu: swap of $ops flash operations, $cuts QEMU power cuts, each ended with A or B intact, unconfirmed B reverted"
