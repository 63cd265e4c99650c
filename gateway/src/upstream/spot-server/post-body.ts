// A post's body and headers from stored events (docs/chaining.md, "What goes up"): the spot's encoding,
// its User-Agent, and numbering from the site's event ids that the spot server dedupes by.
import { createPbEncoder, JSON_CONTENT_TYPE, PB_CONTENT_TYPE, type Encoding } from '../../protocol/index.js';
import type { StoredEvent } from '../../store/types.js';

export type ChainEvent = Pick<StoredEvent, 'id' | 'spot' | 'resource' | 'action' | 'data' | 'encoding' | 'timeReceived'>;

/** Boots from one site's ids stay below this (mod); the instance tag above it (docs/chaining.md, "Numbering"). */
export const BOOT_ID_SPAN = 2 ** 37;
/** Instance tags: BOOT_ID_SPAN * INSTANCE_TAGS stays within the 15 digits of X-Spot-Boot. */
export const INSTANCE_TAGS = 4096;

/** A number in 0..INSTANCE_TAGS-1 from the store's instance id (FNV-1a over its text). */
export function instanceTag(instanceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < instanceId.length; i++) {
    h ^= instanceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % INSTANCE_TAGS;
}

/** X-Spot-Boot of a post whose first event has `firstId`: never the same for two posts of one spot in a row. */
export function bootOf(tag: number, firstId: number): number {
  return tag * BOOT_ID_SPAN + (firstId % BOOT_ID_SPAN);
}

/** The leading events that share the first one's encoding (a post has one): a spot that changed encoding splits there. */
export function sameEncodingPrefix<T extends { encoding: Encoding }>(events: readonly T[]): T[] {
  const first = events[0];
  if (!first) return [];
  let n = 1;
  while (n < events.length && events[n]!.encoding === first.encoding) n++;
  return events.slice(0, n);
}

export interface PostBody {
  encoding: Encoding;
  headers: Record<string, string>;
  chunks: Uint8Array[];
}

const utf8 = new TextEncoder();

/**
 * One chunk per event. JSON: the stored compact text, framed as the spot protocol frames it. PB: one
 * stream encoder per post (its send-layer tricks start empty with each body), from the stored object.
 * `events` is non-empty and of one encoding; an empty post (a poll for commands) has `events` empty.
 */
export function postBody(events: readonly ChainEvent[], encoding: Encoding, tag: number, userAgent: string | null, token: string): PostBody {
  const contentType = encoding === 'pb' ? PB_CONTENT_TYPE : JSON_CONTENT_TYPE;
  const headers: Record<string, string> = { 'Content-Type': contentType, Accept: contentType };
  if (userAgent !== null) headers['User-Agent'] = userAgent;
  if (token !== '') headers.Authorization = `Bearer ${token}`;
  const first = events[0];
  if (first) {
    headers['X-Spot-Boot'] = String(bootOf(tag, first.id));
    headers['X-Spot-Seq'] = '1';
  }
  const pb = encoding === 'pb' ? createPbEncoder() : null;
  const chunks = events.map((e) =>
    pb
      ? pb.encode({ resource: e.resource, action: e.action, data: JSON.parse(e.data) as Record<string, unknown> })
      : utf8.encode(`[${JSON.stringify(e.resource)},${JSON.stringify(e.action)},${e.data}]\n\n`),
  );
  return { encoding, headers, chunks };
}
