// Commands from the broker: strict parsing of topic and payload into a command for a spot.
import { decodeFrame } from '../protocol/index.js';
import type { Encoding, SpotEventBody } from '../protocol/types.js';
import type { Parsed, Topics } from './topics.js';

/** The default of commands.max_bytes: the largest command payload taken. */
export const MAX_COMMAND_BYTES = 65536;

/**
 * Thrown by `onCommand` when a valid command could not be queued now (the store cannot write): the
 * message is not acknowledged, and is tried again (docs/mqtt.md, "Downstream: commands").
 */
export class CommandNotQueued extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandNotQueued';
  }
}

export interface SpotCommand {
  spot: string;
  resource: string;
  action: string;
  /** The command object (JSON form; for PB, as the decoder converted it). */
  data: Record<string, unknown>;
  encoding: Encoding;
  /** PB only: the Frame bytes as received. */
  pb?: Uint8Array;
}

/** Turns one PB Frame into [resource, action, object]; supplied by the gateway (protocol codecs). */
export type PbCommandDecoder = (frame: Uint8Array) => Parsed<SpotEventBody>;

/** The default: the project's PB codec (one Frame, no prefix, no send-layer tricks). */
export const decodePbFrame: PbCommandDecoder = (frame) => {
  const decoded = decodeFrame(frame);
  if (!decoded.ok) return decoded;
  const { resource, action, data } = decoded.event;
  return { ok: true, value: { resource, action, data } };
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseCommandMessage(
  topics: Topics,
  topic: string,
  payload: Uint8Array,
  decodePb: PbCommandDecoder | undefined,
  maxBytes = MAX_COMMAND_BYTES,
): Parsed<SpotCommand> {
  const parsed = topics.parseCommand(topic);
  if (!parsed.ok) return parsed;
  const where = parsed.value;
  if (payload.length > maxBytes) {
    return { ok: false, reason: `${topic}: payload of ${payload.length} bytes is over ${maxBytes} bytes` };
  }
  if (where.encoding === 'pb') {
    if (!decodePb) return { ok: false, reason: `${topic}: no PB decoder configured, PB commands cannot be read` };
    let frame: Parsed<SpotEventBody>;
    try {
      frame = decodePb(payload);
    } catch (err) {
      frame = { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
    if (!frame.ok) return { ok: false, reason: `${topic}: ${frame.reason}` };
    const { resource, action, data } = frame.value;
    return { ok: true, value: { spot: where.spot, resource, action, data, encoding: 'pb', pb: payload } };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, reason: `${topic}: payload is not UTF-8` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `${topic}: payload is not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: `${topic}: payload is not a JSON object` };
  }
  return {
    ok: true,
    value: {
      spot: where.spot,
      resource: where.resource,
      action: where.action,
      data: data as Record<string, unknown>,
      encoding: 'json',
    },
  };
}
