// The commands a spot server wrote into a post's answer, queued here for that spot (docs/chaining.md,
// "Commands"): decoded in the post's encoding, admitted like REST and MQTT commands, sent down in the
// spot's next reply.
import { createJsonDecoder, createPbDecoder, type Encoding } from '../../protocol/index.js';
import { describe } from '../options.js';

export interface RelayedCommand {
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

/**
 * Queues a command for a spot; throws or rejects (with the reason) when it is refused. It must take the command
 * in the call's own turn (as the admission does): the commands of one answer are handed over in order without
 * waiting for each other, and share the store's fsync.
 */
export type QueueCommand = (spot: string, command: RelayedCommand) => void | Promise<void>;

export interface RelayOutcome {
  queued: number;
  /** One line per command not queued: undecodable, or refused by the admission. */
  refused: string[];
}

/** The queueing, called now; a refusal thrown or rejected alike becomes the promise's rejection. */
async function queueOne(queue: QueueCommand, spot: string, command: RelayedCommand): Promise<void> {
  await queue(spot, command);
}

/** Decodes `body` (the answer to a post of `spot` in `encoding`) and queues each command, in order; resolves once each is queued (durable) or refused. */
export async function relayCommands(spot: string, body: Uint8Array, encoding: Encoding, queue: QueueCommand): Promise<RelayOutcome> {
  const outcome: RelayOutcome = { queued: 0, refused: [] };
  if (body.length === 0) return outcome;
  const decoder = encoding === 'pb' ? createPbDecoder() : createJsonDecoder();
  const queued: Array<{ what: string; done: Promise<void> }> = [];
  for (const item of [...decoder.push(body), ...decoder.end()]) {
    if (item.kind === 'rejected') {
      outcome.refused.push(`undecodable command at byte ${item.rejected.offset}: ${item.rejected.reason}`);
      continue;
    }
    const { resource, action, data } = item.event;
    queued.push({ what: `${resource} ${action}`, done: queueOne(queue, spot, { resource, action, data }) });
  }
  for (const { what, done } of queued) {
    try {
      await done;
      outcome.queued++;
    } catch (err) {
      outcome.refused.push(`${what}: ${describe(err)}`);
    }
  }
  return outcome;
}
