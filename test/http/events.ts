// Realistic spot events for the HTTP tests: JSON text as spots send it, and PB streams.
import { createPbEncoder, type SpotEventBody } from '../../gateway/src/protocol/index.js';

export function presence(i: number): SpotEventBody {
  return {
    resource: 'presence',
    action: i % 3 === 0 ? 'create' : 'update',
    data: {
      item_code: `e2801170000002${i.toString(16).padStart(10, '0')}`,
      item_codetype: 'EPC Gen2',
      time_started: '2026-03-01T08:00:01.250Z',
      time_last: new Date(Date.UTC(2026, 2, 1, 8, 0, 1) + i).toISOString(),
      proximity: ['immediate', 'near', 'far'][i % 3]!,
      hold_delay_s: 4,
      label: `tag ${i} ✓ "quoted"`,
    },
  };
}

export function spotCreate(serial: number): SpotEventBody {
  return { resource: 'spot', action: 'create', data: { spot_id: serial, version: '2.3.1', boot_count: 12, time: '2026-03-01T08:00:00Z' } };
}

/** JSON the way spots write it: some pretty-printed with tabs, blank lines and spaces between. */
export function jsonText(events: SpotEventBody[]): string {
  return events
    .map((e, i) =>
      i % 4 === 1
        ? `["${e.resource}","${e.action}",{\n\t${Object.entries(e.data)
            .map(([k, v]) => `"${k}":\t${JSON.stringify(v)}`)
            .join(',\n\t')}\n}]\n\n`
        : `${JSON.stringify([e.resource, e.action, e.data])}\n\n${i % 5 === 2 ? ' \n\n' : ''}`,
    )
    .join('');
}

export function pbStream(events: SpotEventBody[]): Buffer {
  const encoder = createPbEncoder();
  return Buffer.concat(events.map((e) => encoder.encode(e)));
}

/** Deterministic pseudo-random generator (xorshift32). */
export function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** Cuts bytes into pieces of 1..maxPiece bytes at random places. */
export function randomPieces(bytes: Uint8Array, maxPiece: number, random: () => number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxPiece);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}
