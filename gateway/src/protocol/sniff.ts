// Which encoding a stream uses: from its Content-Type, else from its first bytes.
import type { Encoding } from './types.js';

export const JSON_CONTENT_TYPE = 'text/x-intellifi-events';
export const PB_CONTENT_TYPE = 'application/x-intellifi-events-pb';

/** JSON whitespace: space, tab, line feed, carriage return (also json-decoder.ts). */
export function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** Index of the first byte at or after `from` that is not JSON whitespace, or -1. */
function significantFrom(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) if (!isWhitespace(bytes[i]!)) return i;
  return -1;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Decides from the first bytes alone, or undefined when more bytes are needed.
 * JSON starts `[`, whitespace, `"`, resource. A PB stream can start with 0x5b only as the
 * length of a 91-byte frame; then `"` can only follow at once (tag of config_update) and
 * is followed by a length <= 89, while a JSON resource name starts with a letter (> 0x59).
 */
function sniffBytes(bytes: Uint8Array): Encoding | undefined {
  const first = significantFrom(bytes, 0);
  if (first < 0) return undefined;
  if (bytes[first] !== 0x5b) return 'pb';
  const second = significantFrom(bytes, first + 1);
  if (second < 0) return undefined;
  if (bytes[second] !== 0x22) return 'pb';
  if (second > first + 1) return 'json';
  if (second + 1 >= bytes.length) return undefined;
  return bytes[second + 1]! > 0x59 ? 'json' : 'pb';
}

/** True when sniffEncoding can decide now: a known Content-Type, or enough first bytes. */
export function canSniff(contentType: string | undefined, firstBytes: Uint8Array): boolean {
  const type = mediaType(contentType);
  return type === JSON_CONTENT_TYPE || type === PB_CONTENT_TYPE || sniffBytes(firstBytes) !== undefined;
}

/**
 * The stream's encoding: from a known Content-Type, else JSON when the stream starts
 * (after whitespace) with `["`, else PB. Undecidable bytes (too few) give 'json':
 * call canSniff() first to wait for more (at most 3 significant bytes are needed).
 */
export function sniffEncoding(contentType: string | undefined, firstBytes: Uint8Array): Encoding {
  const type = mediaType(contentType);
  if (type === JSON_CONTENT_TYPE) return 'json';
  if (type === PB_CONTENT_TYPE) return 'pb';
  return sniffBytes(firstBytes) ?? 'json';
}
