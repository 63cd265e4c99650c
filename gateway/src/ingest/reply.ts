// The response body of a post: the spot's queued commands in the spot's encoding.
import { createPbEncoder, encodeJsonEvent, JSON_CONTENT_TYPE, PB_CONTENT_TYPE, type Encoding } from '../protocol/index.js';
import type { Command } from '../store/types.js';

export interface Reply {
  contentType: string;
  body: Uint8Array;
  /** Ids of the commands in the body, to be marked delivered once it is written. */
  commandIds: number[];
  /** Commands larger than any reply may be (queued before the bound, or under a larger one): never sent, to be failed. */
  oversized: Array<{ id: number; bytes: number }>;
}

/** commands.max_reply_bytes by default: one message at the protocol's limit. */
export const DEFAULT_MAX_REPLY_BYTES = 65536;

export function contentTypeOf(encoding: Encoding): string {
  return encoding === 'pb' ? PB_CONTENT_TYPE : JSON_CONTENT_TYPE;
}

/**
 * JSON: compact framing per command; PB: one response stream (send-layer state starts empty). Commands are
 * taken in order while the body stays within maxBytes; the rest wait for the next post. Commands carry no
 * timestamp or item code, so encoding one that is then left out does not disturb the PB stream's state.
 */
export function encodeReply(commands: Command[], encoding: Encoding, maxBytes = DEFAULT_MAX_REPLY_BYTES): Reply {
  const parts: Uint8Array[] = [];
  const commandIds: number[] = [];
  const oversized: Reply['oversized'] = [];
  const pb = encoding === 'pb' ? createPbEncoder() : null;
  let bytes = 0;
  for (const command of commands) {
    const event = { resource: command.resource, action: command.action, data: JSON.parse(command.data) as Record<string, unknown> };
    const part = pb ? pb.encode(event) : encodeJsonEvent(event);
    if (part.length > maxBytes) {
      oversized.push({ id: command.id, bytes: part.length });
      continue;
    }
    if (bytes + part.length > maxBytes) break;
    parts.push(part);
    commandIds.push(command.id);
    bytes += part.length;
  }
  return { contentType: contentTypeOf(encoding), body: Buffer.concat(parts), commandIds, oversized };
}
