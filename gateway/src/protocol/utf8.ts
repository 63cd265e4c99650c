// Whether bytes are UTF-8, without decoding them or throwing: a fatal TextDecoder throws, with a
// stack trace, and a garbage run would pay that for every message of a few bytes.

/** True when buf[from..to) is well-formed UTF-8: what a fatal TextDecoder accepts. */
export function isUtf8(buf: Uint8Array, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const more = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (more === 0 || i + more >= to) return false;
    // The second byte's range excludes overlong forms, surrogates and code points over U+10FFFF.
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    const second = buf[i + 1]!;
    if (second < low || second > high) return false;
    for (let k = 2; k <= more; k++) {
      const c = buf[i + k]!;
      if (c < 0x80 || c > 0xbf) return false;
    }
    i += more + 1;
  }
  return true;
}
