// Kinds of garbage a decoder must skip cheaply, 1 MB each by default: shared by make bench-codec and the tests.

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` bytes of `pattern` repeated (the last copy cut short). */
function repeated(pattern: number[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = pattern[i % pattern.length]!;
  return out;
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

export interface GarbageKind {
  name: string;
  /** What it is, for the bench's table and the tests' titles. */
  what: string;
  make(size: number): Uint8Array;
}

export const GARBAGE_KINDS: readonly GarbageKind[] = [
  { name: 'zeros', what: 'zero bytes (PB: an empty frame per byte)', make: (n) => new Uint8Array(n) },
  {
    name: 'random',
    what: 'random bytes',
    make: (n) => {
      const rnd = random(4711);
      return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    },
  },
  { name: 'ff', what: '0xFF bytes (PB: a length prefix that is no varint)', make: (n) => new Uint8Array(n).fill(0xff) },
  { name: 'prefix64k', what: 'length prefixes of 65536 in a row (PB: each swallows the next 64 KiB)', make: (n) => repeated([0x80, 0x80, 0x04], n) },
  { name: 'square', what: 'a run of "[" (JSON: one message nesting ever deeper)', make: (n) => new Uint8Array(n).fill(0x5b) },
  { name: 'quote', what: 'a run of \'"\'', make: (n) => new Uint8Array(n).fill(0x22) },
  { name: 'unterminated', what: 'one string that never ends: ["xxx...', make: (n) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x5b : i === 1 ? 0x22 : 0x78)) },
  { name: 'whitespace', what: 'spaces, tabs, CR and LF', make: (n) => repeated(ascii(' \t \r\n'), n) },
  { name: 'tiny-frames', what: 'frames of one byte, 01 00 (PB: a malformed frame per two bytes)', make: (n) => repeated([0x01, 0x00], n) },
  { name: 'tiny-messages', what: '["a",<blank line> (JSON: an unterminated message per 7 bytes)', make: (n) => repeated(ascii('["a",\n\n'), n) },
  { name: 'empty-arrays', what: '[] in a row (JSON: a message that is no event per 2 bytes)', make: (n) => repeated(ascii('[]'), n) },
  { name: 'near-valid-json', what: 'JSON messages well framed, invalid inside: ["a","b",{"x":1,}]', make: (n) => repeated(ascii('["a","b",{"x":1,}]\n\n'), n) },
  { name: 'near-valid-pb', what: 'PB frames well formed, invalid inside: 04 32 02 10 3c (unknown item reference)', make: (n) => repeated([0x04, 0x32, 0x02, 0x10, 0x3c], n) },
  { name: 'bad-utf8-json', what: 'JSON messages whose text is not UTF-8: ["\\xff","b",{}]', make: (n) => repeated([...ascii('["'), 0xff, ...ascii('","b",{}]\n\n')], n) },
  { name: 'bad-utf8-pb', what: 'PB log frames whose text is not UTF-8: 06 92 01 03 12 01 ff', make: (n) => repeated([0x06, 0x92, 0x01, 0x03, 0x12, 0x01, 0xff], n) },
];
