// A spot's queued commands as one reply body (a post's answer or one WebSocket message).
import type { Encoding } from '../protocol/index.js';
import type { Store } from '../store/types.js';
import type { CommandLeases } from './command-leases.js';
import type { IngestCounters } from './counters.js';
import { DEFAULT_MAX_REPLY_BYTES, encodeReply, type Reply } from './reply.js';

export interface PendingCommandsDeps {
  store: { commands: Pick<Store['commands'], 'pendingFor' | 'markFailed'> };
  now: () => number;
  logger: { warn(obj: object, msg: string): void };
  counters: IngestCounters;
  /** commands.max_reply_bytes. */
  maxReplyBytes?: number;
  /** Spots with a reply carrying commands being written: another reply of theirs carries none. */
  leases?: CommandLeases;
}

/**
 * The commands waiting for `serial` that fit one reply, in `encoding`. A command larger than any
 * reply can never go out: it fails now instead of blocking its spot's queue. A queue that cannot be
 * read gives an empty reply (the commands wait for the next one). While another reply of the spot
 * carries commands (`leases`), this one carries none: each command goes out in one reply, in order.
 * A reply with commands holds them until the caller settles it (SpotIngest delivered/undelivered/dropped).
 */
export function pendingReply(deps: PendingCommandsDeps, serial: string, encoding: Encoding): Reply {
  const maxReplyBytes = deps.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  if (deps.leases && !deps.leases.free(serial)) return encodeReply([], encoding);
  try {
    const reply = encodeReply(deps.store.commands.pendingFor(serial, deps.now(), maxReplyBytes), encoding, maxReplyBytes);
    if (reply.oversized.length > 0) failOversized(deps, serial, reply.oversized, maxReplyBytes);
    deps.leases?.take(serial, reply.commandIds);
    return reply;
  } catch (err) {
    deps.logger.warn({ spot: serial, reason: String(err) }, `spot ${serial}: queued commands not readable, answered without them`);
    return encodeReply([], encoding);
  }
}

function failOversized(deps: PendingCommandsDeps, serial: string, commands: Reply['oversized'], maxReplyBytes: number): void {
  const failed = deps.store.commands.markFailed(commands.map((c) => c.id), deps.now());
  deps.counters.commandsFailed += failed;
  const list = commands.map((c) => `${c.id} (${c.bytes} bytes)`).join(', ');
  deps.logger.warn(
    { spot: serial, commands: commands.map((c) => c.id) },
    `spot ${serial}: command(s) ${list} failed: larger than a reply may be (commands.max_reply_bytes ${maxReplyBytes})`,
  );
}
