// The response body of a post: the spot's queued commands in the spot's encoding.
import { createPbEncoder, encodeJsonEvent, JSON_CONTENT_TYPE, PB_CONTENT_TYPE, type Encoding } from '../protocol/index.js';
import type { Command } from '../store/types.js';

export interface Reply {
  contentType: string;
  body: Uint8Array;
  /** Ids of the commands in the body, to be marked delivered once it is written. */
  commandIds: number[];
}

export function contentTypeOf(encoding: Encoding): string {
  return encoding === 'pb' ? PB_CONTENT_TYPE : JSON_CONTENT_TYPE;
}

/** JSON: compact framing per command; PB: one response stream (send-layer state starts empty). */
export function encodeReply(commands: Command[], encoding: Encoding): Reply {
  const parts: Uint8Array[] = [];
  const pb = encoding === 'pb' ? createPbEncoder() : null;
  for (const command of commands) {
    const event = { resource: command.resource, action: command.action, data: JSON.parse(command.data) as Record<string, unknown> };
    parts.push(pb ? pb.encode(event) : encodeJsonEvent(event));
  }
  return { contentType: contentTypeOf(encoding), body: Buffer.concat(parts), commandIds: commands.map((c) => c.id) };
}
