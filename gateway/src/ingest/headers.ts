// What a post's URL and headers say about the spot: serial, numbering, firmware version.

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A spot serial is a positive integer; kept as its decimal text without leading zeros. */
export function parseSerial(text: string): Checked<string> {
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // Undecodable escapes are reported below as they are.
  }
  if (!/^\d{1,16}$/.test(decoded)) return { ok: false, reason: `serial "${decoded.slice(0, 40)}" is not a positive integer` };
  const value = Number(decoded);
  if (value <= 0 || !Number.isSafeInteger(value)) {
    return { ok: false, reason: `serial "${decoded}" is not a positive integer` };
  }
  return { ok: true, value: String(value) };
}

export interface PostNumbering {
  boot: number;
  /** Seq of the post's first message (docs/protocol.md). */
  seq: number;
}

function headerInteger(name: string, text: string, min: number): Checked<number> {
  const trimmed = text.trim();
  if (!/^\d{1,15}$/.test(trimmed) || Number(trimmed) < min) {
    return { ok: false, reason: `${name} "${text.slice(0, 40)}" is not an integer >= ${min}` };
  }
  return { ok: true, value: Number(trimmed) };
}

/** X-Spot-Boot and X-Spot-Seq come together or not at all. */
export function parseNumbering(boot: string | undefined, seq: string | undefined): Checked<PostNumbering | null> {
  if (boot === undefined && seq === undefined) return { ok: true, value: null };
  if (boot === undefined || seq === undefined) {
    return { ok: false, reason: 'X-Spot-Boot and X-Spot-Seq must be sent together' };
  }
  const b = headerInteger('X-Spot-Boot', boot, 0);
  if (!b.ok) return b;
  const s = headerInteger('X-Spot-Seq', seq, 1);
  if (!s.ok) return s;
  return { ok: true, value: { boot: b.value, seq: s.value } };
}

/**
 * Content-Encoding: only identity (absent, or `identity` in any case) is read; a coded body (gzip, ...) is
 * refused before it is read rather than rejected message by message.
 */
export function checkContentEncoding(value: string | undefined): Checked<null> {
  if (value === undefined) return { ok: true, value: null };
  const codings = value.split(',').map((c) => c.trim().toLowerCase());
  if (codings.every((c) => c === 'identity' || c === '')) return { ok: true, value: null };
  return { ok: false, reason: `Content-Encoding ${JSON.stringify(value.slice(0, 40))} is not decoded here, only identity: send the events uncompressed` };
}

/** `User-Agent: spot/<version>` -> version; anything else -> null (not a spot's agent string). */
export function firmwareFromUserAgent(userAgent: string | undefined): string | null {
  const match = /^spot\/(\S{1,64})/.exec(userAgent ?? '');
  return match ? match[1]! : null;
}

/**
 * Sent by a gateway's spot-server upstream with every post (docs/chaining.md): its store's instance
 * id. A gateway receiving its own id is posting to itself and refuses the post with 508.
 */
export const GATEWAY_INSTANCE_HEADER = 'x-spot-gateway-instance';
